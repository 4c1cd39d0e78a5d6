//! Everything that speaks to WeChat: the typed endpoints ([`api`]), the HTTP client
//! ([`client`]), the errcode catalogue ([`errcode`]), tokens ([`token`]), media uploads
//! ([`media`]) and the mp.weixin.qq.com links ops staff send to merchants ([`links`]).
//!
//! [`Api`] ties them together: it picks the right token for a call, retries once with a fresh
//! token when WeChat rejects one, and writes every call to the ledger's event log.

pub mod api;
pub mod appid;
pub mod categories;
pub mod client;
pub mod errcode;
pub mod funcscope;
pub mod lenient;
pub mod links;
pub mod media;
pub mod pacing;
pub mod stated;
pub mod token;
pub mod transport;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use api::{Endpoint, TokenKind};
pub use appid::Appid;
pub use client::{ApiError, Client};
pub use errcode::ErrClass;
pub use pacing::Pacer;
pub use token::{ComponentCreds, Tokens};

use crate::ledger::{now_millis, CallEvent, Ledger};
use crate::secret::Secret;

/// How calls are paced and retried.
#[derive(Clone)]
pub struct CallOptions {
    pub pacer: Option<Arc<Pacer>>,
    /// Attempts per call for transient failures (`retry` class).
    pub max_attempts: u32,
    /// The first backoff; doubled on each attempt, with jitter.
    pub backoff: Duration,
    /// Once it is signalled, no call starts and waits before calls end (DESIGN §6).
    pub interrupt: Option<crate::interrupt::Interrupt>,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions { pacer: None, max_attempts: 5, backoff: Duration::from_millis(200), interrupt: None }
    }
}

/// Every call goes through here: paced, retried when transient, and written to the ledger's
/// event log (and counted per API for reports).
#[derive(Clone)]
pub struct CallLog {
    ledger: Ledger,
    run_id: Option<String>,
    options: CallOptions,
    total: Arc<AtomicU64>,
    per_api: Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
    /// Calls not yet handed to the ledger, written [`EVENT_BATCH`] at a time.
    pending: Arc<std::sync::Mutex<Vec<CallEvent>>>,
    /// Why the run stopped (a `stop`-class error): once set, no call is sent any more.
    stopped: Arc<std::sync::Mutex<Option<String>>>,
}

/// How many call-log events are handed to the ledger at once.
const EVENT_BATCH: usize = 64;

impl CallLog {
    pub fn new(ledger: Ledger, run_id: Option<String>, options: CallOptions) -> CallLog {
        CallLog {
            ledger,
            run_id,
            options,
            total: Arc::default(),
            per_api: Arc::default(),
            pending: Arc::default(),
            stopped: Arc::default(),
        }
    }

    /// Stops every call from now on, for `reason` (the first reason given is kept).
    pub fn stop(&self, reason: String) {
        self.stopped.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(reason);
    }

    /// Why calls were stopped, if they were.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Hands the calls not yet written to the ledger; the caller then flushes the ledger.
    pub fn flush(&self) {
        let events = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if !events.is_empty() {
            self.ledger.record_calls(events);
        }
    }

