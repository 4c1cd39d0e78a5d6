//! Runs: when each `run` started and ended, how (running, finished, interrupted, failed) and
//! why, how many rows (and how many of them were finished, by it or before), steps per state
//! and calls, and its exit code. `wxprov status` reads them back.

use rusqlite::params;

use super::{now_secs, Ledger, LedgerError};

/// How a run ended, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Not ended (yet: or its process died without a word).
    Running,
    /// Ran to its end; the exit code says what the rows need.
    Finished,
    /// SIGINT/SIGTERM: calls in flight were let finish, the reports say so.
    Interrupted,
    /// Could not proceed (exit 1): the reason says why.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    pub(super) fn parse(s: &str) -> RunStatus {
        match s {
            "finished" => RunStatus::Finished,
            "interrupted" => RunStatus::Interrupted,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Running,
        }
    }
}

/// A run as `status` shows it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub command: String,
    pub job: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub rows: Option<i64>,
    /// Rows finished at its end (every step done or skipped), and of them the rows it
    /// finished; `None` for a run that has not ended or ended before schema 12.
    pub rows_finished: Option<i64>,
    pub rows_finished_now: Option<i64>,
    pub calls: Option<i64>,
    pub exit_code: Option<i64>,
    pub status: RunStatus,
    pub reason: Option<String>,
}

/// How a run ended, for [`Ledger::end_run`].
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub status: RunStatus,
    pub reason: Option<String>,
    pub rows: usize,
    /// Rows finished at the run's end, and of them the rows this run finished.
    pub rows_finished: usize,
    pub rows_finished_now: usize,
    /// Steps per state at the run's end (what summary.json says): the run's counts, kept
    /// in the ledger instead of a snapshot of each row.
    pub steps: std::collections::BTreeMap<&'static str, usize>,
    pub calls: u64,
    pub exit_code: u8,
}

impl Ledger {
    pub async fn begin_run(&self, id: &str, command: &str, job: &str) -> Result<(), LedgerError> {
        let (id, command, job) = (id.to_string(), command.to_string(), job.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO runs (id, command, job, started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')",
                params![id, command, job, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    /// Records how the run ended. The reason must hold no secret (callers redact it).
    pub async fn end_run(&self, id: &str, end: RunEnd) -> Result<(), LedgerError> {
        let id = id.to_string();
        let steps = serde_json::to_string(&end.steps).unwrap_or_default();
        self.call(move |c| {
            c.execute(
                "UPDATE runs SET finished_at = ?2, rows = ?3, calls = ?4, exit_code = ?5, status = ?6, reason = ?7,
                                 steps = ?8, rows_finished = ?9, rows_finished_now = ?10
                 WHERE id = ?1",
                params![
                    id,
                    now_secs(),
                    end.rows as i64,
                    end.calls as i64,
                    end.exit_code as i64,
                    end.status.as_str(),
                    end.reason,
                    steps,
                    end.rows_finished as i64,
                    end.rows_finished_now as i64
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest runs first.
    pub async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        self.call(move |c| Ok(recent_runs(c, limit)?)).await
    }
}

/// The newest `limit` runs, first the newest, on `conn` (the ledger's own connection, or the
/// status page's read-only one).
pub(crate) fn recent_runs(conn: &rusqlite::Connection, limit: usize) -> rusqlite::Result<Vec<RunRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, command, job, started_at, finished_at, rows, calls, exit_code, status, reason, rows_finished,
                rows_finished_now
         FROM runs ORDER BY started_at DESC, id DESC LIMIT ?1",
    )?;
    let runs = stmt
        .query_map([limit as i64], |r| {
            Ok(RunRecord {
                id: r.get(0)?,
                command: r.get(1)?,
                job: r.get(2)?,
                started_at: r.get(3)?,
                finished_at: r.get(4)?,
                rows: r.get(5)?,
                calls: r.get(6)?,
                exit_code: r.get(7)?,
                status: RunStatus::parse(&r.get::<_, String>(8)?),
                reason: r.get(9)?,
                rows_finished: r.get(10)?,
                rows_finished_now: r.get(11)?,
            })
        })?
        .collect();
    runs
}
