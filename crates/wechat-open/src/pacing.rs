//! Pacing: every call waits its turn under the job's limits (DESIGN §2) — calls per minute
//! per API path, calls per second per appid, then calls per second for all APIs together —
//! smooth (burst 1: calls of one limit at least `1 / rate` apart, never n at once at the start
//! of a second). The one exception is the limit for all APIs together at 40 calls/s and more:
//! when calls queue for it — each would wait a step or more anyway — they go in groups of up to
//! [`MAX_GROUP`] at steps at most [`PACING_STEP`] apart (at 100 calls/s, 20 every 200 ms), each
//! step taking as many calls as `1 / rate` spacing would have let go in it, and no call goes
//! less than a second after the call `rate` before it, so that no window of a second holds more
//! than the limit. A process woken once for twenty calls spends far less CPU than one woken
//! twenty times (at 100 calls/s with WeChat's ~50 ms latency each wake-up costs more than the
//! call's own work), and the queue keeps every step full, so the limit loses nothing; a call
//! that would wait less than a step goes at its slot, so a job with few tasks is not held back
//! to the steps. The limits WeChat enforces — per API path, per account — keep burst 1.
//!
//! Each limit hands out slots as tickets (`Spacing`): a call that asks takes the next free
//! slot and sleeps until it, so tasks waiting for a limit are served first come, first served,
//! and a task that wakes late loses its own lateness, not the slot after it — with a limiter
//! that only answers "now or not yet" (governor's GCRA) every late wake-up of the waiting task
//! is a slot lost for good at burst 1, and a freed slot goes to whichever sleeper wakes first.
//! The limits are taken one after the other, each once the one before has let the call go, so
//! no call holds a global slot while it waits for its appid's; and once it goes, its appid's
//! next call keeps the appid's spacing from then (not from when it took the appid's slot).
//!
//! WeChat's own signals adjust it during a run: the limit `quota/get` states for an API
//! ([`StatedLimits`]) becomes that path's ceiling when it is lower than the job's
//! ([`Pacer::heed`]); and the errcode catalogue says how the pacer reacts to a code
//! ([`crate::errcode::Pace`]): 45009 (daily quota reached) stops calling that API until its
//! quota resets — for that appid on an authorizer's call, for everyone on the component's
//! own; 45011/53011 (too frequent) pause that API for a while, longer each time it repeats.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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

/// The most calls of the limit for all APIs together that go at one step.
pub const MAX_GROUP: u32 = 20;

/// How far apart those steps are at most: a call waits at most this much longer than at
/// burst 1.
pub const PACING_STEP: Duration = Duration::from_millis(200);

/// The lowest rate, per period, whose calls go in groups: below it wake-ups are too few for
/// their cost to matter.
const GROUP_FROM: u32 = 40;

/// How close those steps are at least: closer than the timer's resolution, calls wake
/// together without them.
const MIN_STEP: Duration = Duration::from_millis(1);

/// One limit at burst 1: calls at least `spacing` apart, each given the next free slot in the
/// order it asked (a ticket), so those that must wait go in the order they came. A grouped
/// one ([`Spacing::grouped`]) hands out the same slots, but a call that must wait a `step` or
/// more anyway goes at the first step (a multiple of `step` since `origin`) at or after its
/// slot, together with the others of that step; and no call goes less than `period` after the
/// call `calls` before it, so no window of `period` ever holds more than `calls`.
struct Spacing {
    spacing: u64,
    /// `spacing` for burst 1; else the steps' period, in nanoseconds.
    step: u64,
    /// A grouped limit's window, in nanoseconds, and the most calls it may hold.
    period: u64,
    calls: usize,
    origin: tokio::time::Instant,
    turns: Mutex<Turns>,
}

/// Where a [`Spacing`]'s tickets are, in nanoseconds since its `origin`.
#[derive(Default)]
struct Turns {
    /// The next free slot.
    next: u64,
    /// When the last call given a turn goes: no later caller goes before it.
    last: u64,
    /// For a grouped limit, when each of the last `calls` calls goes, oldest first.
    recent: VecDeque<u64>,
}

impl Spacing {
    fn new(spacing: Duration) -> Spacing {
        let spacing = nanos(spacing);
        Spacing {
            spacing,
            step: spacing,
            period: 0,
            calls: 0,
            origin: tokio::time::Instant::now(),
            turns: Mutex::new(Turns::default()),
        }
    }

