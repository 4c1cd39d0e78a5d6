//! Tokens: the component access token and every authorizer's access token.
//!
//! The component token comes from the app secret and the verify ticket WeChat pushes every
//! ten minutes; an authorizer's from its refresh token. Both live about two hours and are
//! cached in memory and in the ledger, refreshed a safety margin before they expire. One
//! refresh at a time per appid: tasks that need the same token while it is being refreshed
//! wait for that refresh instead of starting their own (otherwise each would invalidate the
//! token the previous one got). A token WeChat rejects is dropped only if it is still the
//! cached one, so a burst of failures causes one refresh, not a storm.
//!
//! Platforms that already run a token service set `WXPROV_TOKEN_COMMAND`: wxprov then runs
//! `CMD APPID` (or `CMD --component`) for each token and never refreshes one itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::api::{ApiAuthorizerToken, ApiComponentToken};
use super::client::{ApiError, Client};
use super::errcode::ErrClass;
use super::Endpoint;
use crate::ledger::{now_secs, AuthorizerTokens, Ledger, TicketKind, TokenKind};
use crate::secret::Secret;

/// Refresh this long before a token expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How long a verify ticket lives (12 h, NOTES.md).
pub const VERIFY_TICKET_TTL_SECS: i64 = 12 * 3600;

/// The third-party platform's identity and secrets.
#[derive(Debug, Clone, Default)]
pub struct ComponentCreds {
    pub appid: String,
    pub secret: Option<Secret>,
    /// From `WXPROV_COMPONENT_VERIFY_TICKET`: the fallback, used when `serve` stored none in
    /// the last 12 hours (a ticket's life).
    pub verify_ticket: Option<Secret>,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    expires_at: i64,
}

/// The token source for every call wxprov makes.
pub struct Tokens {
    client: Client,
    ledger: Ledger,
    creds: ComponentCreds,
    command: Option<String>,
    calls: super::CallLog,
    cache: Mutex<HashMap<String, Cached>>,
    /// What the ledger held for each authorizer when a run started ([`Tokens::preload`]):
    /// read once for all instead of once per appid, and used at most once — afterwards, for
    /// an appid not in it, and once a token of that appid was rejected, the ledger is asked.
    preloaded: Mutex<HashMap<String, AuthorizerTokens>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    refreshes: AtomicU64,
}

impl Tokens {
    pub fn new(
        client: Client,
        ledger: Ledger,
        creds: ComponentCreds,
        command: Option<String>,
        calls: super::CallLog,
    ) -> Tokens {
        Tokens {
            client,
            ledger,
            creds,
            command,
            calls,
            cache: Mutex::new(HashMap::new()),
            preloaded: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            refreshes: AtomicU64::new(0),
        }
    }

    pub fn component_appid(&self) -> &str {
        &self.creds.appid
    }

    /// How many tokens this process fetched (from WeChat or the token command).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Reads every authorizer's tokens from the ledger in one go, so a run's first call for
    /// each appid does not wait for a read of its own.
    pub async fn preload(&self) -> Result<(), ApiError> {
        let all = self.ledger.all_authorizer_tokens().await.map_err(ledger_err)?;
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // A token already in memory is newer than (or the same as) the ledger's.
        let unseen = all.into_iter().filter(|(appid, _)| !cache.contains_key(appid));
        *self.preloaded.lock().unwrap_or_else(|e| e.into_inner()) = unseen.collect();
        Ok(())
    }

    /// Stores an authorizer's refresh token (a registration's, a recovered one) and forgets
    /// what this process held for that appid, so its next token comes from the new one.
    pub async fn store_refresh_token(&self, appid: &str, refresh: &Secret, source: &str) -> Result<(), ApiError> {
        self.ledger.put_refresh_token(appid, refresh, source).await.map_err(ledger_err)?;
        self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        Ok(())
    }

    /// The component access token.
    pub async fn component(&self) -> Result<Secret, ApiError> {
        if self.creds.appid.is_empty() {
            return Err(ApiError::Setup(
                "WXPROV_COMPONENT_APPID is not set: set it to the third-party platform's appid".into(),
            ));
        }
        let key = self.creds.appid.clone();
        self.get(&key, TokenKind::Component).await
    }

