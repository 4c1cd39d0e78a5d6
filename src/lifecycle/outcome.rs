//! What a step decides from live state, and where it ends up.
//!
//! `plan` stops at the [`Decision`]; `run` acts on it and records the [`StepOutcome`]. Both
//! come from the same reading of live state, so what `plan` shows is what `run` does.

use super::StepState;
use crate::wechat::errcode;
use crate::wechat::Hint;
use wechat_open::errcode::{defer_until, DeferUntil, ErrClass};
use wechat_open::ApiError;

/// What a step would do, judged from live state.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Already so: nothing to change.
    Skip(String),
    /// An earlier call (from a run that stopped before recording it) took effect.
    Reconciled(String),
    /// A change to make; the text says what.
    Set(String),
    /// Not now: a quota is spent.
    Defer { not_before: i64, errcode: Option<i64>, message: String },
    /// Needs a person.
    Fail { errcode: Option<i64>, message: String, hint: Option<String> },
    /// Waiting for something outside the sheet (a token, an authorization): the hint says what.
    Block { errcode: Option<i64>, message: String, hint: Option<String> },
    /// Waiting for a merchant's scan.
    Wait(String),
    /// Waiting for a merchant's scan that cannot be used before `not_before` (the official
    /// account's registrations this month are spent: 61055).
    WaitUntil { not_before: i64, errcode: Option<i64>, message: String, hint: Option<String> },
    /// Waiting for WeChat's audit.
    Review { audit_id: Option<i64>, message: String },
}

impl Decision {
    /// The word `plan` prints.
    pub fn action(&self) -> &'static str {
        match self {
            Decision::Skip(_) => "skip",
            Decision::Reconciled(_) => "done",
            Decision::Set(_) => "set",
            Decision::Defer { .. } => "defer",
            Decision::Fail { .. } => "fail",
            Decision::Block { .. } => "block",
            Decision::Wait(_) | Decision::WaitUntil { .. } => "wait",
            Decision::Review { .. } => "review",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Decision::Skip(m) | Decision::Reconciled(m) | Decision::Set(m) | Decision::Wait(m) => m,
            Decision::Defer { message, .. }
            | Decision::Fail { message, .. }
            | Decision::Block { message, .. }
            | Decision::WaitUntil { message, .. }
            | Decision::Review { message, .. } => message,
        }
    }

    /// The state `run` leaves the step in when what this decides goes through (a change is
    /// taken as made): what `plan`'s exit code is judged on, as `run`'s is on the states.
    pub fn expected_state(&self) -> StepState {
        match self {
            Decision::Skip(_) => StepState::Skipped,
            Decision::Reconciled(_) | Decision::Set(_) => StepState::Done,
            Decision::Defer { .. } => StepState::Deferred,
            Decision::Fail { .. } => StepState::Failed,
            Decision::Block { .. } => StepState::Blocked,
            Decision::Wait(_) | Decision::WaitUntil { .. } => StepState::Waiting,
            Decision::Review { .. } => StepState::InReview,
        }
    }

    /// What `plan` shows for a reading of live state that failed with `err`: the step as
    /// [`StepOutcome::from_error`] would leave it.
    pub fn from_error(err: &ApiError) -> Decision {
        let outcome = StepOutcome::from_error(err);
        let (errcode, message) = (err.errcode(), err.to_string());
        match outcome.state {
            StepState::Deferred => Decision::Defer {
                not_before: outcome.not_before.unwrap_or_default(),
                errcode: outcome.errcode,
                message,
            },
            StepState::Blocked => Decision::Block { errcode, message, hint: outcome.hint },
            _ => Decision::Fail { errcode, message, hint: outcome.hint },
        }
    }

    /// A failure from a catalogued errcode, with its hint.
    pub fn fail(code: i64, message: impl Into<String>) -> Decision {
        Decision::Fail {
            errcode: Some(code),
            message: message.into(),
            hint: errcode::lookup(code).map(|e| e.hint.to_string()),
        }
    }

    /// Deferred to next month when a monthly change quota, as `getaccountbasicinfo` shows it
    /// (`used` of `quota`), is spent; `None` while changes are left. `zh` follows the English.
    pub fn month_spent(code: Option<i64>, what: &str, zh: &str, used: i64, quota: i64) -> Option<Decision> {
        (quota > 0 && used >= quota)
            .then(|| Decision::next_month(code, format!("this month's {what} changes are spent ({used}/{quota}){zh}")))
    }

    /// Deferred until the first of next month, Beijing time (monthly quotas).
    pub fn next_month(code: Option<i64>, message: impl Into<String>) -> Decision {
        Decision::until(DeferUntil::NextMonth, code, message)
    }

    /// Deferred until the quota that `rule` describes resets.
    pub fn until(rule: DeferUntil, code: Option<i64>, message: impl Into<String>) -> Decision {
        Decision::Defer {
            not_before: rule.not_before(chrono::Utc::now()).timestamp(),
            errcode: code,
            message: message.into(),
        }
    }
}

