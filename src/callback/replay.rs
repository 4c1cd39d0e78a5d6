//! Is a correctly signed push fresh (DESIGN §7)? Its `timestamp` must be within `--max-skew`
//! of this host's clock, and its `(timestamp, nonce)` must not have been taken before.
//!
//! The window is wide (an hour by default) because WeChat's SDKs do not check the timestamp
//! at all and a host whose clock is minutes off still receives pushes (NOTES.md); a push taken
//! with a skew over [`CLOCK_WARNING_SECS`] is logged as a warning about the clock. A replay
//! of a captured push must reuse its timestamp, so remembering each pair for twice the window
//! (in the ledger, see `ledger::nonces`, so across restarts too) refuses every replay.

use super::refusal::Refusal;
use crate::ledger::{Ledger, LedgerError};

/// How far a push's timestamp may be from now unless `--max-skew` says otherwise, in seconds.
pub const DEFAULT_MAX_SKEW_SECS: i64 = 3600;

/// A push taken with a larger skew than this is logged as a warning about the clock.
pub const CLOCK_WARNING_SECS: i64 = 5 * 60;

/// The freshness rules of one receiver.
#[derive(Debug, Clone, Copy)]
pub struct ReplayGuard {
    max_skew: i64,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(DEFAULT_MAX_SKEW_SECS)
    }
}

impl ReplayGuard {
    /// `max_skew` in seconds (at least 1).
    pub fn new(max_skew: i64) -> ReplayGuard {
        ReplayGuard { max_skew: max_skew.max(1) }
    }

    pub fn max_skew(&self) -> i64 {
        self.max_skew
    }

    /// How far `timestamp` (Unix seconds) is from `now`, if within the window.
    pub fn check_time(&self, timestamp: i64, now: i64) -> Result<i64, Refusal> {
        let skew = now.saturating_sub(timestamp).saturating_abs();
        if skew > self.max_skew {
            return Err(Refusal::StaleTimestamp { max_skew: self.max_skew });
        }
        Ok(skew)
    }

    /// Remembers the pair; false if it was taken before (a replay).
    pub async fn check_and_remember(&self, ledger: &Ledger, timestamp: &str, nonce: &str) -> Result<bool, LedgerError> {
        ledger.remember_nonce(timestamp, nonce, 2 * self.max_skew).await
    }

    /// Forgets a pair, so that WeChat's retry of a push that could not be stored is taken.
    pub async fn forget(&self, ledger: &Ledger, timestamp: &str, nonce: &str) -> Result<(), LedgerError> {
        ledger.forget_nonce(timestamp, nonce).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_max_skew_either_way() {
        let guard = ReplayGuard::new(3600);
        assert_eq!(guard.check_time(1_000_000, 1_000_000), Ok(0));
        assert_eq!(guard.check_time(1_000_000 - 1200, 1_000_000), Ok(1200));
        assert_eq!(guard.check_time(1_000_000 + 3600, 1_000_000), Ok(3600));
        assert_eq!(guard.check_time(1_000_000 - 3601, 1_000_000), Err(Refusal::StaleTimestamp { max_skew: 3600 }));
        assert_eq!(guard.check_time(1_000_000 + 7200, 1_000_000), Err(Refusal::StaleTimestamp { max_skew: 3600 }));
        assert!(guard.check_time(i64::MIN, i64::MAX).is_err(), "no overflow");
        assert_eq!(ReplayGuard::new(0).max_skew(), 1);
    }
}
