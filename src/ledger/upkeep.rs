//! Upkeep, so that a ledger that lives for years stays small (DESIGN §1, §2): the event log
//! is pruned to `keep_events_days` at the end of every run and by `wxprov ledger vacuum`,
//! which then compacts the file — SQLite reuses the pages a delete frees but never gives
//! them back to the file system by itself.
//!
//! An event's age is measured by its own time (`at_ms`, when the call ended, in UTC
//! milliseconds as stored): an event is pruned when it is older than the setting, and one
//! exactly that old is kept, whatever order the events came in (a clock set back, a run's
//! batch written after `serve`'s newer calls). A prune reads about what it deletes, not the
//! whole log, and without an index on the time, which would cost every event written: the
//! events written in order (`events.rs`) are read up to an id found by binary search, whose
//! events are less than twice the slack past the cutoff, and the few written late are
//! listed. Only old events are deleted, so a prune never touches what another process
//! (`serve`) is writing at the same time.
//!
//! `serve`'s own log goes with the same setting: its lines of the callbacks it took or
//! refused (`callback_events`, one at least every 10 minutes: WeChat's verify ticket) and the
//! tickets spent — verify tickets but the newest (the status page shows its age), and used
//! tickets of the other kinds. A ticket not yet used of another kind (a scan's ticket, a
//! rebind's taskid) is kept whatever its age: a step may still need it. Both tables are
//! small (a year of verify tickets is about 53,000 lines), so they are read whole.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::events::{first_in_order_at, ORDER_SLACK_MS};
use super::{Ledger, LedgerError};

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The prune of the events in order: those before an id, as old as they are.
const PRUNE_IN_ORDER: &str = "DELETE FROM events WHERE id < ?1 AND at_ms < ?2";

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
            super::atomic(c, |c| {
                // Every event written in order from `bound` on is at or after `cutoff` (kept);
                // the ones before it are less than twice the slack past it, or older.
                let bound = first_in_order_at(c, cutoff.saturating_add(ORDER_SLACK_MS))?;
                let in_order = c.prepare_cached(PRUNE_IN_ORDER)?.execute(params![bound, cutoff])?;
                let late = c
                    .prepare_cached("DELETE FROM events WHERE id IN (SELECT id FROM events_late) AND at_ms < ?1")?
                    .execute([cutoff])?;
                // A deleted event's id can be given again (when the newest went): none stays listed.
                c.prepare_cached(
                    "DELETE FROM events_late WHERE NOT EXISTS (SELECT 1 FROM events WHERE events.id = events_late.id)",
                )?
                .execute([])?;
                prune_serve_log(c, cutoff.div_euclid(1000))?;
                Ok((in_order + late) as u64)
            })
        })
        .await
    }
}

