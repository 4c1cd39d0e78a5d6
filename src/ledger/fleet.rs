//! What the status page (`serve --status-listen`) reads: the fleet at a glance, from a
//! connection of its own opened read-only (`SQLITE_OPEN_READ_ONLY`), never the ledger's
//! writer thread, so a page being rendered never queues behind a run's writes nor holds one
//! up. The ledger runs in WAL mode: a reader sees the last commit and blocks no writer.
//!
//! Every read is a short statement of its own (no transaction held between them), so a run's
//! checkpoints are not held back. The steps are read in two scans (counts, then the steps that
//! wait or need a person, at most [`LISTED`] per state); the event log, which grows with every
//! call, is read incrementally: [`FleetReader`] keeps the calls per API and Beijing day of the
//! last [`CALL_DAYS`] days and, on each read, adds only the events written since (by their
//! `id`, which only grows).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{LedgerError, RunRecord, TicketKind};

/// Steps listed per state (the counts are whole).
pub const LISTED: usize = 50;

/// Runs shown.
const RUNS: usize = 20;

/// Beijing days of calls shown, today included.
pub const CALL_DAYS: i64 = 7;

/// A step that waits or needs a person.
#[derive(Debug, Clone)]
pub struct FleetStep {
    pub identity: String,
    pub appid: Option<String>,
    pub kind: String,
    pub state: String,
    pub errcode: Option<i64>,
    pub message: Option<String>,
    pub hint: Option<String>,
    pub not_before: Option<i64>,
    pub audit_id: Option<i64>,
    /// When the state began, as near as the ledger knows: the call that opened a review
    /// (`started_at`), else the step's last change (Unix seconds).
    pub since: i64,
}

/// Calls that reached WeChat for one API on one Beijing day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallDay {
    pub calls: i64,
    /// Answers 45009: an account's daily quota for the API was spent.
    pub quota_reached: i64,
}

/// The fleet at one moment.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub rows: i64,
    /// (kind, state) → steps.
    pub step_counts: BTreeMap<(String, String), i64>,
    /// The newest runs first, at most `RUNS` (20).
    pub runs: Vec<RunRecord>,
    /// State → its steps, at most [`LISTED`], the longest waiting first.
    pub steps: BTreeMap<String, Vec<FleetStep>>,
    /// (Beijing day `YYYY-MM-DD`, API path) → its calls, for the last [`CALL_DAYS`] days.
    pub calls: BTreeMap<(String, String), CallDay>,
    /// When the newest component verify ticket arrived (Unix seconds).
    pub verify_ticket_at: Option<i64>,
    /// The daily limit per account WeChat last stated for an API (`quota/get`), by path.
    pub daily_limits: BTreeMap<String, i64>,
}

/// The states whose steps the page lists.
const LISTED_STATES: [&str; 4] = ["in_review", "deferred", "blocked", "failed"];

/// How far before the first day shown the event log is searched by id: events are written
/// shortly after their call ends, in batches, by more than one process (a run and `serve`),
/// so `at_ms` grows with `id` only roughly.
const ID_SEARCH_MARGIN_MS: i64 = 10 * 60 * 1000;

/// The key under which the daily limit WeChat states for a path is cached (see
/// `wechat::stated`).
pub fn daily_limit_key(path: &str) -> String {
    format!("quota/get daily_limit {path}")
}

/// A read-only connection on a ledger, and the calls counted so far.
pub struct FleetReader {
    conn: Connection,
    /// The id of the last event counted.
    last_event: i64,
    /// The first Beijing day counted (events before it are not read).
    first_day: Option<String>,
    calls: BTreeMap<(String, String), CallDay>,
}

