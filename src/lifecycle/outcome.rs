//! What a step decides from live state, and where it ends up.
//!
//! `plan` stops at the [`Decision`]; `run` acts on it and records the [`StepOutcome`]. Both
//! come from the same reading of live state, so what `plan` shows is what `run` does.
//!
//! Where a date follows from the time — a quota resets at Beijing midnight — it is judged at
//! the `now` the caller passes (the runner reads the clock once per step), never the clock.

use chrono::{DateTime, Utc};

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
    /// A failure from a catalogued errcode, with its hint.
    pub fn fail(code: i64, message: impl Into<String>) -> Decision {
        Decision::Fail {
            errcode: Some(code),
            message: message.into(),
            hint: errcode::lookup(code).map(|e| e.hint.to_string()),
        }
    }

    /// Deferred to next month when a monthly change quota, as `getaccountbasicinfo` shows it
    /// at `now` (`used` of `quota`), is spent; `None` while changes are left. `zh` follows
    /// the English.
    pub fn month_spent(
        now: DateTime<Utc>,
        code: Option<i64>,
        what: &str,
        zh: &str,
        used: i64,
        quota: i64,
    ) -> Option<Decision> {
        (quota > 0 && used >= quota).then(|| {
            Decision::next_month(now, code, format!("this month's {what} changes are spent ({used}/{quota}){zh}"))
        })
    }

    /// Deferred until the first of the month after `now`, Beijing time (monthly quotas).
    pub fn next_month(now: DateTime<Utc>, code: Option<i64>, message: impl Into<String>) -> Decision {
        Decision::until(DeferUntil::NextMonth, now, code, message)
    }

    /// Deferred until the quota that `rule` describes resets after `now`.
    pub fn until(rule: DeferUntil, now: DateTime<Utc>, code: Option<i64>, message: impl Into<String>) -> Decision {
        Decision::Defer { not_before: rule.not_before(now).timestamp(), errcode: code, message: message.into() }
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

    /// The state `run` leaves the step in once what this says goes through: a change to make
    /// (`pending`, [`Decision::Set`]) is taken as made. What `plan`'s exit code is judged on,
    /// as `run`'s is on the states it leaves.
    pub fn expected_state(&self) -> StepState {
        match self.state {
            StepState::Pending => StepState::Done,
            state => state,
        }
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

    /// Where a call's error at `now` leaves the step (DESIGN §5): a spent quota defers it
    /// until the quota resets after `now`, a transient failure that outlasted its retries
    /// defers it to the next run, a cause outside the sheet blocks it, anything else needs a
    /// person. (A `stop` error never reaches a step's record: the runner stops the run
    /// first; it reads as blocked here.)
    pub fn from_error(err: &ApiError, now: DateTime<Utc>) -> StepOutcome {
        let message = err.to_string();
        let code = err.errcode();
        let hint = err.hint();
        match err.class() {
            ErrClass::Defer => {
                let until = code.and_then(defer_until).unwrap_or(DeferUntil::NextDay).not_before(now);
                StepOutcome { errcode: code, hint, not_before: Some(until.timestamp()), ..deferred(message) }
            }
            ErrClass::Retry => StepOutcome {
                errcode: code,
                hint: Some("WeChat did not answer after several tries; the next run tries again.".into()),
                not_before: Some(now.timestamp()),
                ..deferred(message)
            },
            // The go-live steps confirm these from live state first (get_latest_auditstatus
            // shows whose audit runs; getversioninfo what is released): an error that reaches
            // here unconfirmed is left for a person to look at, never taken as success.
            ErrClass::Blocked | ErrClass::Stop | ErrClass::Review | ErrClass::Done => {
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
    use chrono::TimeZone;

    /// A UTC time, written out (Beijing time is 8 hours ahead: 00:00 there is 16:00 UTC the
    /// day before).
    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, s).unwrap()
    }

    /// Unix seconds of a UTC time.
    fn secs(y: i32, m: u32, d: u32, h: u32) -> i64 {
        utc(y, m, d, h, 0, 0).timestamp()
    }

    #[test]
    fn errors_map_to_states_by_class() {
        use wechat_open::TokenKind::Authorizer;
        let now = utc(2026, 3, 10, 4, 0, 0); // 12:00 Beijing time
        let quota = ApiError::WeChat { api: "/a".into(), code: 53200, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&quota, now);
        assert_eq!(out.state, StepState::Deferred);
        assert_eq!(out.not_before, Some(secs(2026, 3, 31, 16)));
        let daily = ApiError::WeChat { api: "/a".into(), code: 45009, message: "m".into(), token: Authorizer };
        assert_eq!(StepOutcome::from_error(&daily, now).not_before, Some(secs(2026, 3, 10, 16)));
        let human = ApiError::WeChat { api: "/a".into(), code: 53201, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&human, now);
        assert_eq!(out.state, StepState::Failed);
        assert!(out.hint.is_some_and(|h| !h.is_empty()));
        let unauthorized = ApiError::WeChat { api: "/a".into(), code: 48001, message: "m".into(), token: Authorizer };
        let out = StepOutcome::from_error(&unauthorized, now);
        assert_eq!(out.state, StepState::Blocked);
        assert_eq!(out.hint.as_deref(), errcode::lookup(48001).map(|e| e.hint));
        let no_token = ApiError::NoRefreshToken { appid: "wx1111111111111111".into() };
        assert_eq!(StepOutcome::from_error(&no_token, now).state, StepState::Blocked);
        let busy = ApiError::Http { api: "/a".into(), status: 502 };
        let out = StepOutcome::from_error(&busy, now);
        assert_eq!((out.state, out.not_before), (StepState::Deferred, Some(now.timestamp())), "due at once");
    }

    /// The go-live classes a step has not confirmed from live state are never taken as
    /// success nor as an audit followed: blocked, with the hint. The waits: 61039 a minute,
    /// 85085 at the latest the first of next month.
    #[test]
    fn golive_errors_map_to_states() {
        use wechat_open::TokenKind::Authorizer;
        let now = utc(2026, 3, 10, 4, 0, 0);
        let error = |code| ApiError::WeChat { api: "/wxa/x".into(), code, message: "m".into(), token: Authorizer };
        for code in [85009, 85052, 89019, 85018] {
            let out = StepOutcome::from_error(&error(code), now);
            assert_eq!(out.state, StepState::Blocked, "{code}");
            assert_eq!(out.hint.as_deref(), errcode::lookup(code).map(|e| e.hint), "{code}");
        }
        let scan = StepOutcome::from_error(&error(61039), now);
        assert_eq!((scan.state, scan.not_before), (StepState::Deferred, Some(now.timestamp() + 60)));
        let quota = StepOutcome::from_error(&error(85085), now);
        assert_eq!((quota.state, quota.not_before), (StepState::Deferred, Some(secs(2026, 3, 31, 16))));
        assert_eq!(StepOutcome::from_error(&error(61040), now).state, StepState::Failed);
    }

    #[test]
    fn a_spent_quota_waits_for_the_beijing_midnight_after_now_and_flips_exactly_at_it() {
        use wechat_open::TokenKind::Authorizer;
        let error = |code| ApiError::WeChat { api: "/a".into(), code, message: "m".into(), token: Authorizer };
        let (daily, monthly) = (error(45009), error(53200));
        let not_before = |e: &ApiError, now| StepOutcome::from_error(e, now).not_before;

        // 2026-03-31 23:59:59 Beijing time, its last second: both quotas reset at the coming
        // midnight, 2026-04-01 00:00 Beijing time.
        let last = utc(2026, 3, 31, 15, 59, 59);
        let april = secs(2026, 3, 31, 16);
        assert_eq!(not_before(&daily, last), Some(april));
        assert_eq!(not_before(&monthly, last), Some(april));
        // One second later it is 1 April 00:00:00 there: the day's quota resets on the 2nd,
        // the month's on 1 May.
        let first = utc(2026, 3, 31, 16, 0, 0);
        assert_eq!(not_before(&daily, first), Some(secs(2026, 4, 1, 16)));
        assert_eq!(not_before(&monthly, first), Some(secs(2026, 4, 30, 16)));

        // The same from a decision: a monthly quota read as spent, the yearly name changes.
        let month = |now| match Decision::month_spent(now, Some(53200), "signature", "", 5, 5) {
            Some(Decision::Defer { not_before, .. }) => not_before,
            other => panic!("{other:?}"),
        };
        assert_eq!((month(last), month(first)), (april, secs(2026, 4, 30, 16)));
        assert_eq!(Decision::month_spent(last, Some(53200), "signature", "", 4, 5), None, "a change is left");
        let year = |now| match Decision::until(wechat_open::errcode::NAME_CHANGES_RESET, now, None, "m") {
            Decision::Defer { not_before, .. } => not_before,
            other => panic!("{other:?}"),
        };
        // 2026-12-31 23:59:59 and 2027-01-01 00:00:00 Beijing time.
        assert_eq!(year(utc(2026, 12, 31, 15, 59, 59)), secs(2026, 12, 31, 16));
        assert_eq!(year(utc(2026, 12, 31, 16, 0, 0)), secs(2027, 12, 31, 16));
    }
}