    /// Sends a call made by `f` to `path` for `appid`, carrying `token`: waits for the pacer,
    /// records the outcome, and tries again with backoff after a transient failure — for a
    /// call that changes state only when the failure shows it cannot have taken effect (the
    /// runner reconciles the others from live state first).
    ///
    /// A daily quota (45009) met on an authorizer's call stops that API for that appid for
    /// the rest of the run; on the component's own calls, for every appid (DESIGN §5).
    ///
    /// `request` tells apart calls to the same path for the same appid that ask different
    /// things (pages of a list, one account or another): each is one call of its own for
    /// [`Attempts`]; [`request_key`] makes it.
    #[allow(clippy::too_many_arguments)]
    pub async fn send<T, F, Fut>(
        &self,
        appid: Option<&str>,
        path: &str,
        request: u64,
        token: TokenKind,
        changes_state: bool,
        mut f: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let attempts = STEP_ATTEMPTS.try_with(Arc::clone).unwrap_or_else(|_| self.attempts());
        let quota_of = if token == TokenKind::Authorizer { appid } else { None };
        let interrupted = || ApiError::Interrupted { api: path.to_string() };
        let call = (appid.map(str::to_string), path.to_string(), request);
        loop {
            // Sent as often as the step may: its last transient failure is the answer.
            if let Some(last) = attempts.refused(&call) {
                return Err(last);
            }
            if let Some(reason) = self.stopped() {
                return Err(ApiError::Setup(format!("not sent: {reason}")));
            }
            if let Some(pacer) = &self.options.pacer {
                if pacer.exhausted(quota_of, path).is_some() {
                    return Err(ApiError::WeChat {
                        api: path.to_string(),
                        code: 45009,
                        message: "the daily quota was reached earlier in this run; not called again".into(),
                        token,
                    });
                }
                match &self.options.interrupt {
                    Some(interrupt) => interrupt.unless(pacer.ready(appid, path)).await.map_err(|_| interrupted())?,
                    None => pacer.ready(appid, path).await,
                }
            }
            // No new call once the run is interrupted (the last look before it goes out).
            if let Some(interrupt) = &self.options.interrupt {
                interrupt.check().map_err(|_| interrupted())?;
            }
            let started = Instant::now();
            let result = f().await;
            self.record(appid, path, &result, started);
            let sent = attempts.sent(&call, result.as_ref().err());
            if let Some(pacer) = &self.options.pacer {
                match result.as_ref().err().and_then(ApiError::errcode) {
                    None if result.is_ok() => pacer.went_through(path),
                    Some(45009) => {
                        pacer.mark_exhausted(quota_of, path, crate::beijing::next_day(chrono::Utc::now()).timestamp())
                    }
                    Some(45011) | Some(53011) => pacer.slow_down(path),
                    _ => {}
                }
            }
            match result {
                Err(e) if e.class() == ErrClass::Retry && sent < attempts.max && (!changes_state || !e.uncertain()) => {
                    tracing::debug!("{e}; trying again (attempt {})", sent + 1);
                    self.pause(path, sent).await?;
                }
                other => return other,
            }
        }
    }

    /// A fresh count of sends, bounded by `[retry] max_attempts`: what one step of a run
    /// may send ([`Attempts::scope`]); a call outside any step counts its sends alone.
    pub fn attempts(&self) -> Arc<Attempts> {
        Arc::new(Attempts { max: self.options.max_attempts.max(1), sent: Default::default() })
    }

    /// The pause before the next try of `api`, tried `tries` times: exponential backoff with
    /// jitter; cut short, with an error, when the run is interrupted.
    pub async fn pause(&self, api: &str, tries: u32) -> Result<(), ApiError> {
        let pause = tokio::time::sleep(backoff(self.options.backoff, tries));
        match &self.options.interrupt {
            Some(interrupt) => {
                interrupt.unless(pause).await.map_err(|_| ApiError::Interrupted { api: api.to_string() })
            }
            None => {
                pause.await;
                Ok(())
            }
        }
    }

    /// Records one call's outcome; a ledger failure is logged, never fails the call.
    pub fn record<T>(&self, appid: Option<&str>, api: &str, result: &Result<T, ApiError>, started: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self.per_api.lock().unwrap_or_else(|e| e.into_inner()).entry(api.to_string()).or_default() += 1;
        let (errcode, outcome) = match result {
            Ok(_) => (Some(0), "ok".to_string()),
            Err(ApiError::WeChat { code, .. }) => (Some(*code), "errcode".to_string()),
            Err(ApiError::Http { status, .. }) => (None, format!("http {status}")),
            Err(ApiError::Timeout { .. }) => (None, "timeout".to_string()),
            Err(ApiError::Connection { .. }) => (None, "connection".to_string()),
            Err(ApiError::Decode { .. }) => (None, "decode".to_string()),
            Err(ApiError::Token(_) | ApiError::Setup(_) | ApiError::NoRefreshToken { .. }) => {
                (None, "token".to_string())
            }
            Err(ApiError::Interrupted { .. }) => (None, "interrupted".to_string()),
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
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(event);
            (pending.len() >= EVENT_BATCH).then(|| std::mem::take(&mut *pending))
        };
        if let Some(events) = full {
            self.ledger.record_calls(events);
        }
    }

