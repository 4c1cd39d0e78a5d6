//! Rows and their steps: what the runner remembers of each manifest row between runs.
//!
//! A step's record holds its state (DESIGN §4), the input hash it was last run with, and —
//! while a state-changing call is in flight — which call was started and what the live
//! state was before it, so that a run after a crash reconciles instead of resending.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row as SqlRow};

use super::{now_secs, Ledger, LedgerError};
use crate::lifecycle::{StepKind, StepRecord, StepState};

impl StepRecord {
    pub(super) fn from_sql(r: &SqlRow<'_>) -> rusqlite::Result<StepRecord> {
        let state: String = r.get(2)?;
        Ok(StepRecord {
            identity: r.get(0)?,
            kind: kind_from_sql(r, 1)?,
            state: StepState::parse(&state).unwrap_or(StepState::Pending),
            input_hash: r.get(3)?,
            attempts: r.get(4)?,
            errcode: r.get(5)?,
            message: r.get(6)?,
            hint: r.get(7)?,
            not_before: r.get(8)?,
            audit_id: r.get(9)?,
            started_api: r.get(10)?,
            started_at: r.get(11)?,
            started_info: r.get(12)?,
            run_id: r.get(13)?,
            tried_at: r.get(14)?,
        })
    }
}

const STEP_COLUMNS: &str = "identity, kind, state, input_hash, attempts, errcode, message, hint, not_before, \
                            audit_id, started_api, started_at, started_info, run_id, tried_at";

/// What the ledger holds of one row ([`Ledger::look_up_rows`]).
#[derive(Debug, Clone, Default)]
pub struct KnownRow {
    /// Its steps' records.
    pub steps: Vec<StepRecord>,
    /// The appid its identity has (a registration row's once registered).
    pub appid: Option<String>,
    /// When a refresh token of its accounts (its mini-program, as the sheet or the ledger
    /// knows it, and its official account) was last stored from outside a refresh; read
    /// only for a row with a blocked step, the one use of it.
    pub stored_at: Option<i64>,
}

/// A manifest row as the ledger knows it.
#[derive(Debug, Clone)]
pub struct RowRecord {
    pub identity: String,
    pub appid: Option<String>,
    pub official_appid: Option<String>,
    pub line: u64,
}