    /// Calls at most `n` per `period`, or `None` when `n` is 0 (unlimited).
    fn per(n: u32, period: Duration) -> Option<Spacing> {
        (n > 0).then(|| Spacing::new(period / n))
    }

    /// Calls at most `n` per `period`, in groups when they queue: steps of `b` calls every
    /// `period × b / n`, `b` the largest divisor of `n` up to [`MAX_GROUP`] whose steps are
    /// between [`MIN_STEP`] and [`PACING_STEP`] apart (burst 1 when there is none, or when
    /// `n` is under [`GROUP_FROM`]).
    fn grouped(n: u32, period: Duration) -> Option<Spacing> {
        let mut limit = Spacing::per(n, period)?;
        let step = |b: u32| (period.as_nanos() * u128::from(b)).div_ceil(u128::from(n));
        let fits = |b: u32| (MIN_STEP.as_nanos()..=PACING_STEP.as_nanos()).contains(&step(b));
        let group = (2..=MAX_GROUP).rev().find(|&b| n.is_multiple_of(b) && fits(b)).filter(|_| n >= GROUP_FROM);
        if let Some(b) = group {
            limit.step = u64::try_from(step(b)).unwrap_or(u64::MAX).max(limit.spacing);
            limit.period = nanos(period);
            limit.calls = n as usize;
            limit.turns.get_mut().unwrap_or_else(|e| e.into_inner()).recent = VecDeque::with_capacity(limit.calls);
        }
        Some(limit)
    }

    /// Takes the next free slot for a call asking at `now`: when it may go (`now` if at once).
    fn take(&self, now: tokio::time::Instant) -> tokio::time::Instant {
        let at = nanos(now.saturating_duration_since(self.origin));
        let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        let slot = turns.next.max(at);
        turns.next = slot.saturating_add(self.spacing);
        if self.step == self.spacing {
            return self.origin + Duration::from_nanos(slot);
        }
        // A call that waits a step or more joins the step after its slot: the calls queued
        // behind it keep every step full, so the limit loses nothing; one that would wait
        // less goes at its slot, so a few callers are not held back to the steps.
        let wanted = if slot - at >= self.step { slot.div_ceil(self.step).saturating_mul(self.step) } else { slot };
        let mut go = wanted.max(turns.last);
        if turns.recent.len() == self.calls {
            let oldest = turns.recent.pop_front().unwrap_or(0);
            go = go.max(oldest.saturating_add(self.period));
        }
        turns.recent.push_back(go);
        turns.last = go;
        self.origin + Duration::from_nanos(go)
    }

    /// Waits for the next free slot; returns it if it had to wait.
    async fn wait(&self) -> Option<tokio::time::Instant> {
        let now = tokio::time::Instant::now();
        let slot = self.take(now);
        if slot > now {
            tokio::time::sleep_until(slot).await;
            return Some(slot);
        }
        None
    }
}

/// [`Spacing`] per appid. An appid whose next free slot has passed is as good as unknown, so
/// such entries are dropped whenever the map has doubled since it was last pruned: a run over
/// a million appids keeps only those called within the last `spacing`.
struct KeyedSpacing {
    spacing: Duration,
    slots: Mutex<Slots>,
}

struct Slots {
    next: HashMap<String, tokio::time::Instant>,
    prune_at: usize,
}

/// The fewest appids [`KeyedSpacing`] keeps before it prunes.
const KEYED_PRUNE_MIN: usize = 1024;

