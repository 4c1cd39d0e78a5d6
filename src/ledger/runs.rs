//! Runs: when each `run` started and finished, how many rows and calls, and its exit code.
//! `wxprov status` reads them back with the step counts.

use rusqlite::params;

use super::{now_secs, Ledger, LedgerError};

/// A run as `status` shows it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub command: String,
    pub job: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub rows: Option<i64>,
    pub calls: Option<i64>,
    pub exit_code: Option<i64>,
}

impl Ledger {
    pub async fn begin_run(&self, id: &str, command: &str, job: &str) -> Result<(), LedgerError> {
        let (id, command, job) = (id.to_string(), command.to_string(), job.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO runs (id, command, job, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, command, job, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn finish_run(&self, id: &str, rows: usize, calls: u64, exit_code: u8) -> Result<(), LedgerError> {
        let id = id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE runs SET finished_at = ?2, rows = ?3, calls = ?4, exit_code = ?5 WHERE id = ?1",
                params![id, now_secs(), rows as i64, calls as i64, exit_code as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest runs first.
    pub async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, command, job, started_at, finished_at, rows, calls, exit_code
                 FROM runs ORDER BY started_at DESC, id DESC LIMIT ?1",
            )?;
            let rows = stmt
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
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
