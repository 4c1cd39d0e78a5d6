//! Pacing: every call waits its turn under the job's limits (DESIGN §2, governor quotas) —
//! calls per minute per API path, calls per second per appid, then calls per second for all
//! APIs together — smooth (burst 1). Tasks that must wait for the global limit first wait a
//! little jitter, then queue: one at a time waits for the limiter, so a freed slot is taken
//! on time (by the head of the line, or by a task that just arrived and found it free)
//! rather than by whichever of many sleeping tasks wakes first — at burst 1, every late
//! wake-up is a slot lost for good (3–4 % of the limit with the whole herd waiting).
//! WeChat's own signals adjust it during a run: the limit `quota/get` states for an API
//! ([`StatedLimits`]) becomes that path's ceiling when it is lower than the job's
//! ([`Pacer::heed`]); and the errcode catalogue says how the pacer reacts to a code
//! ([`crate::errcode::Pace`]): 45009 (daily quota reached) stops calling that API until its
//! quota resets — for that appid on an authorizer's call, for everyone on the component's
//! own; 45011/53011 (too frequent) pause that API for a while, longer each time it repeats.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Jitter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::api::{QuotaInfo, RateLimit};
use crate::error::ApiError;

/// The limits calls keep; a rate of 0 means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Calls per second, all APIs together.
    pub calls_per_second: u32,
    /// Calls per second for one appid.
    pub per_appid_per_second: u32,
    /// Calls per minute, by API path.
    pub per_minute: std::collections::BTreeMap<String, u32>,
}

/// What `quota/get` states for one path: WeChat's own per-window limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedLimits {
    /// For ordinary calls.
    pub rate_limit: Option<RateLimit>,
    /// For calls a platform makes on an account's behalf.
    pub component_rate_limit: Option<RateLimit>,
}

/// Answers to `quota/get` that are WeChat's last word for a path today (76021 invalid path,
/// 76022 no quota for it): no stated limit.
const NO_LIMIT_FOR_PATH: [i64; 2] = [76021, 76022];

impl StatedLimits {
    /// What `quota/get`'s answer states.
    pub fn of(answer: &QuotaInfo) -> StatedLimits {
        StatedLimits { rate_limit: answer.rate_limit, component_rate_limit: answer.component_rate_limit }
    }

    /// What a failed `quota/get` says: no stated limit when WeChat answered that the path has
    /// none (76021, 76022); `None` when it says nothing (a timeout, 48001…).
    pub fn of_error(error: &ApiError) -> Option<StatedLimits> {
        error.errcode().filter(|c| NO_LIMIT_FOR_PATH.contains(c)).map(|_| StatedLimits::default())
    }

    /// True when either limit is stated.
    pub fn any(&self) -> bool {
        self.rate_limit.is_some() || self.component_rate_limit.is_some()
    }
}

/// The most jitter added to a wait.
const JITTER: Duration = Duration::from_millis(5);
/// The first pause after a frequency error; doubled on each repeat, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// The key of a daily quota: an API path, for one appid or for every caller.
fn quota_key(appid: Option<&str>, path: &str) -> String {
    match appid {
        Some(appid) => format!("{appid} {path}"),
        None => path.to_string(),
    }
}

