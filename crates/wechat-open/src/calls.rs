//! The call log: every call goes through [`CallLog::send`] — paced, sent as often as the one
//! retry policy ([`Attempts`]) allows, and handed to a [`CallSink`] as a [`CallEvent`] (a
//! tool's event log), counted per API for reports.
//!
//! The path of one call: the caller (a step of a run) asks for a token and calls `send` with
//! a closure that makes the request ([`crate::Client::call`]); `send` waits for the
//! [`Pacer`], sends, records the outcome, lets the pacer react to the errcode as the
//! catalogue entry says ([`Pace`]), and tries again after a transient failure while the
//! step's [`Attempts`] allow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::errcode::{DeferUntil, ErrClass, Pace};
use crate::error::ApiError;
use crate::pacing::Pacer;
use crate::TokenKind;

/// One API call, as an event log records it. Never a token: the API is a path without its
/// query string.
#[derive(Debug, Clone)]
pub struct CallEvent {
    /// When it ended (Unix milliseconds).
    pub at_ms: i64,
    /// The run it was made in, if the caller named one.
    pub run_id: Option<String>,
    /// The appid it was made for (the component's for the platform's own calls).
    pub appid: Option<String>,
    /// The API path, e.g. `/cgi-bin/account/modifysignature`.
    pub api: String,
    /// 0 on success; `None` for transport failures.
    pub errcode: Option<i64>,
    /// How long it took.
    pub duration_ms: i64,
    /// `ok`, `errcode`, `http 502`, `timeout`, `connection`…
    pub outcome: String,
}

/// Where call events go (a tool's event log). `record` must not wait for storage: it is
/// called on the path of every call; a sink that fails logs its failure itself.
pub trait CallSink: Send + Sync {
    /// Takes a batch of events.
    fn record(&self, events: Vec<CallEvent>);
}

/// A sink that keeps nothing, for callers without an event log.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl CallSink for NoSink {
    fn record(&self, _events: Vec<CallEvent>) {}
}

/// Asks whether calls should stop (a tool's SIGINT/SIGTERM handling): once it says so, no
/// call starts and waits before calls (pacing, backoff) end at once.
pub trait Interruption: Send + Sync {
    /// True once interrupted.
    fn interrupted(&self) -> bool;
    /// Resolves once interrupted.
    fn wait(&self) -> BoxFuture<'_, ()>;
}

/// What a call waits for between its turn (the pacer) and its sending, given to
/// [`CallLog::send_after`]: a tool's durable record that the call is about to be sent (so
/// that after a crash it reconciles instead of sending again), written while the call
/// waits for its turn rather than before it starts waiting — one wake-up less a call. Its
/// error is the call's, and nothing is sent.
pub type Before<'a> = BoxFuture<'a, Result<(), ApiError>>;

/// Waits for `f` unless `interrupt` says stop first (then `None`).
async fn unless<T>(interrupt: &dyn Interruption, f: impl std::future::Future<Output = T>) -> Option<T> {
    if interrupt.interrupted() {
        return None;
    }
    tokio::select! {
        biased;
        () = interrupt.wait() => None,
        value = f => Some(value),
    }
}

/// The pacer's reaction to `error` on `path`, as its catalogue entry says.
fn react(pacer: &Pacer, error: &ApiError, quota_of: Option<&str>, path: &str) {
    let Some(entry) = error.entry() else { return };
    match entry.pace {
        Some(Pace::Exhausted) => {
            let until = entry.defer.unwrap_or(DeferUntil::NextDay).not_before(chrono::Utc::now());
            pacer.mark_exhausted(quota_of, path, until.timestamp());
        }
        Some(Pace::SlowDown) => pacer.slow_down(path),
        None => {}
    }
}

