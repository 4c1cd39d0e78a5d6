//! wxprov's side of speaking to WeChat. The protocol and client are wechat-open's (the typed
//! endpoints, the HTTP client, [`ApiError`], the pacer, the call log), imported from
//! `wechat_open` where they are used. What is wxprov's: the errcode hints ([`errcode`],
//! [`Hint`]), tokens ([`token`]), and the ledger-backed caches of [`Api`] (media uploads,
//! the category tree, stated limits, permission sets).
//!
//! [`Api`] ties them together: it picks the right token for a call, retries once with a fresh
//! token when WeChat rejects one, and hands every call to the ledger's event log.

pub mod audit_pool;
pub mod categories;
pub mod errcode;
pub mod funcscope;
pub mod hint;
pub mod media;
pub mod pacing;
pub mod stated;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

pub use hint::Hint;
pub use token::Tokens;

use wechat_open::api::{self, Endpoint};
use wechat_open::calls::{self, request_key, CallLog};
use wechat_open::error::StoreError;
use wechat_open::pacing::Pacer;
use wechat_open::tokens::ComponentCreds;
use wechat_open::{ApiError, Client};

use crate::ledger::{Ledger, Queued};

/// How calls are paced and retried, with wxprov's [`Interrupt`](crate::interrupt::Interrupt);
/// [`Api::new`] hands them to the call log as wechat-open's [`calls::CallOptions`].
#[derive(Clone)]
pub struct CallOptions {
    pub pacer: Option<Arc<Pacer>>,
    /// Sends per call and step for transient failures (`retry` class).
    pub max_attempts: u32,
    /// The first backoff; doubled on each attempt, with jitter.
    pub backoff: Duration,
    /// Once it is signalled, no call starts and waits before calls end (DESIGN §6).
    pub interrupt: Option<crate::interrupt::Interrupt>,
}

impl Default for CallOptions {
    fn default() -> Self {
        let calls::CallOptions { pacer, max_attempts, backoff, .. } = calls::CallOptions::default();
        CallOptions { pacer, max_attempts, backoff, interrupt: None }
    }
}

impl From<CallOptions> for calls::CallOptions {
    fn from(options: CallOptions) -> calls::CallOptions {
        let interrupt = options.interrupt.map(|i| Arc::new(i) as Arc<dyn calls::Interruption>);
        calls::CallOptions {
            pacer: options.pacer,
            max_attempts: options.max_attempts,
            backoff: options.backoff,
            interrupt,
        }
    }
}

impl calls::Interruption for crate::interrupt::Interrupt {
    fn interrupted(&self) -> bool {
        self.check().is_err()
    }

    fn wait(&self) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(self.signals(1))
    }
}

/// The WeChat API as the rest of wxprov sees it: typed calls on behalf of an appid.
pub struct Api {
    pub client: Client,
    pub tokens: Tokens,
    pub ledger: Ledger,
    pub calls: CallLog,
    /// The platform's audit quota as this run counts it (one pool for every row).
    pub audit_pool: audit_pool::AuditPool,
}

impl Api {
    pub fn new(
        client: Client,
        ledger: Ledger,
        creds: ComponentCreds,
        token_command: Option<String>,
        run_id: Option<String>,
        options: CallOptions,
    ) -> Api {
        let calls = CallLog::new(Arc::new(ledger.clone()), run_id, options.into());
        let tokens = Tokens::new(client.clone(), ledger.clone(), creds, token_command, calls.clone());
        Api { client, tokens, ledger, calls, audit_pool: Default::default() }
    }

    pub fn component_appid(&self) -> &str {
        self.tokens.component_appid()
    }

    /// Calls `req` with `appid`'s authorizer token; on a token error (40001/40014/42001)
    /// drops that token if still cached, refreshes and calls once more.
    pub async fn call<E: Endpoint>(&self, appid: &str, req: &E) -> Result<E::Response, ApiError> {
        self.with_token(Some(appid), req).await
    }