/// The limiters of one run.
pub struct Pacer {
    global: Option<DefaultDirectRateLimiter>,
    per_appid: Option<DefaultKeyedRateLimiter<String>>,
    /// The job's `[limits.per_minute]`.
    job_per_minute: HashMap<String, u32>,
    /// One limiter per limited path: the job's, or a stricter one once WeChat states its limit.
    per_path: RwLock<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    /// The paths whose stated limit this run has looked up (or is looking up), each once.
    stated: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<()>>>>,
    /// The line for the global limiter.
    turn: tokio::sync::Mutex<()>,
    exhausted: Mutex<HashMap<String, i64>>,
    paused: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Pacer {
    /// Limiters for `limits`; a rate of 0 means unlimited (for benchmarks).
    pub fn new(limits: impl Into<Limits>) -> Pacer {
        let limits = limits.into();
        // Burst 1: calls are spread evenly, never n at once at the start of a second.
        let one = NonZeroU32::MIN;
        let per_second = |n: u32| NonZeroU32::new(n).map(|n| Quota::per_second(n).allow_burst(one));
        Pacer {
            global: per_second(limits.calls_per_second).map(RateLimiter::direct),
            per_appid: per_second(limits.per_appid_per_second).map(RateLimiter::keyed),
            job_per_minute: limits.per_minute.iter().map(|(path, &n)| (path.clone(), n)).collect(),
            per_path: RwLock::new(
                limits
                    .per_minute
                    .iter()
                    .filter_map(|(path, &n)| {
                        let quota = Quota::per_minute(NonZeroU32::new(n)?).allow_burst(one);
                        Some((path.clone(), Arc::new(RateLimiter::direct(quota))))
                    })
                    .collect(),
            ),
            stated: Mutex::new(HashMap::new()),
            turn: tokio::sync::Mutex::new(()),
            exhausted: Mutex::new(HashMap::new()),
            paused: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call to `path` for `appid` may go.
    pub async fn ready(&self, appid: Option<&str>, path: &str) {
        let pause = self.paused.lock().unwrap_or_else(|e| e.into_inner()).get(path).map(|(until, _)| *until);
        if let Some(until) = pause {
            tokio::time::sleep_until(until.into()).await;
        }
        let limiter = self.per_path.read().unwrap_or_else(|e| e.into_inner()).get(path).cloned();
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
        if let (Some(limiter), Some(appid)) = (&self.per_appid, appid) {
            limiter.until_key_ready(&appid.to_string()).await;
        }
        if let Some(limiter) = &self.global {
            if limiter.check().is_err() {
                // `Jitter + Duration` draws the random part.
                tokio::time::sleep(Jitter::up_to(JITTER) + Duration::ZERO).await;
                let _turn = self.turn.lock().await;
                limiter.until_ready().await;
            }
        }
    }

    /// The once-per-run guard for looking up `path`'s stated limit.
    pub fn stated_lookup(&self, path: &str) -> Arc<tokio::sync::OnceCell<()>> {
        self.stated.lock().unwrap_or_else(|e| e.into_inner()).entry(path.to_string()).or_default().clone()
    }

    /// Makes the limits WeChat states for `path` its ceiling where they are stricter than the
    /// job's; returns the spacing its calls now keep (`None`: unlimited).
    pub fn heed(&self, path: &str, stated: &StatedLimits, on_behalf: bool) -> Option<Duration> {
        let job = self.job_per_minute.get(path).copied();
        let spacing = path_spacing(job, stated, on_behalf)?;
        if Some(spacing) != path_spacing(job, &StatedLimits::default(), on_behalf) {
            // Burst 1, as everywhere: calls at least `spacing` apart never put more than the
            // stated count into any window of the stated length.
            let quota = Quota::with_period(spacing)?.allow_burst(NonZeroU32::MIN);
            self.per_path
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.to_string(), Arc::new(RateLimiter::direct(quota)));
        }
        Some(spacing)
    }

    /// When `path` hit its daily quota in this run — for `appid`, or for every caller when
    /// `appid` is `None` (the component's own calls) — the time it may be called again.
    pub(crate) fn exhausted(&self, appid: Option<&str>, path: &str) -> Option<i64> {
        let exhausted = self.exhausted.lock().unwrap_or_else(|e| e.into_inner());
        exhausted.get(&quota_key(None, path)).or_else(|| exhausted.get(&quota_key(Some(appid?), path))).copied()
    }

    /// Stops calling `path` for `appid` (for everyone when `None`) for the rest of the run
    /// ([`crate::errcode::Pace::Exhausted`]); `until` is when the quota resets (Unix seconds).
    pub(crate) fn mark_exhausted(&self, appid: Option<&str>, path: &str, until: i64) {
        self.exhausted.lock().unwrap_or_else(|e| e.into_inner()).insert(quota_key(appid, path), until);
    }

    /// Pauses `path` after a frequency error ([`crate::errcode::Pace::SlowDown`]: 45011,
    /// 53011), longer on each repeat.
    pub(crate) fn slow_down(&self, path: &str) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let level = paused.get(path).map(|(_, level)| level + 1).unwrap_or(0);
        let pause = (FIRST_PAUSE * 2u32.saturating_pow(level)).min(MAX_PAUSE);
        tracing::warn!("{path} answered that calls are too frequent: pausing it {}s", pause.as_secs());
        paused.insert(path.to_string(), (Instant::now() + pause, level));
    }

    /// A call to `path` went through: forget its pause.
    pub(crate) fn went_through(&self, path: &str) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        if paused.get(path).is_some_and(|(until, _)| *until <= Instant::now()) {
            paused.remove(path);
        }
    }
}

