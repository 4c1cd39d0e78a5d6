//! The append-only log of every API call: when, which run, which appid, which API, the
//! errcode and how long it took. Never a token: the API is a path without its query string.
//! The view `quota_use` counts from it the calls that reached WeChat per appid, API and
//! Beijing-time day, which is what WeChat's daily quotas count.
//!
//! Events come in roughly in time order, and the prune (`upkeep.rs`) relies on it instead of
//! an index on their time: each batch notes the events written more than [`ORDER_SLACK_MS`]
//! older than the newest one written in order before them (`events_late`: a clock set back,
//! a run's batch of calls written after `serve`'s newer ones) and keeps that newest time
//! (`events_clock`). Every other event is then at most the slack older than any event with
//! a smaller id.

use rusqlite::{params, Connection, OptionalExtension};

use super::Ledger;
use wechat_open::calls::CallSink;

pub use wechat_open::calls::CallEvent;

/// How much older than the newest event before it an event may be and still count as in
/// order: a call's event waits in its process for the batch (64 calls) and for the ledger's
/// commit, and two processes write (a run and `serve`). Ten minutes; schema v11 has it too.
pub(super) const ORDER_SLACK_MS: i64 = 10 * 60 * 1000;

impl Ledger {
    /// Appends calls to the event log. Queued, not awaited: the call log must not slow
    /// every call down by a commit; it is written with the next batch.
    pub fn record_calls(&self, events: Vec<CallEvent>) {
        self.call_later(move |c| super::atomic(c, |c| append(c, events)))
    }
}

/// Writes `events` in their order, listing the late ones (see the module docs).
fn append(c: &Connection, events: Vec<CallEvent>) -> Result<(), super::LedgerError> {
    let before: Option<i64> =
        c.prepare_cached("SELECT newest_ms FROM events_clock")?.query_row([], |r| r.get(0)).optional()?;
    let mut newest = before;
    let mut insert = c.prepare_cached(
        "INSERT INTO events (at_ms, run_id, appid, api, errcode, duration_ms, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in events {
        insert.execute(params![e.at_ms, e.run_id, e.appid, e.api, e.errcode, e.duration_ms, e.outcome])?;
        match newest {
            Some(n) if e.at_ms < n.saturating_sub(ORDER_SLACK_MS) => {
                c.prepare_cached("INSERT INTO events_late (id) VALUES (?1)")?.execute([c.last_insert_rowid()])?;
            }
            _ => newest = Some(newest.map_or(e.at_ms, |n| n.max(e.at_ms))),
        }
    }
    if newest != before {
        c.prepare_cached(
            "INSERT INTO events_clock (id, newest_ms) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET newest_ms = excluded.newest_ms",
        )?
        .execute([newest])?;
    }
    Ok(())
}

/// The id where, by binary search on `id` over the events written in order (not late),
/// their time reaches `at_ms`: the in-order event there is at or after `at_ms`, the one before
/// it earlier (0 for an empty log; one past the last event when none reaches it). As an
/// in-order event is at most [`ORDER_SLACK_MS`] older than any before it, every one from that
/// id on is at or after `at_ms - ORDER_SLACK_MS`, and every one before it earlier than
/// `at_ms + ORDER_SLACK_MS`.
pub(super) fn first_in_order_at(c: &Connection, at_ms: i64) -> Result<i64, super::LedgerError> {
    // Two subqueries: `min(id), max(id)` in one would read every row to find them.
    let bounds: (Option<i64>, Option<i64>) =
        c.query_row("SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (Some(mut lo), Some(max)) = bounds else { return Ok(0) };
    let mut hi = max + 1;
    let mut stmt = c.prepare_cached(
        "SELECT id, at_ms FROM events
          WHERE id >= ?1 AND NOT EXISTS (SELECT 1 FROM events_late WHERE events_late.id = events.id)
          ORDER BY id LIMIT 1",
    )?;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let found: Option<(i64, i64)> = stmt.query_row([mid], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match found {
            Some((id, at)) if at < at_ms => lo = id + 1,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

/// The call log's events go to the event log.
impl CallSink for Ledger {
    fn record(&self, events: Vec<CallEvent>) {
        self.record_calls(events);
    }
}