    /// [`Api::call`], sent only once `started` — the step's durable record that the call is
    /// about to be sent (DESIGN §4) — is committed; the record is written while the call
    /// waits for its turn ([`calls::Before`]). A record that could not be written is a
    /// store failure (class `stop`), and nothing is sent.
    pub async fn call_after<E: Endpoint>(
        &self,
        appid: &str,
        req: &E,
        started: Option<Queued>,
    ) -> Result<E::Response, ApiError> {
        let before = started.map(|started| -> calls::Before<'static> {
            Box::pin(async move { started.await.map_err(|e| ApiError::Store(StoreError::new(e))) })
        });
        self.with_token_after(Some(appid), req, before).await
    }

    /// Calls a component endpoint (`component_access_token`).
    pub async fn call_component<E: Endpoint>(&self, req: &E) -> Result<E::Response, ApiError> {
        self.with_token(None, req).await
    }

    async fn with_token<E: Endpoint>(&self, appid: Option<&str>, req: &E) -> Result<E::Response, ApiError> {
        self.with_token_after(appid, req, None).await
    }

    async fn with_token_after<E: Endpoint>(
        &self,
        appid: Option<&str>,
        req: &E,
        before: Option<calls::Before<'static>>,
    ) -> Result<E::Response, ApiError> {
        let logged_appid = appid.or(Some(self.component_appid()));
        let request = request_key(req);
        // Waited for by the first send only, whether or not a token error sends it again.
        let before = std::sync::Mutex::new(before);
        let before = &before;
        self.tokens
            .with_token(appid, |token| async move {
                if let (Some(appid), wechat_open::TokenKind::Authorizer) = (appid, E::TOKEN) {
                    self.heed_stated_limit(E::PATH, appid, &token).await;
                }
                let call = || self.client.call(Some(&token), req);
                let before = before.lock().unwrap_or_else(|e| e.into_inner()).take();
                self.calls.send_after(logged_appid, E::PATH, request, E::TOKEN, E::CHANGES_STATE, before, call).await
            })
            .await
    }

    /// Every authorizer of the platform with its refresh token, paging through
    /// `api_get_authorizer_list` (500 a page): how lost refresh tokens are recovered.
    pub async fn authorizers(&self) -> Result<Vec<api::AuthorizerListItem>, ApiError> {
        const PAGE: u32 = 500;
        let (mut offset, mut all) = (0u32, Vec::new());
        loop {
            let req =
                api::ApiGetAuthorizerList { component_appid: self.component_appid().to_string(), offset, count: PAGE };
            let page = self.call_component(&req).await?;
            offset += page.list.len() as u32;
            let last = page.list.is_empty() || offset as i64 >= page.total_count;
            all.extend(page.list);
            if last {
                return Ok(all);
            }
        }
    }

    /// Stores what an authorization (`api_query_auth`) gave: the refresh token first (the
    /// only way back to the account), then the permission sets it granted.
    pub async fn store_authorization(&self, info: &api::AuthorizationInfo, source: &str) -> Result<(), ApiError> {
        let appid = &info.authorizer_appid;
        self.tokens.store_refresh_token(appid, &info.authorizer_refresh_token, source).await?;
        self.ledger
            .put_permissions(appid, &info.func_ids(), source)
            .await
            .map_err(|e| ApiError::Setup(format!("the permission sets could not be stored: {e}")))
    }

    /// The permission sets `appid` granted the platform, as `api_get_authorizer_info` says.
    pub async fn authorizer_func_ids(&self, appid: &str) -> Result<Vec<i64>, ApiError> {
        let req = api::ApiGetAuthorizerInfo {
            component_appid: self.component_appid().to_string(),
            authorizer_appid: appid.to_string(),
        };
        Ok(api::func_ids(&self.call_component(&req).await?.authorization_info.func_info))
    }
}