/// The spacing calls to one API path keep: the longest of what the job's per-minute limit
/// asks and what WeChat states for the path — `rate_limit`, and for calls made on an account's
/// behalf `component_rate_limit` too. `None` when nothing limits the path.
pub(crate) fn path_spacing(job_per_minute: Option<u32>, stated: &StatedLimits, on_behalf: bool) -> Option<Duration> {
    let job = job_per_minute.filter(|&n| n > 0).map(|n| Duration::from_secs(60) / n);
    let rate = stated.rate_limit.and_then(|r| r.spacing());
    let component = stated.component_rate_limit.filter(|_| on_behalf).and_then(|r| r.spacing());
    [job, rate, component].into_iter().flatten().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(rate: Option<(i64, i64)>, component: Option<(i64, i64)>) -> StatedLimits {
        let limit = |(call_count, refresh_second)| RateLimit { call_count, refresh_second };
        StatedLimits { rate_limit: rate.map(limit), component_rate_limit: component.map(limit) }
    }

    #[test]
    fn the_stated_limit_is_the_ceiling_unless_the_job_asks_for_less() {
        let ms = Duration::from_millis;
        // Nothing stated: the job's per-minute limit, or nothing.
        assert_eq!(path_spacing(None, &stated(None, None), true), None);
        assert_eq!(path_spacing(Some(20), &stated(None, None), true), Some(ms(3000)));
        // WeChat's 100 calls per 60 s binds a job that allows 600 a minute, or none.
        assert_eq!(path_spacing(Some(600), &stated(Some((100, 60)), None), true), Some(ms(600)));
        assert_eq!(path_spacing(None, &stated(Some((100, 60)), None), false), Some(ms(600)));
        // The job's 20 a minute is lower than WeChat's 100: the job's applies.
        assert_eq!(path_spacing(Some(20), &stated(Some((100, 60)), None), true), Some(ms(3000)));
        // On an account's behalf the component limit binds too, when it is the lower one ...
        assert_eq!(path_spacing(None, &stated(Some((100, 60)), Some((10, 1))), true), Some(ms(600)));
        assert_eq!(path_spacing(None, &stated(Some((100, 60)), Some((50, 60))), true), Some(ms(1200)));
        // ... and not for a call made on the platform's own account.
        assert_eq!(path_spacing(None, &stated(Some((100, 60)), Some((50, 60))), false), Some(ms(600)));
        // A stated limit that says nothing usable is no limit.
        assert_eq!(path_spacing(None, &stated(Some((0, 60)), Some((5, 0))), true), None);
        assert_eq!(path_spacing(Some(0), &stated(None, None), true), None);
    }

    #[tokio::test]
    async fn heeding_a_stated_limit_installs_it_for_that_path_only() {
        let mut per_minute = std::collections::BTreeMap::new();
        per_minute.insert("/job".to_string(), 20);
        let pacer = Pacer::new(Limits { calls_per_second: 0, per_appid_per_second: 0, per_minute });
        assert_eq!(pacer.heed("/a", &stated(Some((1, 3600)), None), true), Some(Duration::from_secs(3600)));
        // The job's lower limit stays as it was.
        assert_eq!(pacer.heed("/job", &stated(Some((100, 60)), None), true), Some(Duration::from_secs(3)));
        assert_eq!(pacer.heed("/b", &stated(None, None), true), None);
        let limited: Vec<String> = {
            let mut v: Vec<String> = pacer.per_path.read().unwrap().keys().cloned().collect();
            v.sort();
            v
        };
        assert_eq!(limited, ["/a", "/job"]);
        // Two calls to /a: the first goes at once, the second must wait an hour.
        let limiter = pacer.per_path.read().unwrap()["/a"].clone();
        assert!(limiter.check().is_ok());
        assert!(limiter.check().is_err(), "one call an hour: the second is held back");
        assert!(pacer.stated_lookup("/a").set(()).is_ok());
        assert!(pacer.stated_lookup("/a").initialized(), "looked up once per run");
    }

    #[tokio::test]
    async fn an_unlimited_pacer_never_waits() {
        let pacer = Pacer::new(Limits { calls_per_second: 0, per_appid_per_second: 0, per_minute: Default::default() });
        let start = Instant::now();
        for _ in 0..1000 {
            pacer.ready(Some("wx1"), "/a").await;
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn exhaustion_and_pauses_are_per_path() {
        let pacer = Pacer::new(Limits { calls_per_second: 50, per_appid_per_second: 5, ..Limits::default() });
        pacer.mark_exhausted(None, "/a", 99);
        assert_eq!(pacer.exhausted(None, "/a"), Some(99));
        assert_eq!(pacer.exhausted(Some("wx1"), "/a"), Some(99), "the component's quota binds everyone");
        assert_eq!(pacer.exhausted(None, "/b"), None);
        pacer.mark_exhausted(Some("wx1"), "/b", 98);
        assert_eq!(pacer.exhausted(Some("wx1"), "/b"), Some(98));
        assert_eq!(pacer.exhausted(Some("wx2"), "/b"), None, "one account's quota binds that account");
        assert_eq!(pacer.exhausted(None, "/b"), None);
        pacer.slow_down("/a");
        pacer.slow_down("/a");
        let level = pacer.paused.lock().unwrap()["/a"].1;
        assert_eq!(level, 1);
    }
}