/// Unix milliseconds now.
fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How calls are paced and retried.
#[derive(Clone)]
pub struct CallOptions {
    /// The run's pacer; `None`: calls go at once.
    pub pacer: Option<Arc<Pacer>>,
    /// Sends per call and step for transient failures (`retry` class), at least 1.
    pub max_attempts: u32,
    /// The first backoff; doubled on each attempt, with jitter.
    pub backoff: Duration,
    /// Once it is signalled, no call starts and waits before calls end.
    pub interrupt: Option<Arc<dyn Interruption>>,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions { pacer: None, max_attempts: 5, backoff: Duration::from_millis(200), interrupt: None }
    }
}

/// Every call goes through here: paced, retried when transient, and handed to the
/// [`CallSink`] (and counted per API for reports).
#[derive(Clone)]
pub struct CallLog {
    sink: Arc<dyn CallSink>,
    run_id: Option<String>,
    options: CallOptions,
    total: Arc<AtomicU64>,
    per_api: Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
    /// Calls not yet handed to the sink, handed [`EVENT_BATCH`] at a time.
    pending: Arc<std::sync::Mutex<Vec<CallEvent>>>,
    /// Why the run stopped (a `stop`-class error, the tool's storage failing): once set, no
    /// call is sent any more, and waits before calls end at once.
    stopped: Arc<tokio::sync::watch::Sender<Option<String>>>,
}

/// How many call events are handed to the sink at once.
const EVENT_BATCH: usize = 64;

impl CallLog {
    /// A call log handing its events to `sink`, each marked with `run_id`.
    pub fn new(sink: Arc<dyn CallSink>, run_id: Option<String>, options: CallOptions) -> CallLog {
        CallLog {
            sink,
            run_id,
            options,
            total: Arc::default(),
            per_api: Arc::default(),
            pending: Arc::default(),
            stopped: Arc::new(tokio::sync::watch::Sender::new(None)),
        }
    }

    /// Stops every call from now on, for `reason` (the first reason given is kept): no call
    /// is sent any more, and those waiting for their turn or a backoff end at once. Callable
    /// from any thread.
    pub fn stop(&self, reason: String) {
        self.stopped.send_if_modified(|stopped| {
            let first = stopped.is_none();
            stopped.get_or_insert(reason);
            first
        });
    }