/// Where a step ends up after a run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    pub state: StepState,
    pub errcode: Option<i64>,
    pub message: Option<String>,
    pub hint: Option<String>,
    pub not_before: Option<i64>,
    pub audit_id: Option<i64>,
}

impl StepOutcome {
    pub fn state(state: StepState, message: impl Into<String>) -> StepOutcome {
        StepOutcome {
            state,
            errcode: None,
            message: Some(message.into()),
            hint: None,
            not_before: None,
            audit_id: None,
        }
    }

    pub fn done(message: impl Into<String>) -> StepOutcome {
        StepOutcome::state(StepState::Done, message)
    }

    /// The outcome of a decision that needs no call.
    pub fn from_decision(decision: Decision) -> StepOutcome {
        match decision {
            Decision::Skip(m) => StepOutcome::state(StepState::Skipped, m),
            Decision::Reconciled(m) => StepOutcome::done(m),
            Decision::Set(m) => StepOutcome::state(StepState::Pending, m),
            Decision::Wait(m) => StepOutcome::state(StepState::Waiting, m),
            Decision::WaitUntil { not_before, errcode, message, hint } => StepOutcome {
                not_before: Some(not_before),
                errcode,
                hint,
                ..StepOutcome::state(StepState::Waiting, message)
            },
            Decision::Defer { not_before, errcode, message } => StepOutcome {
                not_before: Some(not_before),
                errcode,
                ..StepOutcome::state(StepState::Deferred, message)
            },
            Decision::Fail { errcode, message, hint } => {
                StepOutcome { errcode, hint, ..StepOutcome::state(StepState::Failed, message) }
            }
            Decision::Block { errcode, message, hint } => {
                StepOutcome { errcode, hint, ..StepOutcome::state(StepState::Blocked, message) }
            }
            Decision::Review { audit_id, message } => {
                StepOutcome { audit_id, ..StepOutcome::state(StepState::InReview, message) }
            }
        }
    }

    /// Where a call's error leaves the step (DESIGN §5): a spent quota defers it, a
    /// transient failure that outlasted its retries defers it to the next run, a cause
    /// outside the sheet blocks it, anything else needs a person. (A `stop` error never
    /// reaches a step's record: the runner stops the run first; it reads as blocked here.)
    pub fn from_error(err: &ApiError) -> StepOutcome {
        let message = err.to_string();
        let code = err.errcode();
        let hint = err.hint();
        match err.class() {
            ErrClass::Defer => {
                let now = chrono::Utc::now();
                let until = code.and_then(defer_until).unwrap_or(DeferUntil::NextDay).not_before(now);
                StepOutcome { errcode: code, hint, not_before: Some(until.timestamp()), ..deferred(message) }
            }
            ErrClass::Retry => StepOutcome {
                errcode: code,
                hint: Some("WeChat did not answer after several tries; the next run tries again.".into()),
                not_before: Some(chrono::Utc::now().timestamp()),
                ..deferred(message)
            },
            ErrClass::Blocked | ErrClass::Stop => {
                StepOutcome { errcode: code, hint, ..StepOutcome::state(StepState::Blocked, message) }
            }
            ErrClass::Token | ErrClass::Human => {
                StepOutcome { errcode: code, hint, ..StepOutcome::state(StepState::Failed, message) }
            }
        }
    }
}

fn deferred(message: String) -> StepOutcome {
    StepOutcome::state(StepState::Deferred, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_states_by_class() {
        use wechat_open::TokenKind::Authorizer;
        let quota = ApiError::WeChat { api: "/a".into(), code: 53200, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&quota);
        assert_eq!(out.state, StepState::Deferred);
        assert_eq!(out.not_before, Some(wechat_open::beijing::next_month(chrono::Utc::now()).timestamp()));
        let daily = ApiError::WeChat { api: "/a".into(), code: 45009, message: "m".into(), token: Authorizer };
        assert_eq!(
            StepOutcome::from_error(&daily).not_before,
            Some(wechat_open::beijing::next_day(chrono::Utc::now()).timestamp())
        );
        let human = ApiError::WeChat { api: "/a".into(), code: 53201, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&human);
        assert_eq!(out.state, StepState::Failed);
        assert!(out.hint.is_some_and(|h| !h.is_empty()));
        let unauthorized = ApiError::WeChat { api: "/a".into(), code: 48001, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&unauthorized);
        assert_eq!(out.state, StepState::Blocked);
        assert_eq!(out.hint.as_deref(), errcode::lookup(48001).map(|e| e.hint));
        let no_token = ApiError::NoRefreshToken { appid: "wx1111111111111111".into() };
        assert_eq!(StepOutcome::from_error(&no_token).state, StepState::Blocked);
        let busy = ApiError::Http { api: "/a".into(), status: 502 };
        assert_eq!(StepOutcome::from_error(&busy).state, StepState::Deferred);
    }
}