    /// The run's pacer, if calls are paced.
    pub fn pacer(&self) -> Option<&Arc<Pacer>> {
        self.options.pacer.as_ref()
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

tokio::task_local! {
    /// The sends of the step whose calls are being made ([`Attempts::scope`]).
    static STEP_ATTEMPTS: Arc<Attempts>;
}

/// What one call is for [`Attempts`]: the appid it is logged for, its path, and
/// [`request_key`] of what it asks.
type CallId = (Option<String>, String, u64);

/// Tells apart requests to the same path: a hash of the request as it is sent.
pub fn request_key(request: &impl serde::Serialize) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(request).unwrap_or_default().hash(&mut hasher);
    hasher.finish()
}

/// How often each call ([`CallId`]) was sent within one step of one run: the one retry
/// policy (DESIGN §5). `max_attempts` bounds them, whichever layer tries again — the call
/// log after a transient failure ([`CallLog::send`]) or the runner after an uncertain
/// state-changing call, reconciling from live state first — so a read failing every time is
/// sent `max_attempts` times, not `max_attempts²`.
#[derive(Debug)]
pub struct Attempts {
    max: u32,
    /// Per call: the sends so far and the last one's error, if it failed.
    sent: std::sync::Mutex<std::collections::HashMap<CallId, (u32, Option<ApiError>)>>,
}

impl Attempts {
    /// Runs `work` with its calls counted here (task-local, so rows at work side by side
    /// each have their own count).
    pub async fn scope<F: std::future::Future>(self: Arc<Self>, work: F) -> F::Output {
        STEP_ATTEMPTS.scope(self, work).await
    }

    /// True while every call sent so far may be sent again: the runner's condition for
    /// trying a step again.
    pub fn left(&self) -> bool {
        self.lock().values().all(|(sent, _)| *sent < self.max)
    }

    /// Counts one send of `call`, with its error if it failed; returns the sends so far.
    fn sent(&self, call: &CallId, error: Option<&ApiError>) -> u32 {
        let mut all = self.lock();
        let entry = all.entry(call.clone()).or_default();
        *entry = (entry.0 + 1, error.cloned());
        entry.0
    }

    /// The last error of `call` once it was sent `max` times and the last send failed
    /// transiently. A definite answer (a token refused, say) is not repeated by anyone but
    /// the caller that handles it, with another request.
    fn refused(&self, call: &CallId) -> Option<ApiError> {
        let all = self.lock();
        let (sent, last) = all.get(call)?;
        last.clone().filter(|e| *sent >= self.max && e.class() == ErrClass::Retry)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<CallId, (u32, Option<ApiError>)>> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Exponential backoff with jitter: between half and all of `base × 2^(attempt−1)`, at most 10 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    use rand::Rng;
    let full = (base * 2u32.saturating_pow(attempt.saturating_sub(1))).min(Duration::from_secs(10));
    let half = full / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
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
        options: CallOptions,
    ) -> Api {
        let calls = CallLog::new(ledger.clone(), run_id, options);
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
        let logged_appid = appid.or(Some(self.component_appid()));
        let request = request_key(req);
        loop {
            let token = self.token_for(appid).await?;
            if let (Some(appid), api::TokenKind::Authorizer) = (appid, E::TOKEN) {
                self.heed_stated_limit(E::PATH, appid, &token).await;
            }
            let result = self
                .calls
                .send(logged_appid, E::PATH, request, E::TOKEN, E::CHANGES_STATE, || {
                    self.client.call(Some(&token), req)
                })
                .await;
            match result {
                Err(e) if e.class() == ErrClass::Token && !retried => {
                    retried = true;
                    self.invalidate(appid, &token).await;
                }
                other => return other,
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(api: &str) -> ApiError {
        ApiError::WeChat { api: api.into(), code: -1, message: "system error".into(), token: TokenKind::Authorizer }
    }

    #[test]
    fn a_call_sent_max_times_is_refused_with_its_last_error_and_ends_the_steps_retries() {
        let call = |path: &str, request: u64| (Some("wx1111111111111111".to_string()), path.to_string(), request);
        let (read, change) = (call("/read", 1), call("/change", 1));
        let attempts = Attempts { max: 2, sent: Default::default() };
        assert!(attempts.left(), "nothing sent yet");
        assert_eq!(attempts.sent(&read, None), 1);
        assert_eq!(attempts.sent(&change, Some(&busy("/change"))), 1);
        assert!(attempts.left());
        assert!(attempts.refused(&change).is_none(), "sent once of two");
        assert_eq!(attempts.sent(&change, Some(&busy("/change"))), 2);
        assert!(!attempts.left(), "one call of the step is spent");
        assert_eq!(attempts.refused(&change).map(|e| e.to_string()), Some(busy("/change").to_string()));
        // Another request to the same path is a call of its own.
        assert!(attempts.refused(&call("/change", 2)).is_none());
        // A call whose last send went through, or answered for certain, is not refused.
        assert_eq!(attempts.sent(&read, None), 2);
        assert!(attempts.refused(&read).is_none());
        let refused =
            ApiError::WeChat { api: "/t".into(), code: 40001, message: "m".into(), token: TokenKind::Authorizer };
        let token = call("/t", 1);
        attempts.sent(&token, Some(&refused));
        attempts.sent(&token, Some(&refused));
        assert!(attempts.refused(&token).is_none());
    }
}