    /// Why calls were stopped, if they were.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.borrow().clone()
    }

    /// The error of a call not sent because calls were stopped for `reason`.
    fn not_sent(reason: String) -> ApiError {
        ApiError::Setup(format!("not sent: {reason}"))
    }

    /// Waits for `f` (a call's turn, a backoff) unless the run is interrupted or its calls are
    /// stopped first: then the error the call ends with.
    async fn unless_halted<T>(&self, api: &str, f: impl std::future::Future<Output = T>) -> Result<T, ApiError> {
        let interrupted = || ApiError::Interrupted { api: api.to_string() };
        if let Some(reason) = self.stopped() {
            return Err(CallLog::not_sent(reason));
        }
        let mut stopped = self.stopped.subscribe();
        let stop = async move {
            // The value is copied out at once: its guard must not be held across an await.
            let seen = stopped.wait_for(Option::is_some).await.map(|reason| Option::clone(&reason));
            match seen {
                Ok(reason) => reason.unwrap_or_default(),
                // The sender lives as long as this call log: never.
                Err(_) => std::future::pending().await,
            }
        };
        let waited = async {
            match &self.options.interrupt {
                Some(interrupt) => unless(&**interrupt, f).await.ok_or_else(interrupted),
                None => Ok(f.await),
            }
        };
        tokio::select! {
            biased;
            reason = stop => Err(CallLog::not_sent(reason)),
            waited = waited => waited,
        }
    }

    /// Hands the calls not yet handed to the sink; the caller then flushes the sink.
    pub fn flush(&self) {
        let events = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if !events.is_empty() {
            self.sink.record(events);
        }
    }

    /// Sends a call made by `f` to `path` for `appid`, carrying `token`: waits for the pacer,
    /// records the outcome, and tries again with backoff after a transient failure — for a
    /// call that changes state only when the failure shows it cannot have taken effect (the
    /// runner reconciles the others from live state first).
    ///
    /// The pacer reacts to an errcode as the catalogue entry says ([`Pace`]): a daily quota
    /// (45009) met on an authorizer's call stops that API for that appid until the quota
    /// resets; on the component's own calls, for every appid.
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
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        self.send_after(appid, path, request, token, changes_state, None, f).await
    }

    /// [`CallLog::send`], the first send waiting, once the pacer lets it go, for `before`
    /// too: a caller's record that the call is about to be sent ([`Before`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_after<T, F, Fut>(
        &self,
        appid: Option<&str>,
        path: &str,
        request: u64,
        token: TokenKind,
        changes_state: bool,
        mut before: Option<Before<'_>>,
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
                return Err(CallLog::not_sent(reason));
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
                self.unless_halted(path, pacer.ready(appid, path)).await?;
            }
            if let Some(before) = before.take() {
                before.await?;
            }
            // No new call once the run is interrupted or its calls stopped (the last look
            // before it goes out: its turn and its record may have taken a while).
            if self.options.interrupt.as_ref().is_some_and(|i| i.interrupted()) {
                return Err(interrupted());
            }
            if let Some(reason) = self.stopped() {
                return Err(CallLog::not_sent(reason));
            }
            let started = Instant::now();
            let result = f().await;
            self.record(appid, path, &result, started);
            let sent = attempts.sent(&call, result.as_ref().err());
            if let Some(pacer) = &self.options.pacer {
                match &result {
                    Ok(_) => pacer.went_through(path),
                    Err(e) => react(pacer, e, quota_of, path),
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
    /// jitter; cut short, with an error, when the run is interrupted or its calls stopped.
    pub async fn pause(&self, api: &str, tries: u32) -> Result<(), ApiError> {
        self.wait(api, backoff(self.options.backoff, tries)).await
    }

    /// Waits `duration` before asking `api` again — a wait WeChat asks for, such as 61039's
    /// minute while the privacy scan runs; cut short, with an error, when the run is
    /// interrupted or its calls stopped.
    pub async fn wait(&self, api: &str, duration: Duration) -> Result<(), ApiError> {
        self.unless_halted(api, tokio::time::sleep(duration)).await
    }

    /// Records one call's outcome (the sink's failures are its own: they never fail a call).
    pub(crate) fn record<T>(&self, appid: Option<&str>, api: &str, result: &Result<T, ApiError>, started: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self.per_api.lock().unwrap_or_else(|e| e.into_inner()).entry(api.to_string()).or_default() += 1;
        let (errcode, outcome) = match result {
            Ok(_) => (Some(0), "ok".to_string()),
            Err(ApiError::WeChat { code, .. }) => (Some(*code), "errcode".to_string()),
            Err(ApiError::Http { status, .. }) => (None, format!("http {status}")),
            Err(ApiError::Timeout { .. }) => (None, "timeout".to_string()),
            Err(ApiError::Connection { .. }) => (None, "connection".to_string()),
            Err(ApiError::Decode { .. }) => (None, "decode".to_string()),
            Err(
                ApiError::Token(_)
                | ApiError::Setup(_)
                | ApiError::NotConfigured(_)
                | ApiError::Store(_)
                | ApiError::NoRefreshToken { .. },
            ) => (None, "token".to_string()),
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
            self.sink.record(events);
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

/// How often each call (its appid, path and [`request_key`]) was sent within one step of one
/// run: the one retry policy. `max_attempts` bounds them, whichever layer tries again — the call
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_reacts_to_an_errcode_as_its_catalogue_entry_says() {
        let pacer = Pacer::new(crate::pacing::Limits::default());
        let wechat = |code, token| ApiError::WeChat { api: "/a".into(), code, message: "m".into(), token };
        let before = crate::beijing::next_day(chrono::Utc::now()).timestamp();
        react(&pacer, &wechat(45009, TokenKind::Authorizer), Some("wx1111111111111111"), "/a");
        let after = crate::beijing::next_day(chrono::Utc::now()).timestamp();
        // Until the quota resets, the next Beijing day (the entry's defer rule).
        let until = pacer.exhausted(Some("wx1111111111111111"), "/a").expect("45009 spends the path's quota");
        assert!(until == before || until == after, "{until}");
        assert_eq!(pacer.exhausted(Some("wx2222222222222222"), "/a"), None, "one account's quota");
        // The component's own call spends it for everyone.
        react(&pacer, &wechat(45009, TokenKind::Component), None, "/c");
        assert!(pacer.exhausted(Some("wx2222222222222222"), "/c").is_some());
        // Other codes spend nothing.
        for code in [45011, 53011, 53200, -1] {
            react(&pacer, &wechat(code, TokenKind::Authorizer), Some("wx1111111111111111"), "/d");
        }
        assert_eq!(pacer.exhausted(Some("wx1111111111111111"), "/d"), None);
    }

    /// `send_after`: the call goes only once its `before` is done, and not at all when
    /// `before` fails (its error is the call's); sent again after a transient failure, it
    /// does not wait for `before` again.
    #[tokio::test(start_paused = true)]
    async fn a_call_waits_for_its_before_and_is_not_sent_when_it_fails() {
        let options = CallOptions { backoff: Duration::from_millis(1), ..CallOptions::default() };
        let calls = CallLog::new(Arc::new(NoSink), None, options);
        let log = std::sync::Mutex::new(Vec::new());
        let note = |what: &'static str| log.lock().unwrap().push(what);
        let mut answers = vec![Ok(()), Err(busy("/change"))];
        let before: Before<'_> = Box::pin(async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            note("written");
            Ok(())
        });
        let send = || {
            note("sent");
            std::future::ready(answers.pop().expect("sent at most twice"))
        };
        let sent = calls.send_after(
            Some("wx1111111111111111"),
            "/change",
            1,
            TokenKind::Authorizer,
            false,
            Some(before),
            send,
        );
        sent.await.unwrap();
        assert_eq!(*log.lock().unwrap(), ["written", "sent", "sent"]);

        let failed: Before<'_> = Box::pin(async { Err(ApiError::Setup("the record could not be written".into())) });
        let never = || -> std::future::Ready<Result<(), ApiError>> { panic!("sent without its record") };
        let refused = calls.send_after(
            Some("wx1111111111111111"),
            "/other",
            1,
            TokenKind::Authorizer,
            false,
            Some(failed),
            never,
        );
        assert!(matches!(refused.await, Err(ApiError::Setup(m)) if m == "the record could not be written"));
    }

    /// A stop (from any thread: a tool's storage failing) ends a wait before a call at once,
    /// and a call whose turn or record came while it was made is not sent.
    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_a_wait_at_once_and_no_call_goes_out_after_it() {
        let calls = CallLog::new(Arc::new(NoSink), None, CallOptions::default());
        let stopper = calls.clone();
        let started = tokio::time::Instant::now();
        let stop = async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            std::thread::spawn(move || stopper.stop("the ledger l.db failed".into())).join().unwrap();
        };
        let (waited, ()) = tokio::join!(calls.wait("/scan", Duration::from_secs(60)), stop);
        assert!(matches!(&waited, Err(ApiError::Setup(m)) if m == "not sent: the ledger l.db failed"), "{waited:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(1), "not the minute");

        let calls = CallLog::new(Arc::new(NoSink), None, CallOptions::default());
        let stopper = calls.clone();
        let record: Before<'_> = Box::pin(async move {
            stopper.stop("the ledger l.db failed".into());
            Ok(())
        });
        let never = || -> std::future::Ready<Result<(), ApiError>> { panic!("sent after the stop") };
        let refused = calls.send_after(None, "/change", 1, TokenKind::Authorizer, true, Some(record), never).await;
        assert!(matches!(&refused, Err(ApiError::Setup(m)) if m == "not sent: the ledger l.db failed"), "{refused:?}");
    }

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
