//! Everything that speaks to WeChat: the typed endpoints ([`api`]), the HTTP client
//! ([`client`]), the errcode catalogue ([`errcode`]), tokens ([`token`]), media uploads
//! ([`media`]) and the mp.weixin.qq.com links ops staff send to merchants ([`links`]).
//!
//! [`Api`] ties them together: it picks the right token for a call, retries once with a fresh
//! token when WeChat rejects one, and writes every call to the ledger's event log.

pub mod api;
pub mod categories;
pub mod client;
pub mod errcode;
pub mod lenient;
pub mod links;
pub mod media;
pub mod token;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use api::Endpoint;
pub use client::{ApiError, Client};
pub use errcode::ErrClass;
pub use token::{ComponentCreds, Tokens};

use crate::ledger::{now_millis, CallEvent, Ledger};
use crate::secret::Secret;

/// The path a request goes to (for the event log).
pub fn api_path<E: Endpoint>(_req: &E) -> &'static str {
    E::PATH
}

/// Writes each call to the ledger's event log and counts calls per API for reports.
#[derive(Clone)]
pub struct CallLog {
    ledger: Ledger,
    run_id: Option<String>,
    total: Arc<AtomicU64>,
    per_api: Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
}

impl CallLog {
    pub fn new(ledger: Ledger, run_id: Option<String>) -> CallLog {
        CallLog { ledger, run_id, total: Arc::default(), per_api: Arc::default() }
    }

    /// Records one call's outcome; a ledger failure is logged, never fails the call.
    pub async fn record<T>(&self, appid: Option<&str>, api: &str, result: &Result<T, ApiError>, started: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self.per_api.lock().unwrap_or_else(|e| e.into_inner()).entry(api.to_string()).or_default() += 1;
        let (errcode, outcome) = match result {
            Ok(_) => (Some(0), "ok".to_string()),
            Err(ApiError::WeChat { code, .. }) => (Some(*code), "errcode".to_string()),
            Err(ApiError::Http { status, .. }) => (None, format!("http {status}")),
            Err(ApiError::Timeout { .. }) => (None, "timeout".to_string()),
            Err(ApiError::Connection { .. }) => (None, "connection".to_string()),
            Err(ApiError::Decode { .. }) => (None, "decode".to_string()),
            Err(ApiError::Token(_)) => (None, "token".to_string()),
        };
        let event = CallEvent {
            at_ms: now_millis(),
            run_id: self.run_id.clone(),
            appid: appid.map(str::to_string),
            api: api.to_string(),
            errcode,
            duration_ms: started.elapsed().as_millis() as i64,
            outcome,
        };
        if let Err(e) = self.ledger.record_call(event).await {
            tracing::warn!("could not record a call in the ledger: {e}");
        }
    }

    /// Calls made so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Calls made so far, per API path.
    pub fn per_api(&self) -> std::collections::BTreeMap<String, u64> {
        self.per_api.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The WeChat API as the rest of wxprov sees it: typed calls on behalf of an appid.
pub struct Api {
    pub client: Client,
    pub tokens: Tokens,
    pub ledger: Ledger,
    pub calls: CallLog,
}

impl Api {
    pub fn new(
        client: Client,
        ledger: Ledger,
        creds: ComponentCreds,
        token_command: Option<String>,
        run_id: Option<String>,
    ) -> Api {
        let calls = CallLog::new(ledger.clone(), run_id);
        let tokens = Tokens::new(client.clone(), ledger.clone(), creds, token_command, calls.clone());
        Api { client, tokens, ledger, calls }
    }

    pub fn component_appid(&self) -> &str {
        self.tokens.component_appid()
    }

    /// Calls `req` with `appid`'s authorizer token; on a token error (40001/40014/42001)
    /// drops that token if still cached, refreshes and calls once more.
    pub async fn call<E: Endpoint>(&self, appid: &str, req: &E) -> Result<E::Response, ApiError> {
        self.with_token(Some(appid), req).await
    }

    /// Calls a component endpoint (`component_access_token`).
    pub async fn call_component<E: Endpoint>(&self, req: &E) -> Result<E::Response, ApiError> {
        self.with_token(None, req).await
    }

    async fn with_token<E: Endpoint>(&self, appid: Option<&str>, req: &E) -> Result<E::Response, ApiError> {
        let mut retried = false;
        loop {
            let token = self.token_for(appid).await?;
            let started = Instant::now();
            let result = self.client.call(Some(&token), req).await;
            self.calls.record(appid.or(Some(self.component_appid())), E::PATH, &result, started).await;
            match result {
                Err(e) if e.class() == ErrClass::Token && !retried => {
                    retried = true;
                    self.invalidate(appid, &token).await;
                }
                other => return other,
            }
        }
    }

    async fn token_for(&self, appid: Option<&str>) -> Result<Secret, ApiError> {
        match appid {
            Some(appid) => self.tokens.authorizer(appid).await,
            None => self.tokens.component().await,
        }
    }

    async fn invalidate(&self, appid: Option<&str>, token: &Secret) {
        match appid {
            Some(appid) => self.tokens.invalidate(appid, token).await,
            None => self.tokens.invalidate_component(token).await,
        }
    }
}

/// True for an appid: `wx` followed by 16 hex digits.
pub fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}