impl KeyedSpacing {
    fn per_second(n: u32) -> Option<KeyedSpacing> {
        (n > 0).then(|| KeyedSpacing {
            spacing: Duration::from_secs(1) / n,
            slots: Mutex::new(Slots { next: HashMap::new(), prune_at: KEYED_PRUNE_MIN }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `key`'s next free slot for a call asking at `now`.
    fn take(&self, key: &str, now: tokio::time::Instant) -> tokio::time::Instant {
        let mut slots = self.lock();
        if let Some(next) = slots.next.get_mut(key) {
            let slot = (*next).max(now);
            *next = slot + self.spacing;
            return slot;
        }
        if slots.next.len() >= slots.prune_at {
            slots.next.retain(|_, next| *next > now);
            slots.prune_at = (slots.next.len() * 2).max(KEYED_PRUNE_MIN);
        }
        slots.next.insert(key.to_string(), now + self.spacing);
        now
    }

    /// Waits for `key`'s next free slot.
    async fn wait(&self, key: &str) {
        let now = tokio::time::Instant::now();
        let slot = self.take(key, now);
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// A call for `key` went only at `went`, later than its slot here (it waited for another
    /// limit since): its next call keeps the spacing from `went`.
    fn went_at(&self, key: &str, went: tokio::time::Instant) {
        if let Some(next) = self.lock().next.get_mut(key) {
            *next = (*next).max(went + self.spacing);
        }
    }
}

/// A duration in nanoseconds, saturating (585 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The limiters of one run.
pub struct Pacer {
    global: Option<Spacing>,
    per_appid: Option<KeyedSpacing>,
    /// The job's `[limits.per_minute]`.
    job_per_minute: HashMap<String, u32>,
    /// One limiter per limited path: the job's, or a stricter one once WeChat states its limit.
    per_path: RwLock<HashMap<String, Arc<Spacing>>>,
    /// The paths whose stated limit this run has looked up (or is looking up), each once.
    stated: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<()>>>>,
    exhausted: Mutex<HashMap<String, i64>>,
    paused: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Pacer {
    /// Limiters for `limits`; a rate of 0 means unlimited (for benchmarks).
    pub fn new(limits: impl Into<Limits>) -> Pacer {
        let limits = limits.into();
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        Pacer {
            global: Spacing::grouped(limits.calls_per_second, second),
            per_appid: KeyedSpacing::per_second(limits.per_appid_per_second),
            job_per_minute: limits.per_minute.iter().map(|(path, &n)| (path.clone(), n)).collect(),
            per_path: RwLock::new(
                limits
                    .per_minute
                    .iter()
                    .filter_map(|(path, &n)| Some((path.clone(), Arc::new(Spacing::per(n, minute)?))))
                    .collect(),
            ),
            stated: Mutex::new(HashMap::new()),
            exhausted: Mutex::new(HashMap::new()),
            paused: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call to `path` for `appid` may go: its path's slot, then its appid's,
    /// then a global one, each taken once the one before has come.
    pub async fn ready(&self, appid: Option<&str>, path: &str) {
        let pause = self.paused.lock().unwrap_or_else(|e| e.into_inner()).get(path).map(|(until, _)| *until);
        if let Some(until) = pause {
            tokio::time::sleep_until(until.into()).await;
        }
        let limiter = self.per_path.read().unwrap_or_else(|e| e.into_inner()).get(path).cloned();
        if let Some(limiter) = limiter {
            limiter.wait().await;
        }
        let per_appid = self.per_appid.as_ref().zip(appid);
        if let Some((limiter, appid)) = per_appid {
            limiter.wait(appid).await;
        }
        if let Some(limiter) = &self.global {
            if let (Some(went), Some((per_appid, appid))) = (limiter.wait().await, per_appid) {
                per_appid.went_at(appid, went);
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
            self.per_path
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.to_string(), Arc::new(Spacing::new(spacing)));
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
        // Two calls to /a: the first goes at once, the second an hour later.
        let limiter = pacer.per_path.read().unwrap()["/a"].clone();
        let now = tokio::time::Instant::now();
        assert_eq!(limiter.take(now), now);
        assert_eq!(limiter.take(now), now + Duration::from_secs(3600), "one call an hour: the second is held back");
        assert!(pacer.stated_lookup("/a").set(()).is_ok());
        assert!(pacer.stated_lookup("/a").initialized(), "looked up once per run");
    }

    /// On a paused clock any wait would move time on; with no limit none passes.
    #[tokio::test(start_paused = true)]
    async fn an_unlimited_pacer_never_waits() {
        let pacer = Pacer::new(Limits { calls_per_second: 0, per_appid_per_second: 0, per_minute: Default::default() });
        let start = tokio::time::Instant::now();
        for _ in 0..1000 {
            pacer.ready(Some("wx1"), "/a").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    /// Starts `tasks` (appid, path) in order, each asking the pacer for its turn once the one
    /// before is waiting (the clock is paused: nothing moves until every task sleeps), and
    /// returns when each got it, in the order they got it, as milliseconds from the start.
    async fn turns(pacer: Pacer, tasks: &[(&'static str, &'static str)]) -> Vec<(&'static str, u64)> {
        let pacer = Arc::new(pacer);
        let start = tokio::time::Instant::now();
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for &(name, path) in tasks {
            let (pacer, served) = (pacer.clone(), served.clone());
            let appid = name.split('.').next().unwrap();
            handles.push(tokio::spawn(async move {
                pacer.ready(Some(appid), path).await;
                let at = tokio::time::Instant::now().duration_since(start).as_millis() as u64;
                served.lock().unwrap().push((name, at));
            }));
            // Let it run until it waits (or is served) before the next one asks.
            tokio::task::yield_now().await;
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Arc::try_unwrap(served).unwrap().into_inner().unwrap()
    }

    fn limits(calls_per_second: u32, per_appid_per_second: u32) -> Limits {
        Limits { calls_per_second, per_appid_per_second, per_minute: Default::default() }
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_waiting_for_the_global_limit_are_served_in_the_order_they_came() {
        let tasks: Vec<(&str, &str)> =
            ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].into_iter().map(|a| (a, "/p")).collect();
        let served = turns(Pacer::new(limits(10, 0)), &tasks).await;
        // One slot every 100 ms, the first at once, each to the next in line.
        let expected: Vec<(&str, u64)> = tasks.iter().enumerate().map(|(i, (a, _))| (*a, i as u64 * 100)).collect();
        assert_eq!(served, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn a_high_global_limit_lets_its_queued_calls_go_in_steps_never_more_than_the_limit_in_a_second() {
        // 100 calls a second: slots 10 ms apart. The first 20, which wait less than a 200 ms
        // step, go at their slots; from the 21st, each waiting a step or more, at the first
        // step at or after its slot — twenty a step, in the order they came.
        let tasks: Vec<(&str, &str)> = (0..45).map(|i| (&*format!("wx{i}").leak(), "/p")).collect();
        let served = turns(Pacer::new(limits(100, 0)), &tasks).await;
        let go = |i: u64| if i < 20 { i * 10 } else { (i * 10).div_ceil(200) * 200 };
        let expected: Vec<(&str, u64)> = tasks.iter().enumerate().map(|(i, (a, _))| (*a, go(i as u64))).collect();
        let by_time = |mut v: Vec<(&'static str, u64)>| {
            v.sort_by_key(|&(a, at)| (at, a));
            v
        };
        assert_eq!(expected[20..].iter().filter(|(_, at)| *at == 400).count(), 20);
        assert_eq!(by_time(served), by_time(expected));
        // The group is the largest divisor of the rate up to 20 whose steps are 1–200 ms
        // apart: 70/s goes 14 every 200 ms, 40/s 8; 97/s, a prime, anything under 40/s, and
        // rates whose steps would be under 1 ms keep burst 1.
        let step = |n: u32| {
            let s = Spacing::grouped(n, Duration::from_secs(1)).unwrap();
            (s.step / s.spacing, s.step)
        };
        assert_eq!(step(100), (20, 200_000_000));
        assert_eq!(step(70), (14, 200_000_000));
        assert_eq!(step(97), (1, 10_309_278));
        assert_eq!(step(39), (1, 25_641_025));
        assert_eq!(step(40), (8, 200_000_000));
        assert_eq!(step(50), (10, 200_000_000));
        assert_eq!(step(10), (1, 100_000_000));
        assert_eq!(step(1000), (20, 20_000_000));
        assert_eq!(step(1_000_000), (1, 1000));
    }

    #[test]
    fn a_grouped_limit_holds_its_rate_when_its_queue_drains() {
        // 100/s: 300 callers queued at once go in steps until 3 s; then callers that each ask
        // just as their slot comes would go at once — but not before a second has passed since
        // the call 100 before theirs, which went late, at its step.
        let limit = Spacing::grouped(100, Duration::from_secs(1)).unwrap();
        let start = limit.origin;
        let mut went: Vec<_> = (0..300).map(|_| limit.take(start)).collect();
        for i in 300u64..400 {
            went.push(limit.take(start + Duration::from_millis(i * 10) + Duration::from_micros(1)));
        }
        assert_eq!(went[299] - start, Duration::from_millis(3000));
        for (i, &at) in went.iter().enumerate() {
            let within = went[i..].iter().take_while(|&&t| t < at + Duration::from_secs(1)).count();
            assert!(within <= 100, "{within} calls in the second from {:?}", at - start);
        }
        // The 301st goes at its slot, a second after the 201st went (at 2 s); the 302nd and
        // 303rd, which ask at theirs, wait for 3.2 s, a second after the 202nd and 203rd.
        let ms = |at: tokio::time::Instant| (at - start).as_micros() as f64 / 1000.0;
        assert_eq!([ms(went[300]), ms(went[301]), ms(went[302])], [3000.001, 3200.0, 3200.0]);
    }

    #[test]
    fn a_grouped_limit_never_puts_more_than_its_rate_into_a_second() {
        // Callers arriving at odd times, some together, some after a lull; every window of a
        // second that starts at a call holds at most the limit.
        for n in [40u32, 50, 70, 100, 250, 1000] {
            let limit = Spacing::grouped(n, Duration::from_secs(1)).unwrap();
            let start = limit.origin;
            let mut went = Vec::new();
            for i in 0u64..3000 {
                let asks = start + Duration::from_micros(i * i % 7919 * 97 + i * 1700);
                went.push(limit.take(asks.max(start)));
            }
            went.sort();
            for (i, &at) in went.iter().enumerate() {
                let within = went[i..].iter().take_while(|&&t| t < at + Duration::from_secs(1)).count();
                assert!(within <= n as usize, "{n}/s: {within} calls in the second from {:?}", at - start);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_waiting_for_their_appid_or_path_are_served_in_the_order_they_came() {
        // Two calls a second per appid; nothing else limits.
        let tasks = [("wx1.a", "/p"), ("wx1.b", "/p"), ("wx1.c", "/p"), ("wx1.d", "/p"), ("wx2.a", "/p")];
        let served = turns(Pacer::new(limits(0, 2)), &tasks).await;
        assert_eq!(served, [("wx1.a", 0), ("wx2.a", 0), ("wx1.b", 500), ("wx1.c", 1000), ("wx1.d", 1500)]);
        // Thirty calls a minute to one path.
        let mut per_minute = std::collections::BTreeMap::new();
        per_minute.insert("/slow".to_string(), 30);
        let pacer = Pacer::new(Limits { per_minute, ..limits(0, 0) });
        let tasks = [("wx1", "/slow"), ("wx2", "/slow"), ("wx3", "/fast"), ("wx4", "/slow")];
        let served = turns(pacer, &tasks).await;
        assert_eq!(served, [("wx1", 0), ("wx3", 0), ("wx2", 2000), ("wx4", 4000)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_waiting_for_its_appid_holds_no_global_slot() {
        // 10 calls a second in all, one a second per appid: wx1's second and third calls wait
        // for their appid; wx2, which came after them, takes the next global slot meanwhile.
        let tasks = [("wx1.a", "/p"), ("wx1.b", "/p"), ("wx1.c", "/p"), ("wx2.a", "/p"), ("wx3.a", "/p")];
        let served = turns(Pacer::new(limits(10, 1)), &tasks).await;
        assert_eq!(served, [("wx1.a", 0), ("wx2.a", 100), ("wx3.a", 200), ("wx1.b", 1000), ("wx1.c", 2000)]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_appid_keeps_its_spacing_from_when_its_call_went() {
        // Five calls a second per appid, ten in all. wx0 … wx4 take the global slots of the
        // first 500 ms; wx9's call, free to go for its appid at 0, goes at 500 ms. Its next call,
        // asked for at once, goes 200 ms after that — not at 600 ms, 100 ms after the first.
        let pacer = Arc::new(Pacer::new(limits(10, 5)));
        let start = tokio::time::Instant::now();
        let tasks = ["wx0", "wx1", "wx2", "wx3", "wx4"].map(|appid| {
            let pacer = pacer.clone();
            tokio::spawn(async move { pacer.ready(Some(appid), "/p").await })
        });
        tokio::task::yield_now().await;
        let mut went = Vec::new();
        for _ in 0..2 {
            pacer.ready(Some("wx9"), "/p").await;
            went.push(tokio::time::Instant::now().duration_since(start).as_millis());
        }
        assert_eq!(went, [500, 700]);
        for task in tasks {
            task.await.unwrap();
        }
    }

    #[test]
    fn appids_whose_slot_has_passed_are_forgotten() {
        let keyed = KeyedSpacing::per_second(10).unwrap();
        let start = tokio::time::Instant::now();
        for i in 0..KEYED_PRUNE_MIN {
            keyed.take(&format!("wx{i}"), start);
        }
        // Every slot so far is 100 ms out; a second later they have passed and go.
        let later = start + Duration::from_secs(1);
        keyed.take("wx-new", later);
        assert_eq!(keyed.lock().next.len(), 1);
        assert_eq!(keyed.take("wx-new", later), later + Duration::from_millis(100), "the one kept is still spaced");
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
