//! Upkeep, so that a ledger that lives for years stays small (DESIGN §1, §2): the event log
//! is pruned to `keep_events_days` at the end of every run and by `wxprov ledger vacuum`,
//! which then compacts the file — SQLite reuses the pages a delete frees but never gives
//! them back to the file system by itself.
//!
//! An event's age is measured by its own time (`at_ms`, when the call ended, in UTC
//! milliseconds as stored): an event is pruned when it is older than the setting, and one
//! exactly that old is kept. Only old events are deleted, so a prune never touches what
//! another process (`serve`) is writing at the same time.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{Ledger, LedgerError};

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The oldest event time kept when the log is pruned to `keep_days` at `now_ms`.
fn events_cutoff(keep_days: u32, now_ms: i64) -> i64 {
    now_ms.saturating_sub(i64::from(keep_days) * DAY_MS)
}

impl Ledger {
    /// Deletes the events older than `keep_days` days at `now_ms` (see the module docs);
    /// returns how many.
    pub async fn prune_events(&self, keep_days: u32, now_ms: i64) -> Result<u64, LedgerError> {
        let cutoff = events_cutoff(keep_days, now_ms);
        self.call(move |c| {
            let deleted = c.prepare_cached("DELETE FROM events WHERE at_ms < ?1")?.execute([cutoff])?;
            Ok(deleted as u64)
        })
        .await
    }
}

/// Compacts the ledger at `path` on a connection of its own (VACUUM cannot run inside the
/// transaction every [`Ledger`] job runs in), then folds the write-ahead log back into the
/// file and empties it, so the file system gets the space back; returns the bytes it takes
/// then ([`size_on_disk`]). It waits for another process's write as every ledger connection
/// does; readers do not stop it.
pub fn compact(path: &Path) -> Result<u64, LedgerError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);
    Ok(size_on_disk(path))
}

/// Bytes of the file at `path` and of its write-ahead log (`PATH-wal`), where they exist.
pub fn size_on_disk(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), PathBuf::from(wal)].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn event_times(ledger: &Ledger) -> Vec<i64> {
        ledger
            .call(|c| {
                let mut stmt = c.prepare("SELECT at_ms FROM events ORDER BY at_ms")?;
                let times = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(times)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_event_exactly_as_old_as_the_setting_is_kept_and_an_older_one_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now = 1_800_000_000_000;
        let cutoff = now - 7 * DAY_MS;
        let times = [cutoff - 8 * DAY_MS, cutoff - 1, cutoff, cutoff + 1, now - 1, now, now + 5];
        let events = times
            .iter()
            .map(|&at_ms| super::super::CallEvent {
                at_ms,
                run_id: None,
                appid: None,
                api: "/x".into(),
                errcode: Some(0),
                duration_ms: 1,
                outcome: "ok".into(),
            })
            .collect();
        ledger.record_calls(events);
        ledger.flush().await.unwrap();
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 2);
        assert_eq!(event_times(&ledger).await, [cutoff, cutoff + 1, now - 1, now, now + 5]);
        // Nothing more to prune at the same time.
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 0);
    }

    #[test]
    fn the_cutoff_does_not_overflow() {
        assert_eq!(events_cutoff(u32::MAX, 0), -i64::from(u32::MAX) * DAY_MS);
        assert_eq!(events_cutoff(1, i64::MIN), i64::MIN);
    }
}