impl FleetReader {
    /// Opens the ledger at `path` read-only; it must exist.
    pub fn open(path: &Path) -> Result<FleetReader, LedgerError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| LedgerError::Open { path: path.display().to_string(), reason: e.to_string() })?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        Ok(FleetReader { conn, last_event: 0, first_day: None, calls: BTreeMap::new() })
    }

    /// Changes whenever another connection (a run, `serve`'s receiver) commits: a page
    /// rendered at the same version shows the same ledger.
    pub fn data_version(&self) -> Result<i64, LedgerError> {
        Ok(self.conn.pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// Reads the fleet as of now (`now`, Unix seconds, decides which Beijing days are shown).
    pub fn read(&mut self, now: i64) -> Result<Fleet, LedgerError> {
        let c = &self.conn;
        let rows = c.query_row("SELECT count(*) FROM rows", [], |r| r.get(0))?;
        let step_counts = super::status::step_counts(c)?;
        let steps = self.listed_steps()?;
        let runs = self.runs()?;
        let verify_ticket_at = self
            .conn
            .query_row(
                "SELECT max(received_at) FROM tickets WHERE kind = ?1",
                [TicketKind::ComponentVerify.as_str()],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten();
        let daily_limits = self.daily_limits()?;
        self.count_calls(now)?;
        Ok(Fleet { rows, step_counts, runs, steps, calls: self.calls.clone(), verify_ticket_at, daily_limits })
    }

    /// The steps of each listed state, at most [`LISTED`] each, the longest waiting first:
    /// one scan of `steps`.
    fn listed_steps(&self) -> Result<BTreeMap<String, Vec<FleetStep>>, LedgerError> {
        // The states as comparisons, not an `IN` list (see schema.rs, version 3).
        let states = LISTED_STATES.iter().map(|s| format!("s.state = '{s}'")).collect::<Vec<_>>().join(" OR ");
        let sql = format!(
            "SELECT identity, appid, kind, state, errcode, message, hint, not_before, audit_id, since FROM (
                 SELECT s.identity, r.appid, s.kind, s.state, s.errcode, s.message, s.hint, s.not_before,
                        s.audit_id, COALESCE(s.started_at, s.updated_at) AS since,
                        row_number() OVER (PARTITION BY s.state
                                           ORDER BY COALESCE(s.not_before, s.started_at, s.updated_at), s.identity) AS n
                   FROM steps s LEFT JOIN rows r ON r.identity = s.identity
                  WHERE {states})
              WHERE n <= ?1 ORDER BY state, n"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out: BTreeMap<String, Vec<FleetStep>> = BTreeMap::new();
        let rows = stmt.query_map([LISTED as i64], |r| {
            Ok(FleetStep {
                identity: r.get(0)?,
                appid: r.get(1)?,
                kind: r.get(2)?,
                state: r.get(3)?,
                errcode: r.get(4)?,
                message: r.get(5)?,
                hint: r.get(6)?,
                not_before: r.get(7)?,
                audit_id: r.get(8)?,
                since: r.get(9)?,
            })
        })?;
        for step in rows {
            let step = step?;
            out.entry(step.state.clone()).or_default().push(step);
        }
        Ok(out)
    }

    fn runs(&self) -> Result<Vec<RunRecord>, LedgerError> {
        Ok(super::runs::recent_runs(&self.conn, RUNS)?)
    }

    fn daily_limits(&self) -> Result<BTreeMap<String, i64>, LedgerError> {
        let prefix = daily_limit_key("");
        let mut stmt = self.conn.prepare_cached("SELECT key, value FROM cache WHERE key >= ?1 AND key < ?2")?;
        // Every key with the prefix: those between it and the prefix with its last byte raised.
        let mut upper = prefix.clone().into_bytes();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        let upper = String::from_utf8(upper).unwrap_or_default();
        let mut limits = BTreeMap::new();
        for row in stmt.query_map(params![prefix, upper], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (key, value) = row?;
            if let (Some(path), Ok(limit)) = (key.strip_prefix(&prefix), value.trim().parse()) {
                limits.insert(path.to_string(), limit);
            }
        }
        Ok(limits)
    }

    /// Brings the calls per API and Beijing day up to date: the events written since the last
    /// read, from the first day shown on.
    fn count_calls(&mut self, now: i64) -> Result<(), LedgerError> {
        let today = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
        let first = wechat_open::beijing::day_start(today) - chrono::Duration::days(CALL_DAYS - 1);
        let first_day = wechat_open::beijing::local(first).format("%Y-%m-%d").to_string();
        self.calls.retain(|(day, _), _| *day >= first_day);
        let first_ms = first.timestamp_millis();
        if self.first_day.is_none() {
            self.last_event = self.first_event_near(first_ms - ID_SEARCH_MARGIN_MS)? - 1;
        }
        self.first_day = Some(first_day);
        // Up to the newest event now: every event up to it is counted, or skipped for good
        // (it never reached WeChat), and the next read starts after it.
        let newest: Option<i64> = self.conn.query_row("SELECT max(id) FROM events", [], |r| r.get(0))?;
        let newest = newest.unwrap_or(0).max(self.last_event);
        let mut stmt = self.conn.prepare_cached(
            "SELECT date(at_ms / 1000, 'unixepoch', '+8 hours'), api, errcode FROM events
              WHERE id > ?1 AND id <= ?2 AND at_ms >= ?3 AND errcode IS NOT NULL",
        )?;
        let mut rows = stmt.query(params![self.last_event, newest, first_ms])?;
        while let Some(r) = rows.next()? {
            let (day, api, errcode): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let entry = self.calls.entry((day, api)).or_default();
            entry.calls += 1;
            if errcode == 45009 {
                entry.quota_reached += 1;
            }
        }
        self.last_event = newest;
        Ok(())
    }

    /// The smallest id of an event at or after `at_ms`, by binary search on `id` (the event
    /// log has no index on its time; `id` is its key and grows with it, roughly).
    fn first_event_near(&self, at_ms: i64) -> Result<i64, LedgerError> {
        // Two subqueries: `min(id), max(id)` in one would read every row to find them.
        let bounds: (Option<i64>, Option<i64>) =
            self.conn.query_row("SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let (Some(mut lo), Some(max)) = bounds else { return Ok(1) };
        let mut hi = max + 1;
        let mut stmt = self.conn.prepare_cached("SELECT id, at_ms FROM events WHERE id >= ?1 ORDER BY id LIMIT 1")?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;

    /// 2026-11-20 16:00:00 UTC: midnight of the 21st in Beijing.
    const MIDNIGHT_21ST_MS: i64 = 1_795_190_400_000;

    async fn log(ledger: &Ledger, at_ms: i64, api: &str, errcode: Option<i64>) {
        let api = api.to_string();
        ledger
            .call(move |c| {
                c.execute(
                    "INSERT INTO events (at_ms, appid, api, errcode, duration_ms, outcome) VALUES (?1, 'wxa', ?2, ?3, 1, 'ok')",
                    params![at_ms, api, errcode],
                )?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// Each call is counted once, on its Beijing day, whether it was written before the first
    /// read or between two; calls that never reached WeChat and days before the window are not.
    #[tokio::test]
    async fn calls_are_counted_once_per_beijing_day_as_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        let day = 86_400_000;
        log(&ledger, MIDNIGHT_21ST_MS - 8 * day, "/a", Some(0)).await; // before the seven days
        log(&ledger, MIDNIGHT_21ST_MS - 1000, "/a", Some(0)).await; // the 20th
        log(&ledger, MIDNIGHT_21ST_MS, "/a", Some(45009)).await; // the 21st
        log(&ledger, MIDNIGHT_21ST_MS + 1000, "/a", None).await; // never reached WeChat
        let mut reader = FleetReader::open(&path).unwrap();
        let now = (MIDNIGHT_21ST_MS + 3_600_000) / 1000;
        let counts = |f: &Fleet| -> Vec<(String, String, i64, i64)> {
            f.calls.iter().map(|((d, a), c)| (d.clone(), a.clone(), c.calls, c.quota_reached)).collect()
        };
        let first = reader.read(now).unwrap();
        let row = |d: &str, a: &str, n, q| (d.to_string(), a.to_string(), n, q);
        assert_eq!(counts(&first), [row("2026-11-20", "/a", 1, 0), row("2026-11-21", "/a", 1, 1)]);
        let version = reader.data_version().unwrap();
        log(&ledger, MIDNIGHT_21ST_MS + 2000, "/b", Some(0)).await;
        log(&ledger, MIDNIGHT_21ST_MS + 3000, "/a", Some(0)).await;
        assert_ne!(reader.data_version().unwrap(), version, "another connection's commit is seen");
        let second = reader.read(now).unwrap();
        assert_eq!(
            counts(&second),
            [row("2026-11-20", "/a", 1, 0), row("2026-11-21", "/a", 2, 1), row("2026-11-21", "/b", 1, 0)]
        );
        // The read-only connection writes nothing.
        let write = reader.conn.execute("DELETE FROM events", []);
        assert!(write.is_err(), "{write:?}");
    }
}
