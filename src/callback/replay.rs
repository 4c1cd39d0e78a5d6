//! Remembers the `(timestamp, nonce)` pairs of recently accepted pushes, so that a push
//! captured on the wire and sent again is refused (DESIGN §7).
//!
//! The signature alone cannot tell a replay from the original, and the timestamp check only
//! bounds how old a replay can be (5 minutes either way), so pairs are kept for twice that
//! window and then forgotten. Memory is bounded: past [`ReplayGuard::capacity`] pairs the
//! oldest is dropped (a replay of it would still need a timestamp no older than 5 minutes,
//! and at the capacity's rate that pair has long gone stale).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a pair is remembered.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How many pairs are remembered at most, by default.
pub const DEFAULT_CAPACITY: usize = 100_000;

type Pair = (String, String);

#[derive(Debug, Default)]
struct Seen {
    set: HashSet<Pair>,
    order: VecDeque<(Instant, Pair)>,
}

/// The pairs seen in the last [`REPLAY_WINDOW`], at most `capacity` of them.
#[derive(Debug)]
pub struct ReplayGuard {
    seen: Mutex<Seen>,
    window: Duration,
    capacity: usize,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(REPLAY_WINDOW, DEFAULT_CAPACITY)
    }
}

impl ReplayGuard {
    pub fn new(window: Duration, capacity: usize) -> ReplayGuard {
        ReplayGuard { seen: Mutex::new(Seen::default()), window, capacity: capacity.max(1) }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic while holding the lock cannot leave the set inconsistent in a way that
        // matters here (at worst a pair is remembered twice), so a poisoned lock is reused.
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers the pair; false if it was already seen within the window (a replay).
    pub fn check_and_remember(&self, timestamp: &str, nonce: &str) -> bool {
        self.check_at(timestamp, nonce, Instant::now())
    }

    fn check_at(&self, timestamp: &str, nonce: &str, now: Instant) -> bool {
        let mut seen = self.lock();
        while let Some((at, _)) = seen.order.front() {
            if now.saturating_duration_since(*at) < self.window {
                break;
            }
            if let Some((_, pair)) = seen.order.pop_front() {
                seen.set.remove(&pair);
            }
        }
        let pair = (timestamp.to_string(), nonce.to_string());
        if seen.set.contains(&pair) {
            return false;
        }
        while seen.order.len() >= self.capacity {
            if let Some((_, old)) = seen.order.pop_front() {
                seen.set.remove(&old);
            }
        }
        seen.set.insert(pair.clone());
        seen.order.push_back((now, pair));
        true
    }

    /// Forgets a pair, so that WeChat's retry of a push that could not be stored is taken.
    pub fn forget(&self, timestamp: &str, nonce: &str) {
        let mut seen = self.lock();
        let pair = (timestamp.to_string(), nonce.to_string());
        if seen.set.remove(&pair) {
            seen.order.retain(|(_, p)| *p != pair);
        }
    }

    /// How many pairs are remembered now.
    pub fn len(&self) -> usize {
        self.lock().set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_taken_once_within_the_window() {
        let guard = ReplayGuard::new(Duration::from_secs(600), 10);
        let t0 = Instant::now();
        assert!(guard.check_at("1", "a", t0));
        assert!(!guard.check_at("1", "a", t0 + Duration::from_secs(599)));
        assert!(guard.check_at("1", "b", t0));
        assert!(guard.check_at("2", "a", t0));
        // After the window the pair is forgotten.
        assert!(guard.check_at("1", "a", t0 + Duration::from_secs(601)));
    }

    #[test]
    fn memory_is_bounded() {
        let guard = ReplayGuard::new(Duration::from_secs(600), 3);
        let t0 = Instant::now();
        for n in 0..10 {
            assert!(guard.check_at("1", &n.to_string(), t0));
        }
        assert_eq!(guard.len(), 3);
        assert!(!guard.check_at("1", "9", t0));
        assert!(guard.check_at("1", "0", t0), "the oldest was dropped");
    }

    #[test]
    fn forget_lets_a_retry_in() {
        let guard = ReplayGuard::default();
        assert!(guard.check_and_remember("1", "a"));
        guard.forget("1", "a");
        assert!(guard.is_empty());
        assert!(guard.check_and_remember("1", "a"));
    }
}
