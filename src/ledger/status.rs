//! What `wxprov status` reads: step counts, the steps waiting on WeChat or on time, and the
//! recent runs.

use std::collections::BTreeMap;

use rusqlite::params;

use super::{Ledger, LedgerError};

/// A step waiting for something: an audit, a date, a scan.
#[derive(Debug, Clone)]
pub struct WaitingStep {
    pub identity: String,
    pub appid: Option<String>,
    pub kind: String,
    pub state: String,
    pub not_before: Option<i64>,
    pub audit_id: Option<i64>,
    pub message: Option<String>,
    /// What to do about it (blocked and failed steps).
    pub hint: Option<String>,
    pub updated_at: i64,
}

impl Ledger {
    /// (kind, state, count) over every step.
    pub async fn step_counts(&self) -> Result<Vec<(String, String, i64)>, LedgerError> {
        self.call(|c| Ok(step_counts(c)?.into_iter().map(|((kind, state), n)| (kind, state, n)).collect())).await
    }

    /// Steps in `state`, oldest first, at most `limit`.
    pub async fn steps_in(&self, state: &str, limit: usize) -> Result<Vec<WaitingStep>, LedgerError> {
        let state = state.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT s.identity, r.appid, s.kind, s.state, s.not_before, s.audit_id, s.message, s.updated_at, s.hint
                 FROM steps s LEFT JOIN rows r ON r.identity = s.identity
                 WHERE s.state = ?1 ORDER BY COALESCE(s.not_before, s.updated_at), s.identity LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![state, limit as i64], |r| {
                    Ok(WaitingStep {
                        identity: r.get(0)?,
                        appid: r.get(1)?,
                        kind: r.get(2)?,
                        state: r.get(3)?,
                        not_before: r.get(4)?,
                        audit_id: r.get(5)?,
                        message: r.get(6)?,
                        updated_at: r.get(7)?,
                        hint: r.get(8)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// How many rows the ledger knows.
    pub async fn row_count(&self) -> Result<i64, LedgerError> {
        self.call(|c| Ok(c.query_row("SELECT count(*) FROM rows", [], |r| r.get(0))?)).await
    }
}

/// Steps per (kind, state), for `status` and the status page, counted from one plain scan:
/// SQLite's `GROUP BY` would first sort every step through a temporary b-tree, and there are
/// only a few dozen pairs to count.
pub(crate) fn step_counts(c: &rusqlite::Connection) -> Result<BTreeMap<(String, String), i64>, LedgerError> {
    let mut counts: Vec<((String, String), i64)> = Vec::new();
    let mut stmt = c.prepare_cached("SELECT kind, state FROM steps")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let text = |i| r.get_ref(i).and_then(|v| v.as_str().map_err(rusqlite::Error::from));
        let (kind, state) = (text(0)?, text(1)?);
        match counts.iter_mut().find(|((k, s), _)| k == kind && s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push(((kind.to_string(), state.to_string()), 1)),
        }
    }
    Ok(counts.into_iter().collect())
}
