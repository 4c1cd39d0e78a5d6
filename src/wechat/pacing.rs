//! Pacing: every call waits its turn under the job's limits (DESIGN §2, governor quotas) —
//! calls per minute per API path, calls per second per appid, then calls per second for all
//! APIs together — smooth (burst 1). Tasks that must wait for the global limit first wait a
//! little jitter, then queue: one at a time waits for the limiter, so a freed slot is taken
//! on time (by the head of the line, or by a task that just arrived and found it free)
//! rather than by whichever of many sleeping tasks wakes first — at burst 1, every late
//! wake-up is a slot lost for good (3–4 % of the limit with the whole herd waiting).
//! WeChat's own signals adjust it during a run: 45009 (daily quota reached)
//! stops calling that API for the rest of the run — for that appid on an authorizer's call,
//! for everyone on the component's own; 45011/53011 (too frequent) pause that API for a
//! while, longer each time it repeats.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Jitter, Quota, RateLimiter};

use crate::config::Limits;

/// The most jitter added to a wait.
const JITTER: Duration = Duration::from_millis(5);
/// The first pause after a frequency error; doubled on each repeat, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
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
    per_path: HashMap<String, DefaultDirectRateLimiter>,
    /// The line for the global limiter.
    turn: tokio::sync::Mutex<()>,
    exhausted: Mutex<HashMap<String, i64>>,
    paused: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Pacer {
    /// Limiters for `limits`; a rate of 0 means unlimited (for benchmarks).
    pub fn new(limits: &Limits) -> Pacer {
        // Burst 1: calls are spread evenly, never n at once at the start of a second.
        let one = NonZeroU32::MIN;
        let per_second = |n: u32| NonZeroU32::new(n).map(|n| Quota::per_second(n).allow_burst(one));
        Pacer {
            global: per_second(limits.calls_per_second).map(RateLimiter::direct),
            per_appid: per_second(limits.per_appid_per_second).map(RateLimiter::keyed),
            per_path: limits
                .per_minute
                .iter()
                .filter_map(|(path, &n)| {
                    Some((path.clone(), RateLimiter::direct(Quota::per_minute(NonZeroU32::new(n)?).allow_burst(one))))
                })
                .collect(),
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
        if let Some(limiter) = self.per_path.get(path) {
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

    /// When `path` hit its daily quota in this run — for `appid`, or for every caller when
    /// `appid` is `None` (the component's own calls) — the time it may be called again.
    pub fn exhausted(&self, appid: Option<&str>, path: &str) -> Option<i64> {
        let exhausted = self.exhausted.lock().unwrap_or_else(|e| e.into_inner());
        exhausted.get(&quota_key(None, path)).or_else(|| exhausted.get(&quota_key(Some(appid?), path))).copied()
    }

    /// Stops calling `path` for `appid` (for everyone when `None`) for the rest of the run
    /// (45009); `until` is the next Beijing day.
    pub fn mark_exhausted(&self, appid: Option<&str>, path: &str, until: i64) {
        self.exhausted.lock().unwrap_or_else(|e| e.into_inner()).insert(quota_key(appid, path), until);
    }

    /// Pauses `path` after a frequency error (45011, 53011), longer on each repeat.
    pub fn slow_down(&self, path: &str) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let level = paused.get(path).map(|(_, level)| level + 1).unwrap_or(0);
        let pause = (FIRST_PAUSE * 2u32.saturating_pow(level)).min(MAX_PAUSE);
        tracing::warn!("{path} answered that calls are too frequent: pausing it {}s", pause.as_secs());
        paused.insert(path.to_string(), (Instant::now() + pause, level));
    }

    /// A call to `path` went through: forget its pause.
    pub fn went_through(&self, path: &str) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        if paused.get(path).is_some_and(|(until, _)| *until <= Instant::now()) {
            paused.remove(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unlimited_pacer_never_waits() {
        let pacer =
            Pacer::new(&Limits { calls_per_second: 0, per_appid_per_second: 0, per_minute: Default::default() });
        let start = Instant::now();
        for _ in 0..1000 {
            pacer.ready(Some("wx1"), "/a").await;
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn exhaustion_and_pauses_are_per_path() {
        let pacer = Pacer::new(&Limits::default());
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