impl Ledger {
    /// Every step record, keyed by (identity, kind).
    pub async fn all_steps(&self) -> Result<HashMap<(String, StepKind), StepRecord>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!("SELECT {STEP_COLUMNS} FROM steps"))?;
            let rows = stmt.query_map([], StepRecord::from_sql)?;
            let mut map = HashMap::new();
            for row in rows {
                let row = row?;
                map.insert((row.identity.clone(), row.kind), row);
            }
            Ok(map)
        })
        .await
    }

    /// One step record.
    pub async fn step(&self, identity: &str, kind: StepKind) -> Result<Option<StepRecord>, LedgerError> {
        let (identity, kind) = (identity.to_string(), kind.as_str());
        self.call(move |c| {
            Ok(c.query_row(
                &format!("SELECT {STEP_COLUMNS} FROM steps WHERE identity = ?1 AND kind = ?2"),
                params![identity, kind],
                StepRecord::from_sql,
            )
            .optional()?)
        })
        .await
    }

    /// Writes a step record (inserted, or updated in place). A record that marks a call as started is
    /// written durably (fsynced): it must survive anything the call's sending may meet.
    pub async fn save_step(&self, step: &StepRecord) -> Result<(), LedgerError> {
        let job = save_job(step);
        if step.started_api.is_some() {
            self.call_durable(job).await
        } else {
            self.call(job).await
        }
    }

    /// Writes, durably, a record that marks a call as started, queued now: the answer is
    /// awaited before the call is sent, while it waits for its turn ([`Ledger::call_durable_now`]).
    pub fn save_started_now(&self, step: &StepRecord) -> super::Queued {
        Box::pin(self.call_durable_now(save_job(step)))
    }

    /// Forgets a step's record (a step the run must leave as if it had never been tried).
    pub async fn delete_step(&self, identity: &str, kind: StepKind) -> Result<(), LedgerError> {
        let (identity, kind) = (identity.to_string(), kind.as_str());
        self.call(move |c| {
            c.execute("DELETE FROM steps WHERE identity = ?1 AND kind = ?2", params![identity, kind])?;
            Ok(())
        })
        .await
    }

    /// Writes a step's final record without waiting for the commit. Safe where nothing
    /// is sent after it that depends on it: were it lost, the record it replaces (a started
    /// call) makes the next run reconcile from live state. Written in order with everything
    /// after it; a failure is logged.
    pub fn save_step_later(&self, step: &StepRecord) {
        self.call_later(save_job(step));
    }

    /// What the ledger holds of a batch of rows, read in one go (a run looks its rows up a
    /// batch at a time, never the whole ledger at once); with `save`, each row's record is
    /// written too, but only where it changes (a rerun of a finished job writes none).
    pub async fn look_up_rows(&self, rows: Vec<RowRecord>, save: bool) -> Result<Vec<KnownRow>, LedgerError> {
        self.call(move |c| {
            let mut steps = c.prepare_cached(&format!("SELECT {STEP_COLUMNS} FROM steps WHERE identity = ?1"))?;
            let mut row_of = c.prepare_cached("SELECT appid, official_appid, line FROM rows WHERE identity = ?1")?;
            let mut stored_at =
                c.prepare_cached("SELECT stored_at FROM tokens WHERE appid = ?1 AND stored_at IS NOT NULL")?;
            let mut known = Vec::with_capacity(rows.len());
            let mut changed = Vec::new();
            for r in &rows {
                let records = steps.query_map([&r.identity], StepRecord::from_sql)?.collect::<Result<Vec<_>, _>>()?;
                let before: Option<(Option<String>, Option<String>, i64)> =
                    row_of.query_row([&r.identity], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?))).optional()?;
                let appid = before.as_ref().and_then(|b| b.0.clone());
                let after = (
                    r.appid.clone().or_else(|| appid.clone()),
                    r.official_appid.clone().or_else(|| before.as_ref().and_then(|b| b.1.clone())),
                    r.line as i64,
                );
                if save && before.as_ref() != Some(&after) {
                    changed.push(r);
                }
                // Only a blocked step asks (`lifecycle::may_be_unblocked`): a row without one
                // costs no read of its tokens.
                let blocked = records.iter().any(|s| s.state == StepState::Blocked);
                let mut latest = None;
                let accounts = [r.appid.as_ref(), appid.as_ref(), r.official_appid.as_ref()];
                for account in accounts.into_iter().flatten().filter(|_| blocked) {
                    let at: Option<i64> = stored_at.query_row([account], |x| x.get(0)).optional()?;
                    latest = latest.max(at);
                }
                known.push(KnownRow { steps: records, appid, stored_at: latest });
            }
            if !changed.is_empty() {
                super::atomic(c, |c| {
                    let mut stmt = c.prepare_cached(
                        "INSERT INTO rows (identity, appid, official_appid, line, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (identity) DO UPDATE SET
                            appid = COALESCE(excluded.appid, rows.appid),
                            official_appid = COALESCE(excluded.official_appid, rows.official_appid),
                            line = excluded.line, updated_at = excluded.updated_at",
                    )?;
                    let now = now_secs();
                    for r in changed {
                        stmt.execute(params![r.identity, r.appid, r.official_appid, r.line as i64, now])?;
                    }
                    Ok(())
                })?;
            }
            Ok(known)
        })
        .await
    }

    /// The appids the ledger knows under another identity (a registration row's, keyed by
    /// its official account, once registered): appid → identity. As many as rows registered.
    pub async fn registered_appids(&self) -> Result<HashMap<String, String>, LedgerError> {
        self.call(|c| {
            let mut stmt =
                c.prepare("SELECT appid, identity FROM rows WHERE appid IS NOT NULL AND appid != identity")?;
            let map = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(map)
        })
        .await
    }

    /// The appid a row's identity has become (a registration row, once registered).
    pub async fn row_appid(&self, identity: &str) -> Result<Option<String>, LedgerError> {
        let identity = identity.to_string();
        self.call(move |c| {
            let v: Option<Option<String>> =
                c.query_row("SELECT appid FROM rows WHERE identity = ?1", [identity], |r| r.get(0)).optional()?;
            Ok(v.flatten())
        })
        .await
    }

    /// The official account whose qualification a row's mini-program `appid` reuses, as the
    /// manifest gave it.
    pub async fn official_appid_of(&self, appid: &str) -> Result<Option<String>, LedgerError> {
        let appid = appid.to_string();
        self.call(move |c| {
            let v: Option<Option<String>> = c
                .query_row(
                    "SELECT official_appid FROM rows WHERE appid = ?1 AND official_appid IS NOT NULL LIMIT 1",
                    [appid],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.flatten())
        })
        .await
    }

    /// Every row's known appid, by identity.
    pub async fn row_appids(&self) -> Result<HashMap<String, String>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT identity, appid FROM rows WHERE appid IS NOT NULL")?;
            let map = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(map)
        })
        .await
    }

    /// Every appid a row accounts for: its mini-program and its official account.
    pub async fn row_accounts(&self) -> Result<std::collections::HashSet<String>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT appid FROM rows WHERE appid IS NOT NULL
                 UNION SELECT official_appid FROM rows WHERE official_appid IS NOT NULL",
            )?;
            let set = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(set)
        })
        .await
    }

    /// Sets the appid a row's identity has become.
    pub async fn set_row_appid(&self, identity: &str, appid: &str) -> Result<(), LedgerError> {
        let (identity, appid) = (identity.to_string(), appid.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO rows (identity, appid, line, updated_at) VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT (identity) DO UPDATE SET appid = excluded.appid, updated_at = excluded.updated_at",
                params![identity, appid, now_secs()],
            )?;
            Ok(())
        })
        .await
    }
}