    /// The access token of an authorizer (an official account or a mini-program).
    pub async fn authorizer(&self, appid: &str) -> Result<Secret, ApiError> {
        self.get(appid, TokenKind::Authorizer).await
    }

    /// Forgets `failed` for `appid` if it is still the cached token, so the next request
    /// refreshes it; a token another task has already replaced is left alone.
    pub async fn invalidate(&self, appid: &str, failed: &Secret) {
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.get(appid).is_some_and(|c| &c.token == failed) {
                cache.remove(appid);
            }
        }
        self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        if let Err(e) = self.ledger.drop_access_token_if(appid, failed).await {
            tracing::warn!("could not drop a rejected token from the ledger: {e}");
        }
    }

    /// Invalidates the component token after a token-class error.
    pub async fn invalidate_component(&self, failed: &Secret) {
        let key = self.creds.appid.clone();
        self.invalidate(&key, failed).await
    }

    fn fresh(&self, key: &str) -> Option<Secret> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).filter(|c| is_fresh(c.expires_at)).map(|c| c.token.clone())
    }

    async fn get(&self, key: &str, kind: TokenKind) -> Result<Secret, ApiError> {
        if let Some(token) = self.fresh(key) {
            return Ok(token);
        }
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(key.to_string()).or_default().clone()
        };
        let _guard = lock.lock().await;
        // Whoever held the lock before us may have refreshed it already.
        if let Some(token) = self.fresh(key) {
            return Ok(token);
        }
        // One read for both: the cached access token, and the refresh token to renew it.
        let preloaded = self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        let (cached, refresh) = match preloaded {
            Some(tokens) => tokens,
            None => self.ledger.authorizer_tokens(key).await.map_err(ledger_err)?,
        };
        if let Some((token, expires_at)) = cached.filter(|(_, e)| is_fresh(*e)) {
            self.remember(key, &token, expires_at);
            return Ok(token);
        }
        let (token, expires_at) = match &self.command {
            // The component's token service failing stops the run like a missing secret would.
            Some(cmd) => self.run_token_command(cmd, key, kind).await.map_err(|e| match (kind, e) {
                (TokenKind::Component, ApiError::Token(message)) => ApiError::Setup(message),
                (_, e) => e,
            })?,
            None => match kind {
                TokenKind::Component => self.fetch_component().await?,
                TokenKind::Authorizer => self.fetch_authorizer(key, refresh).await?,
            },
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        self.remember(key, &token, expires_at);
        Ok(token)
    }

    fn remember(&self, key: &str, token: &Secret, expires_at: i64) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(key.to_string(), Cached { token: token.clone(), expires_at });
    }

    async fn fetch_component(&self) -> Result<(Secret, i64), ApiError> {
        let secret = self.creds.secret.clone().ok_or_else(|| {
            ApiError::Setup(
                "the component app secret is not set: set WXPROV_COMPONENT_SECRET or WXPROV_COMPONENT_SECRET_FILE"
                    .into(),
            )
        })?;
        // The newest ticket `serve` stored wins while it lives (12 h); the environment's,
        // which carries no time, is the fallback.
        let since = now_secs() - VERIFY_TICKET_TTL_SECS;
        let stored = self
            .ledger
            .newest_ticket(TicketKind::ComponentVerify, &self.creds.appid, since)
            .await
            .map_err(ledger_err)?;
        let ticket = match stored.map(Secret::new).or_else(|| self.creds.verify_ticket.clone()) {
            Some(ticket) => ticket,
            None => {
                return Err(ApiError::Token(
                    "no component_verify_ticket: run `wxprov serve` so WeChat can push one (it does every 10 \
                     minutes), or set WXPROV_COMPONENT_VERIFY_TICKET"
                        .into(),
                ))
            }
        };
        let req = ApiComponentToken {
            component_appid: self.creds.appid.clone(),
            component_appsecret: secret,
            component_verify_ticket: ticket,
        };
        let path = ApiComponentToken::PATH;
        let got = self
            .calls
            .send(Some(&self.creds.appid), path, 0, ApiComponentToken::TOKEN, false, || self.client.call(None, &req))
            .await?;
        let expires_at = refresh_deadline(got.expires_in);
        self.ledger
            .put_access_token(&self.creds.appid, TokenKind::Component, &got.component_access_token, expires_at, None)
            .await
            .map_err(ledger_err)?;
        Ok((got.component_access_token, expires_at))
    }

    async fn fetch_authorizer(&self, appid: &str, refresh: Option<Secret>) -> Result<(Secret, i64), ApiError> {
        let refresh = refresh.ok_or_else(|| ApiError::NoRefreshToken { appid: appid.to_string() })?;
        let req = ApiAuthorizerToken {
            component_appid: self.creds.appid.clone(),
            authorizer_appid: appid.to_string(),
            authorizer_refresh_token: refresh,
        };
        let mut retried = false;
        let got = loop {
            // Boxed: fetching an authorizer token may first fetch the component token.
            let component = Box::pin(self.component()).await?;
            let path = ApiAuthorizerToken::PATH;
            let result = self
                .calls
                .send(Some(appid), path, 0, ApiAuthorizerToken::TOKEN, false, || {
                    self.client.call(Some(&component), &req)
                })
                .await;
            match result {
                Err(e) if e.class() == ErrClass::Token && !retried => {
                    retried = true;
                    self.invalidate_component(&component).await;
                }
                other => break other?,
            }
        };
        let expires_at = refresh_deadline(got.expires_in);
        let rotated =
            got.authorizer_refresh_token.as_ref().filter(|r| r.expose() != req.authorizer_refresh_token.expose());
        match rotated {
            // A new refresh token replaces the old one before anything else.
            Some(new) => self
                .ledger
                .put_access_token(appid, TokenKind::Authorizer, &got.authorizer_access_token, expires_at, Some(new))
                .await
                .map_err(ledger_err)?,
            None => self.ledger.put_access_token_later(
                appid,
                TokenKind::Authorizer,
                &got.authorizer_access_token,
                expires_at,
            ),
        }
        Ok((got.authorizer_access_token, expires_at))
    }

    async fn run_token_command(&self, cmd: &str, key: &str, kind: TokenKind) -> Result<(Secret, i64), ApiError> {
        let arg = match kind {
            TokenKind::Component => "--component",
            TokenKind::Authorizer => key,
        };
        let output = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{cmd} \"$1\""))
            .arg("wxprov-token-command")
            .arg(arg)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .await
            .map_err(|e| ApiError::Token(format!("WXPROV_TOKEN_COMMAND could not be started: {e}")))?;
        if !output.status.success() {
            return Err(ApiError::Token(format!(
                "WXPROV_TOKEN_COMMAND failed for {arg} ({}); check the token service",
                output.status
            )));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            access_token: Secret,
            #[serde(default, deserialize_with = "super::lenient::i64_any")]
            expires_in: i64,
        }
        // Never echo the output: it holds the token.
        let answer: Answer = serde_json::from_slice(&output.stdout).map_err(|_| {
            ApiError::Token(format!(
                "WXPROV_TOKEN_COMMAND printed no JSON like {{\"access_token\": \"...\", \"expires_in\": 7200}} for {arg}"
            ))
        })?;
        Ok((answer.access_token, refresh_deadline(answer.expires_in)))
    }
}

/// When a token that lives `expires_in` seconds from now should be refreshed: the safety
/// margin before its expiry, or half its life for short-lived tokens. This is what the cache
/// and the ledger store as the token's expiry.
fn refresh_deadline(expires_in: i64) -> i64 {
    let ttl = if expires_in > 0 { expires_in } else { 7200 };
    now_secs() + ttl - (REFRESH_MARGIN.as_secs() as i64).min(ttl / 2)
}

fn is_fresh(deadline: i64) -> bool {
    deadline > now_secs()
}

/// A token store that cannot be read or written stops the run (`stop` class): nothing can
/// be called, and nothing in the sheet is at fault.
fn ledger_err(e: crate::ledger::LedgerError) -> ApiError {
    ApiError::Store(super::client::StoreError::new(e))
}
