//! The `(timestamp, nonce)` pairs of the pushes `wxprov serve` took (DESIGN §7), so that a
//! push captured on the wire and sent again is refused — also after `serve` restarts, which
//! an in-memory set would forget.
//!
//! The signature alone cannot tell a replay from the original, and the timestamp check only
//! bounds how old a replay can be (`--max-skew` either way), so a pair is kept for twice that
//! window from when it was seen and then pruned; the table stays as small as the traffic of
//! that window.

use rusqlite::params;

use super::{now_secs, Ledger, LedgerError};

impl Ledger {
    /// Remembers the pair; false when it was already seen within `keep_secs` (a replay).
    /// Pairs older than `keep_secs` are pruned in the same write.
    pub async fn remember_nonce(&self, timestamp: &str, nonce: &str, keep_secs: i64) -> Result<bool, LedgerError> {
        let (timestamp, nonce) = (timestamp.to_string(), nonce.to_string());
        self.call(move |c| {
            let now = now_secs();
            c.prepare_cached("DELETE FROM push_nonces WHERE seen_at < ?1")?.execute([now - keep_secs])?;
            let added = c
                .prepare_cached("INSERT OR IGNORE INTO push_nonces (timestamp, nonce, seen_at) VALUES (?1, ?2, ?3)")?
                .execute(params![timestamp, nonce, now])?;
            Ok(added == 1)
        })
        .await
    }

    /// Forgets a pair, so that WeChat's retry of a push that could not be stored is taken.
    pub async fn forget_nonce(&self, timestamp: &str, nonce: &str) -> Result<(), LedgerError> {
        let (timestamp, nonce) = (timestamp.to_string(), nonce.to_string());
        self.call(move |c| {
            c.execute("DELETE FROM push_nonces WHERE timestamp = ?1 AND nonce = ?2", params![timestamp, nonce])?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pair_is_taken_once_until_it_is_pruned_or_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        assert!(ledger.remember_nonce("1", "a", 7200).await.unwrap());
        assert!(!ledger.remember_nonce("1", "a", 7200).await.unwrap());
        assert!(ledger.remember_nonce("1", "b", 7200).await.unwrap());
        assert!(ledger.remember_nonce("2", "a", 7200).await.unwrap());
        ledger.forget_nonce("1", "b").await.unwrap();
        assert!(ledger.remember_nonce("1", "b", 7200).await.unwrap());
        drop(ledger);

        // Another process on the same ledger (serve restarted) still knows the pair.
        let ledger = Ledger::open(&path).unwrap();
        assert!(!ledger.remember_nonce("1", "a", 7200).await.unwrap());
        // Seen longer ago than kept: pruned, so taken again.
        ledger.call(|c| Ok(c.execute("UPDATE push_nonces SET seen_at = seen_at - 7201", [])?)).await.unwrap();
        assert!(ledger.remember_nonce("1", "a", 7200).await.unwrap());
        let left: i64 =
            ledger.call(|c| Ok(c.query_row("SELECT count(*) FROM push_nonces", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(left, 1, "the stale pairs were pruned");
    }
}