/// Deletes `serve`'s callback lines and spent tickets received before `cutoff_secs` (see the
/// module docs).
fn prune_serve_log(c: &Connection, cutoff_secs: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM callback_events WHERE received_at < ?1")?.execute([cutoff_secs])?;
    c.prepare_cached(
        "DELETE FROM tickets WHERE received_at < ?1
           AND (used_at IS NOT NULL
                OR (kind = ?2 AND received_at < (SELECT max(received_at) FROM tickets WHERE kind = ?2)))",
    )?
    .execute(params![cutoff_secs, super::TicketKind::ComponentVerify.as_str()])?;
    Ok(())
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

    /// The values of the one column `sql` selects, in its order.
    async fn column<T: rusqlite::types::FromSql + Send + 'static>(ledger: &Ledger, sql: String) -> Vec<T> {
        ledger
            .call(move |c| {
                let mut stmt = c.prepare(&sql)?;
                let values = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(values)
            })
            .await
            .unwrap()
    }

    async fn event_times(ledger: &Ledger) -> Vec<i64> {
        column(ledger, "SELECT at_ms FROM events ORDER BY at_ms".into()).await
    }

    /// Writes events at `times`, in that order (their ids grow in it).
    async fn record(ledger: &Ledger, times: &[i64]) {
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
    }

    #[tokio::test]
    async fn an_event_exactly_as_old_as_the_setting_is_kept_and_an_older_one_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now = 1_800_000_000_000;
        let cutoff = now - 7 * DAY_MS;
        record(&ledger, &[cutoff - 8 * DAY_MS, cutoff - 1, cutoff, cutoff + 1, now - 1, now, now + 5]).await;
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 2);
        assert_eq!(event_times(&ledger).await, [cutoff, cutoff + 1, now - 1, now, now + 5]);
        // Nothing more to prune at the same time.
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 0);
    }

    /// The events' times, or another table's ids, in id order.
    async fn by_id(ledger: &Ledger, table: &'static str) -> Vec<i64> {
        let column_name = if table == "events" { "at_ms" } else { "id" };
        column(ledger, format!("SELECT {column_name} FROM {table} ORDER BY id")).await
    }

    /// The log's order is not its time's: a clock that ran a year ahead and was set back.
    /// Every old event goes, wherever it is in the log, and every young one stays; the late
    /// ones deleted are no longer listed.
    #[tokio::test]
    async fn a_clock_set_back_still_prunes_every_old_event_and_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now = 1_800_000_000_000;
        let cutoff = now - 7 * DAY_MS;
        let year = 365 * DAY_MS;
        let written = [cutoff - 2, cutoff + 1, now + year, cutoff - 1, cutoff, cutoff - 3 * DAY_MS, now, cutoff - 5];
        record(&ledger, &written).await;
        assert_eq!(by_id(&ledger, "events_late").await, [4, 5, 6, 7, 8], "every event after the year ahead is late");
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 4);
        assert_eq!(by_id(&ledger, "events").await, [cutoff + 1, now + year, cutoff, now]);
        assert_eq!(by_id(&ledger, "events_late").await, [5, 7]);
        // The year passes: the clock is back in order with the newest event.
        let later = now + year + 7 * DAY_MS;
        record(&ledger, &[later]).await;
        assert_eq!(by_id(&ledger, "events_late").await, [5, 7]);
        assert_eq!(ledger.prune_events(7, later).await.unwrap(), 3);
        assert_eq!(by_id(&ledger, "events").await, [now + year, later]);
        assert!(by_id(&ledger, "events_late").await.is_empty());
    }

    /// Within the slack, out of order is in order (calls that ended while others were being
    /// written, two processes' batches): not listed, and pruned all the same, on both sides of
    /// the cutoff, wherever the binary search lands.
    #[tokio::test]
    async fn events_a_little_out_of_order_are_pruned_by_their_own_time() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now = 1_800_000_000_000;
        let cutoff = now - 7 * DAY_MS;
        let minute = 60_000;
        let mut written = Vec::new();
        for i in -40..40 {
            // Each pair a few minutes apart, the second written first.
            written.extend([cutoff + i * minute + 3 * minute, cutoff + i * minute - 4 * minute]);
        }
        record(&ledger, &written).await;
        assert!(by_id(&ledger, "events_late").await.is_empty());
        let old = written.iter().filter(|&&t| t < cutoff).count() as u64;
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), old);
        let mut kept: Vec<i64> = written.iter().copied().filter(|&t| t >= cutoff).collect();
        assert_eq!(by_id(&ledger, "events").await, kept);
        // Nothing more at the same time; an empty log prunes nothing.
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 0);
        assert_eq!(ledger.prune_events(7, now + DAY_MS * 30).await.unwrap(), kept.len() as u64);
        kept.clear();
        assert_eq!(by_id(&ledger, "events").await, kept);
        assert_eq!(ledger.prune_events(7, now).await.unwrap(), 0);
    }

    /// The prune of the events in order reads a range of ids, not the whole log (which cost
    /// half a second at the end of a million-row resume).
    #[tokio::test]
    async fn the_prune_reads_a_range_of_ids() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let plan: Vec<String> = ledger
            .call(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {PRUNE_IN_ORDER}"))?;
                let plan = stmt.query_map([0, 0], |r| r.get(3))?.collect::<Result<_, _>>()?;
                Ok(plan)
            })
            .await
            .unwrap();
        assert_eq!(plan, ["SEARCH events USING INTEGER PRIMARY KEY (rowid<?)"]);
    }

    async fn tickets(ledger: &Ledger) -> Vec<String> {
        column(ledger, "SELECT value FROM tickets ORDER BY received_at, value".into()).await
    }

    /// `serve`'s log goes with the events: callback lines older than the setting, spent
    /// tickets older than it; the newest verify ticket and an unused ticket of another kind
    /// stay whatever their age, and so does everything younger.
    #[tokio::test]
    async fn serves_old_callback_lines_and_spent_tickets_are_pruned_with_the_events() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now_ms = 1_800_000_000_000;
        let cutoff = (now_ms - 7 * DAY_MS) / 1000;
        ledger
            .call(move |c| {
                for (id, at) in [(1, cutoff - 86_400), (2, cutoff - 1), (3, cutoff), (4, cutoff + 600)] {
                    c.execute(
                        "INSERT INTO callback_events (id, received_at, path, kind, outcome) VALUES (?1, ?2, '/p', 'k', 'stored')",
                        params![id, at],
                    )?;
                }
                let tickets: [(&str, &str, i64, Option<i64>); 7] = [
                    ("component_verify_ticket", "old-verify", cutoff - 600, Some(cutoff - 500)),
                    ("component_verify_ticket", "old-verify-unused", cutoff - 1, None),
                    ("component_verify_ticket", "young-verify", cutoff, None),
                    ("fastregister", "old-used-scan", cutoff - 86_400, Some(cutoff - 86_000)),
                    ("fastregister", "old-unused-scan", cutoff - 86_400, None),
                    ("rebind", "young-used-taskid", cutoff + 10, Some(cutoff + 20)),
                    ("component_verify_ticket", "newest-verify", cutoff + 600, None),
                ];
                for (kind, value, received, used) in tickets {
                    c.execute(
                        "INSERT INTO tickets (kind, account, value, received_at, used_at) VALUES (?1, 'a', ?2, ?3, ?4)",
                        params![kind, value, received, used],
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
        ledger.prune_events(7, now_ms).await.unwrap();
        assert_eq!(by_id(&ledger, "callback_events").await, [3, 4]);
        assert_eq!(tickets(&ledger).await, ["old-unused-scan", "young-verify", "young-used-taskid", "newest-verify"]);

        // Long after, with no newer ticket: the newest verify ticket still stays.
        ledger.prune_events(7, now_ms + 365 * DAY_MS).await.unwrap();
        assert!(by_id(&ledger, "callback_events").await.is_empty());
        assert_eq!(tickets(&ledger).await, ["old-unused-scan", "newest-verify"]);
    }

    #[test]
    fn the_cutoff_does_not_overflow() {
        assert_eq!(events_cutoff(u32::MAX, 0), -i64::from(u32::MAX) * DAY_MS);
        assert_eq!(events_cutoff(1, i64::MIN), i64::MIN);
    }
}
