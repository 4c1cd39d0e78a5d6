//! What the callback receiver (`wxprov serve`, DESIGN §7) writes besides tickets: one
//! `callback_events` line per callback it took or refused, and review outcomes that move
//! `in_review` steps on.
//!
//! These live in the ledger so that ops staff can see, with `sqlite3` or `wxprov status`, that
//! WeChat's pushes arrive and what became of them, and so that a refused push (a bad
//! signature, a replay) leaves a trace without its content ever being stored as data. Nothing
//! written here may carry a secret: callers pass details free of tickets and codes.

use rusqlite::params;

use super::{now_secs, Ledger, LedgerError};
use crate::lifecycle::{audit_verdict, StepKind, StepState};

/// What became of a callback, as `callback_events.outcome` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// Taken: a ticket stored, an event recorded or applied.
    Stored,
    /// Taken, but nothing to act on (an event type wxprov does not use).
    Ignored,
    /// Refused: bad signature, stale or replayed, malformed, oversized, unconfigured.
    Refused,
}

impl CallbackOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Stored => "stored",
            CallbackOutcome::Ignored => "ignored",
            CallbackOutcome::Refused => "refused",
        }
    }
}

/// Which review an audit event reports on; the name is also the step kind it moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// `wxa_nickname_audit`: the `nickname` step.
    Nickname,
    /// `wxa_category_audit`: the `categories` step.
    Categories,
    /// `weapp_audit_success` / `_fail` / `_delay`: the `audit` step (the code's audit).
    Code,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        self.step().as_str()
    }

    /// The step the review is of.
    pub fn step(self) -> StepKind {
        match self {
            AuditKind::Nickname => StepKind::Nickname,
            AuditKind::Categories => StepKind::Categories,
            AuditKind::Code => StepKind::Audit,
        }
    }
}

impl Ledger {
    /// Appends one line to `callback_events`. `detail` must not contain a secret.
    pub async fn record_callback(
        &self,
        path: &str,
        kind: &str,
        appid: Option<&str>,
        outcome: CallbackOutcome,
        detail: Option<&str>,
    ) -> Result<(), LedgerError> {
        let (path, kind) = (path.to_string(), kind.to_string());
        let (appid, detail) = (appid.map(str::to_string), detail.map(str::to_string));
        self.call(move |c| {
            c.execute(
                "INSERT INTO callback_events (received_at, path, kind, appid, outcome, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now_secs(), path, kind, appid, outcome.as_str(), detail],
            )?;
            Ok(())
        })
        .await
    }