/// Writes a whole step record; an existing record is updated in place (a replace would
/// delete and insert it again, in the table and both its indexes).
const SAVE_STEP: &str = "INSERT INTO steps (identity, kind, state, input_hash, attempts, errcode, message, hint,
                                            not_before, audit_id, started_api, started_at, started_info,
                                            run_id, tried_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
    ON CONFLICT (identity, kind) DO UPDATE SET
        state = excluded.state, input_hash = excluded.input_hash, attempts = excluded.attempts,
        errcode = excluded.errcode, message = excluded.message, hint = excluded.hint,
        not_before = excluded.not_before, audit_id = excluded.audit_id, started_api = excluded.started_api,
        started_at = excluded.started_at, started_info = excluded.started_info, run_id = excluded.run_id,
        tried_at = excluded.tried_at, updated_at = excluded.updated_at";

fn save_job(step: &StepRecord) -> impl FnOnce(&rusqlite::Connection) -> Result<(), LedgerError> + Send + 'static {
    let s = step.clone();
    move |c: &rusqlite::Connection| {
        c.prepare_cached(SAVE_STEP)?.execute(params![
            s.identity,
            s.kind.as_str(),
            s.state.as_str(),
            s.input_hash,
            s.attempts,
            s.errcode,
            s.message.as_deref().map(wechat_open::secret::redact),
            s.hint,
            s.not_before,
            s.audit_id,
            s.started_api,
            s.started_at,
            s.started_info,
            s.run_id,
            s.tried_at,
            now_secs()
        ])?;
        Ok(())
    }
}

/// A step kind as the ledger stores it; a name this wxprov does not know is an error, not
/// a step silently taken for another.
fn kind_from_sql(r: &SqlRow<'_>, i: usize) -> rusqlite::Result<StepKind> {
    let name: String = r.get(i)?;
    StepKind::parse(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown step kind {name:?} in the ledger").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn steps_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let mut step = StepRecord::new("wx1111111111111111", StepKind::Signature, "h1");
        step.state = StepState::Deferred;
        step.not_before = Some(42);
        step.started_api = Some("/cgi-bin/account/modifysignature".into());
        step.tried_at = Some(1_700_000_000_123);
        ledger.save_step(&step).await.unwrap();
        let all = ledger.all_steps().await.unwrap();
        let key = ("wx1111111111111111".to_string(), StepKind::Signature);
        assert_eq!(all[&key], step);
        assert_eq!(ledger.step("wx1111111111111111", StepKind::Signature).await.unwrap(), Some(step));
    }

    #[tokio::test]
    async fn a_step_kind_the_ledger_does_not_know_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        ledger
            .call(|c| {
                c.execute(
                    "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('x', 'golive', 'done', 'h', 1)",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let err = ledger.all_steps().await.unwrap_err().to_string();
        assert!(err.contains("unknown step kind \"golive\""), "{err}");
    }
}