    /// Records a review outcome for mini-program `appid` in `audit_events` and moves that
    /// mini-program's `in_review` steps of the same kind on as [`audit_verdict`] decides.
    /// Marks the event applied when it changed a step. Returns how many steps changed.
    pub async fn apply_audit_event(
        &self,
        kind: AuditKind,
        appid: &str,
        ret: i64,
        nickname: Option<&str>,
        reason: &str,
    ) -> Result<usize, LedgerError> {
        let appid = appid.to_string();
        let nickname = nickname.map(str::to_string);
        let reason = reason.to_string();
        // The three statements are one change, applied together or not at all.
        self.call(move |c| {
            super::atomic(c, |c| {
                let now = now_secs();
                c.execute(
                    "INSERT INTO audit_events (appid, kind, ret, nickname, reason, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![appid, kind.as_str(), ret, nickname, reason, now],
                )?;
                let event_id = c.last_insert_rowid();
                let changed = match audit_verdict(kind.step(), ret, &reason) {
                    Some(v) => c.execute(
                        "UPDATE steps SET state = ?1, message = ?2, hint = ?3, updated_at = ?4
                          WHERE kind = ?5 AND state = ?6
                            AND identity IN (SELECT identity FROM rows WHERE appid = ?7)",
                        params![
                            v.state.as_str(),
                            v.message,
                            v.hint,
                            now,
                            kind.step().as_str(),
                            StepState::InReview.as_str(),
                            appid
                        ],
                    )?,
                    None => 0,
                };
                if changed > 0 {
                    c.execute("UPDATE audit_events SET applied_at = ?1 WHERE id = ?2", params![now, event_id])?;
                }
                Ok(changed)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPID: &str = "wx3a1b2c3d4e5f6071";

    async fn ledger_with_review() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        ledger
            .call(|c| {
                c.execute_batch(&format!(
                    "INSERT INTO rows (identity, appid, line, updated_at) VALUES ('{APPID}', '{APPID}', 2, 1);
                     INSERT INTO rows (identity, appid, line, updated_at) VALUES ('other', 'wx0000000000000000', 3, 1);
                     INSERT INTO steps (identity, kind, state, input_hash, updated_at)
                         VALUES ('{APPID}', 'nickname', 'in_review', 'h', 1);
                     INSERT INTO steps (identity, kind, state, input_hash, updated_at)
                         VALUES ('{APPID}', 'categories', 'in_review', 'h', 1);
                     INSERT INTO steps (identity, kind, state, input_hash, updated_at)
                         VALUES ('other', 'nickname', 'in_review', 'h', 1);"
                ))?;
                Ok(())
            })
            .await
            .unwrap();
        (dir, ledger)
    }

    async fn step(ledger: &Ledger, identity: &str, kind: &str) -> (String, Option<String>) {
        let (identity, kind) = (identity.to_string(), kind.to_string());
        ledger
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT state, message FROM steps WHERE identity = ?1 AND kind = ?2",
                    params![identity, kind],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn approval_and_rejection_move_only_that_steps_review() {
        let (_dir, ledger) = ledger_with_review().await;
        let changed = ledger.apply_audit_event(AuditKind::Nickname, APPID, 3, Some("名字"), "").await.unwrap();
        assert_eq!(changed, 1);
        assert_eq!(step(&ledger, APPID, "nickname").await, ("done".into(), None));
        assert_eq!(step(&ledger, APPID, "categories").await.0, "in_review");
        assert_eq!(step(&ledger, "other", "nickname").await.0, "in_review");

        let changed = ledger.apply_audit_event(AuditKind::Categories, APPID, 2, None, "缺少资质").await.unwrap();
        assert_eq!(changed, 1);
        assert_eq!(step(&ledger, APPID, "categories").await, ("failed".into(), Some("缺少资质".into())));

        // Nothing left in review: recorded, not applied.
        let changed = ledger.apply_audit_event(AuditKind::Nickname, APPID, 2, Some("x"), "r").await.unwrap();
        assert_eq!(changed, 0);
        let applied: Vec<(i64, bool)> = ledger
            .call(|c| {
                let mut stmt = c.prepare("SELECT ret, applied_at IS NOT NULL FROM audit_events ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
            .unwrap();
        assert_eq!(applied, vec![(3, true), (2, true), (2, false)]);
    }

    #[tokio::test]
    async fn other_results_change_nothing() {
        let (_dir, ledger) = ledger_with_review().await;
        assert_eq!(ledger.apply_audit_event(AuditKind::Nickname, APPID, 1, None, "").await.unwrap(), 0);
        assert_eq!(step(&ledger, APPID, "nickname").await.0, "in_review");
    }

    #[tokio::test]
    async fn callbacks_are_recorded() {
        let (_dir, ledger) = ledger_with_review().await;
        ledger
            .record_callback("/callback/component", "push", None, CallbackOutcome::Refused, Some("bad signature"))
            .await
            .unwrap();
        let row: (String, String, Option<String>, String, Option<String>) = ledger
            .call(|c| {
                Ok(c.query_row("SELECT path, kind, appid, outcome, detail FROM callback_events", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?)
            })
            .await
            .unwrap();
        assert_eq!(
            row,
            ("/callback/component".into(), "push".into(), None, "refused".into(), Some("bad signature".into()))
        );
    }
}
