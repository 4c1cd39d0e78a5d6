//! A step's lifecycle (DESIGN §4): its kinds, its states, the record the ledger keeps of it,
//! and every transition between them — whether a run takes it up ([`due`]), what a reading
//! of live state decides ([`Decision`]), where that leaves the step ([`StepOutcome`]) and
//! how that is written into its record ([`StepRecord::settle`]), and what a review outcome
//! pushed to `serve` does to it ([`audit_verdict`]).
//!
//! One module, so that a state changes by one rule wherever it changes: the runner, `plan`
//! and `serve` ask here; the ledger only stores and loads what is decided here.

mod outcome;

use std::fmt;

use chrono::{DateTime, Utc};

pub use outcome::{Decision, StepOutcome};
use wechat_open::errcode::{defer_until, DeferUntil};

/// The steps of a row, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    Register,
    Nickname,
    Avatar,
    Signature,
    Categories,
    RebindAdmin,
    /// Go-live (DESIGN §9), after the steps above.
    Domains,
    Code,
    Privacy,
    Audit,
    Release,
}

impl StepKind {
    pub const ALL: [StepKind; 11] = [
        StepKind::Register,
        StepKind::Nickname,
        StepKind::Avatar,
        StepKind::Signature,
        StepKind::Categories,
        StepKind::RebindAdmin,
        StepKind::Domains,
        StepKind::Code,
        StepKind::Privacy,
        StepKind::Audit,
        StepKind::Release,
    ];

    /// The go-live steps (DESIGN §9): they wait until the row's earlier steps are settled.
    pub fn is_golive(self) -> bool {
        self >= StepKind::Domains
    }

    /// The step named `name` ([`StepKind::as_str`]).
    pub fn parse(name: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The name used in the ledger and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Register => "register",
            StepKind::Nickname => "nickname",
            StepKind::Avatar => "avatar",
            StepKind::Signature => "signature",
            StepKind::Categories => "categories",
            StepKind::RebindAdmin => "rebind_admin",
            StepKind::Domains => "domains",
            StepKind::Code => "code",
            StepKind::Privacy => "privacy",
            StepKind::Audit => "audit",
            StepKind::Release => "release",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step's state (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Done,
    /// Already so: nothing to change.
    Skipped,
    /// Waiting for WeChat's audit.
    InReview,
    /// Waiting for a merchant's scan: no ticket or taskid yet.
    Waiting,
    /// Try again after `not_before`.
    Deferred,
    /// Waiting for something outside the sheet (a refresh token, an authorization, a
    /// permission set, a platform setting): tried again as soon as its cause may have
    /// changed, otherwise once a Beijing day; the hint says what to fix.
    Blocked,
    /// The sheet must change.
    Failed,
}

impl StepState {
    pub const ALL: [StepState; 8] = [
        StepState::Pending,
        StepState::Done,
        StepState::Skipped,
        StepState::InReview,
        StepState::Waiting,
        StepState::Deferred,
        StepState::Blocked,
        StepState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::InReview => "in_review",
            StepState::Waiting => "waiting",
            StepState::Deferred => "deferred",
            StepState::Blocked => "blocked",
            StepState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<StepState> {
        StepState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Done or skipped: nothing more to do while the input stays the same.
    pub fn is_settled(self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped)
    }
}

/// One step of one row, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub identity: String,
    pub kind: StepKind,
    pub state: StepState,
    pub input_hash: String,
    pub attempts: i64,
    pub errcode: Option<i64>,
    pub message: Option<String>,
    pub hint: Option<String>,
    /// Unix seconds.
    pub not_before: Option<i64>,
    pub audit_id: Option<i64>,
    /// The API of a state-changing call that was started and has not been seen to finish.
    pub started_api: Option<String>,
    pub started_at: Option<i64>,
    /// What the live state was before that call (JSON), for reconciling it.
    pub started_info: Option<String>,
    pub run_id: Option<String>,
    /// When a run last tried the step (read live state or asked about its audit), Unix ms:
    /// what decides when a `blocked` step is tried again ([`due`]).
    pub tried_at: Option<i64>,
}

impl StepRecord {
    pub fn new(identity: &str, kind: StepKind, input_hash: &str) -> StepRecord {
        StepRecord {
            identity: identity.to_string(),
            kind,
            state: StepState::Pending,
            input_hash: input_hash.to_string(),
            attempts: 0,
            errcode: None,
            message: None,
            hint: None,
            not_before: None,
            audit_id: None,
            started_api: None,
            started_at: None,
            started_info: None,
            run_id: None,
            tried_at: None,
        }
    }

    /// The record of `step` for a row, as the ledger has it for the step's input — a record
    /// made for another input counts for nothing — or a new, pending one.
    pub fn of_input(record: Option<StepRecord>, identity: &str, step: &crate::manifest::Step) -> StepRecord {
        record
            .filter(|r| r.input_hash == step.input_hash)
            .unwrap_or_else(|| StepRecord::new(identity, step.kind, &step.input_hash))
    }

    /// Run `run_id` takes the step up, at `now_ms` (Unix ms): one more attempt.
    pub fn begin(&mut self, run_id: &str, now_ms: i64) {
        self.attempts += 1;
        self.run_id = Some(run_id.to_string());
        self.tried_at = Some(now_ms);
    }

    /// A state-changing call `api` is about to be sent at `now_secs`, the live state being
    /// `before`: pending while the call is out — a failed step run again with
    /// `--retry-failed` must not hide a started call behind its old state.
    pub fn start(&mut self, api: &str, before: &serde_json::Value, now_secs: i64) {
        self.state = StepState::Pending;
        self.started_api = Some(api.to_string());
        self.started_at = Some(now_secs);
        self.started_info = Some(before.to_string());
    }

    /// When the state-changing call an earlier try started, and never saw finish, was sent
    /// (Unix s); `None` when no call is out.
    pub fn started_call_at(&self) -> Option<i64> {
        self.started_at.filter(|_| self.started_api.is_some())
    }

    /// The review the step is now in was opened by the call sent at `sent` (an earlier try's,
    /// whose answer was lost), not by the one just started: the review began then.
    pub fn review_opened_at(&mut self, sent: Option<i64>) {
        if sent.is_some() {
            self.started_at = sent;
        }
    }

    /// When the review the step is in began (Unix s): when the call that opened it was
    /// started, or — a review recorded without that time (an older ledger) — `now`, from
    /// which it is counted from now on.
    pub fn review_since(&mut self, now: i64) -> i64 {
        *self.started_at.get_or_insert(now)
    }

    /// What the ledger must be told when a `stop`-class error ends the run during this try,
    /// so that the step is left as it was before the run took it up (`before`, its record
    /// for the input as loaded): only a call marked as started reached the ledger during the
    /// try, so there is nothing to undo unless one was.
    pub fn undo<'a>(&self, before: Option<&'a StepRecord>) -> Undo<'a> {
        if self.started_api == before.and_then(|r| r.started_api.clone()) {
            return Undo::Nothing;
        }
        match before {
            Some(record) => Undo::Restore(record),
            None => Undo::Forget,
        }
    }

    /// Where the step stands as recorded, for a step a run leaves alone.
    pub fn outcome(&self) -> StepOutcome {
        StepOutcome {
            state: self.state,
            errcode: self.errcode,
            message: self.message.clone(),
            hint: self.hint.clone(),
            not_before: self.not_before,
            audit_id: self.audit_id,
        }
    }

    /// What `plan` shows for a step the ledger settles without a call ([`Due::Keep`]).
    pub fn kept(&self) -> Decision {
        let message = self.message.clone().unwrap_or_default();
        match self.state {
            StepState::Deferred => {
                Decision::Defer { not_before: self.not_before.unwrap_or_default(), errcode: self.errcode, message }
            }
            StepState::Blocked => Decision::Block {
                errcode: self.errcode,
                message: format!(
                    "blocked in an earlier run today: {message} (tried again once a token of the account is \
                     stored, else on the next Beijing day)"
                ),
                hint: self.hint.clone(),
            },
            StepState::Waiting => Decision::WaitUntil {
                not_before: self.not_before.unwrap_or_default(),
                errcode: self.errcode,
                message,
                hint: self.hint.clone(),
            },
            StepState::InReview => Decision::Review { audit_id: self.audit_id, message },
            StepState::Failed => Decision::Fail {
                errcode: self.errcode,
                message: format!("failed in an earlier run: {message} (--retry-failed runs it again)"),
                hint: self.hint.clone(),
            },
            _ => Decision::Skip("done in an earlier run".into()),
        }
    }

    /// Writes `outcome` into the record, as run `run_id` left it: its state and what the
    /// person reads (errcode, message, hint), when it may be tried again, its audit; a
    /// started call is cleared once the step is past it (a step in review keeps
    /// `started_at`, when the call that opened the review was started: how long it has
    /// been in review).
    pub fn settle(&mut self, outcome: &StepOutcome, run_id: &str) {
        self.state = outcome.state;
        self.errcode = outcome.errcode;
        self.message = outcome.message.clone();
        self.hint = outcome.hint.clone();
        self.not_before = outcome.not_before;
        if outcome.state == StepState::InReview || outcome.audit_id.is_some() {
            self.audit_id = outcome.audit_id;
        }
        if outcome.state != StepState::Pending {
            self.started_api = None;
            self.started_info = None;
            if outcome.state != StepState::InReview {
                self.started_at = None;
            }
        }
        self.run_id = Some(run_id.to_string());
    }
}

/// How a try a `stop`-class error ended is taken back in the ledger ([`StepRecord::undo`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Undo<'a> {
    /// Nothing of the try reached the ledger.
    Nothing,
    /// Save this record, the step's as it was, over the one the try wrote.
    Restore(&'a StepRecord),
    /// The step had no record for its input: delete the one the try wrote.
    Forget,
}

/// What the ledger decides for a step before any call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Settled, or not due yet: leave it as recorded.
    Keep,
    /// Read live state and act.
    Run,
    /// Ask how its audit went.
    Poll,
}

/// What the ledger records for a step decides whether it runs now (DESIGN §4). `now` is
/// the run's start; `cause_changed_at` is when something that may have fixed a blocked step
/// of the row last happened (`runner::Unblocks::for_row`).
pub fn due(
    record: Option<&StepRecord>,
    step: &crate::manifest::Step,
    retry_failed: bool,
    now: DateTime<Utc>,
    cause_changed_at: Option<i64>,
) -> Due {
    let Some(record) = record.filter(|r| r.input_hash == step.input_hash) else { return Due::Run };
    match record.state {
        StepState::Done | StepState::Skipped => Due::Keep,
        StepState::Failed if !retry_failed => Due::Keep,
        // A scan that cannot be used yet (61055: the month's registrations are spent).
        // The platform's audit pool (85085): each run reads `queryquota` again, and the step
        // goes as soon as it shows `rest > 0`; `not_before` is the latest it waits.
        StepState::Deferred
            if record.errcode.and_then(defer_until).is_some_and(DeferUntil::ends_when_quota_returns) =>
        {
            Due::Run
        }
        StepState::Deferred | StepState::Waiting if record.not_before.is_some_and(|t| t > now.timestamp()) => Due::Keep,
        StepState::Blocked if !may_be_unblocked(record.tried_at, now, cause_changed_at) => Due::Keep,
        // A review asked about recently: its next question waits (`get_auditstatus` at most
        // hourly); a push to `serve` settles it meanwhile.
        StepState::InReview if record.not_before.is_some_and(|t| t > now.timestamp()) => Due::Keep,
        StepState::InReview => Due::Poll,
        _ => Due::Run,
    }
}

/// A blocked step is tried again as soon as its cause may have changed — a refresh token of
/// one of its row's accounts was stored (imported, recovered, a registration's, pushed to
/// `serve` by an authorization) since the step was last tried — and otherwise once a
/// Beijing day: 100,000 blocked rows do not cost 100,000 token calls every run. A step
/// never tried under this rule (an older ledger) is tried.
pub fn may_be_unblocked(tried_at: Option<i64>, now: DateTime<Utc>, cause_changed_at: Option<i64>) -> bool {
    let Some(tried) = tried_at else { return true };
    tried < wechat_open::beijing::day_start(now).timestamp_millis() || cause_changed_at.is_some_and(|c| c >= tried)
}

/// True when a step cannot be worked on yet because its row's mini-program does not exist:
/// every step but `register` waits for the registration (DESIGN §4).
pub fn awaits_registration(kind: StepKind, appid: Option<&str>) -> bool {
    kind != StepKind::Register && appid.is_none()
}

/// WeChat's review outcomes (`ret`) pushed to `serve`: 2 rejected, 3 approved.
const RET_REJECTED: i64 = 2;
const RET_APPROVED: i64 = 3;

/// A code audit's outcomes as `get_auditstatus` numbers them, which is also how `serve`
/// records a `weapp_audit_*` push (golive.md §3.7).
pub const CODE_APPROVED: i64 = 0;
pub const CODE_REJECTED: i64 = 1;
pub const CODE_DELAYED: i64 = 4;

/// What a review outcome does to a step in review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: StepState,
    pub message: Option<String>,
    pub hint: Option<String>,
}

impl Verdict {
    fn new(state: StepState, message: Option<String>, hint: Option<&str>) -> Verdict {
        Verdict { state, message, hint: hint.map(str::to_string) }
    }
}

/// What a person does after WeChat rejects a row's code.
pub const CODE_REJECTED_HINT: &str = "Fix what WeChat's reason says (the screenshots are temporary media ids: \
    fetch them with the material API), commit the fix under a new user_version, and run again; the audit \
    is submitted again for the new version.";

/// The words of a rejected code audit: WeChat's reason and its screenshots' media ids.
pub fn code_rejection(reason: &str, screenshots: &[String]) -> String {
    let shots = if screenshots.is_empty() {
        String::new()
    } else {
        format!("; screenshots (media ids): {}", screenshots.join("|"))
    };
    format!("WeChat rejected the code: {}{shots}", reason.trim())
}

/// The words of a delayed code audit (not final: it stays in review).
pub fn code_delay(reason: &str) -> String {
    format!("WeChat delayed the audit (still in review): {}", reason.trim())
}

/// What a review outcome pushed to `serve` does to a step of `kind` in review; `None` when
/// it moves nothing. An approved name is done; a category approval names one category while
/// the step may ask for several, so the next run's `getcategory` settles it; a rejection fails
/// the step with WeChat's `reason`. A code audit (`kind` `audit`, `ret` numbered as
/// `get_auditstatus` does) approved is done, rejected failed with the reason and screenshots
/// `reason` already carries ([`code_rejection`]), delayed stays in review saying why.
pub fn audit_verdict(kind: StepKind, ret: i64, reason: &str) -> Option<Verdict> {
    if kind == StepKind::Audit {
        return match ret {
            CODE_APPROVED => Some(Verdict::new(StepState::Done, Some("approved by WeChat's audit".into()), None)),
            CODE_REJECTED => Some(Verdict::new(StepState::Failed, Some(reason.to_string()), Some(CODE_REJECTED_HINT))),
            CODE_DELAYED => Some(Verdict::new(StepState::InReview, Some(code_delay(reason)), None)),
            _ => None,
        };
    }
    match ret {
        RET_APPROVED if kind != StepKind::Categories => Some(Verdict::new(StepState::Done, None, None)),
        RET_REJECTED => Some(Verdict::new(StepState::Failed, Some(reason.to_string()), None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Step;
    use chrono::TimeZone;

    /// 2026-03-10 12:00 Beijing time (04:00 UTC): the day started at 2026-03-09 16:00 UTC.
    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap()
    }

    fn step() -> Step {
        Step { kind: StepKind::Signature, input_hash: "h1".into() }
    }

    fn record(state: StepState) -> StepRecord {
        StepRecord { state, ..StepRecord::new("wx1111111111111111", StepKind::Signature, "h1") }
    }

    #[test]
    fn due_follows_the_state_the_ledger_records() {
        let now = noon();
        let (later, earlier) = (now.timestamp() + 60, now.timestamp() - 60);
        let due_for = |r: &StepRecord, retry_failed: bool| due(Some(r), &step(), retry_failed, now, None);
        assert_eq!(due(None, &step(), false, now, None), Due::Run, "never tried");
        let table = [
            (StepState::Pending, Due::Run),
            (StepState::Done, Due::Keep),
            (StepState::Skipped, Due::Keep),
            (StepState::InReview, Due::Poll),
            (StepState::Failed, Due::Keep),
        ];
        for (state, expected) in table {
            assert_eq!(due_for(&record(state), false), expected, "{state:?}");
        }
        assert_eq!(due_for(&record(StepState::Failed), true), Due::Run, "--retry-failed");
        for state in [StepState::Deferred, StepState::Waiting] {
            let until = |t| StepRecord { not_before: Some(t), ..record(state) };
            assert_eq!(due_for(&until(later), false), Due::Keep, "{state:?} not yet");
            assert_eq!(due_for(&until(earlier), false), Due::Run, "{state:?} due");
            assert_eq!(due_for(&record(state), false), Due::Run, "{state:?} with no date");
        }
        // Another input: whatever the record says, the step runs again.
        let other = StepRecord { input_hash: "h0".into(), ..record(StepState::Done) };
        assert_eq!(due_for(&other, false), Due::Run);
    }

    /// A code audit asked about within the hour waits (get_auditstatus at most hourly); one
    /// deferred by the platform's spent pool (85085) is taken up by every run, whose
    /// queryquota says whether it may go, though `not_before` (the latest) is a month away.
    #[test]
    fn reviews_are_asked_about_at_most_as_often_as_they_say_and_a_spent_audit_pool_is_read_each_run() {
        let now = noon();
        let due_for = |r: &StepRecord| due(Some(r), &step(), false, now, None);
        let review = |t| StepRecord { not_before: Some(t), audit_id: Some(7), ..record(StepState::InReview) };
        assert_eq!(due_for(&review(now.timestamp() + 60)), Due::Keep, "asked less than an hour ago");
        assert_eq!(due_for(&review(now.timestamp() - 60)), Due::Poll, "its hour is up");
        let asked = StepRecord { message: Some("in WeChat's audit (audit 7)".into()), ..review(now.timestamp() + 60) };
        let shown = Decision::Review { audit_id: Some(7), message: "in WeChat's audit (audit 7)".into() };
        assert_eq!(asked.kept(), shown, "plan shows it in review, not done");
        let month = DeferUntil::AuditQuota.not_before(now).timestamp();
        let spent = |code| StepRecord { not_before: Some(month), errcode: Some(code), ..record(StepState::Deferred) };
        assert_eq!(due_for(&spent(85085)), Due::Run, "the pool may have been raised");
        assert_eq!(due_for(&spent(53200)), Due::Keep, "a monthly quota of the account's own waits for its date");
    }

    #[test]
    fn a_blocked_step_is_tried_again_once_a_beijing_day_or_when_its_cause_may_have_changed() {
        let now = noon();
        let day_start = Utc.with_ymd_and_hms(2026, 3, 9, 16, 0, 0).unwrap().timestamp_millis();
        let blocked = |tried: i64| StepRecord { tried_at: Some(tried), ..record(StepState::Blocked) };
        let due_with = |r: &StepRecord, changed| due(Some(r), &step(), false, now, changed);
        assert_eq!(due_with(&blocked(day_start + 1000), None), Due::Keep, "tried today");
        assert_eq!(due_with(&blocked(day_start - 1000), None), Due::Run, "tried yesterday (Beijing)");
        assert_eq!(due_with(&blocked(day_start + 1000), Some(day_start + 2000)), Due::Run, "a token stored since");
        assert_eq!(due_with(&blocked(day_start + 1000), Some(day_start)), Due::Keep, "a token stored before");
        assert_eq!(due_with(&record(StepState::Blocked), None), Due::Run, "never tried under the rule");
    }

    #[test]
    fn settling_writes_the_outcome_and_clears_a_started_call_past_it() {
        let started = StepRecord {
            started_api: Some("/wxa/setnickname".into()),
            started_at: Some(100),
            started_info: Some("{}".into()),
            ..record(StepState::Pending)
        };
        let mut done = started.clone();
        done.settle(&StepOutcome::done("set"), "run-1");
        assert_eq!(
            (done.state, done.message.as_deref(), done.run_id.as_deref()),
            (StepState::Done, Some("set"), Some("run-1"))
        );
        assert_eq!((done.started_api, done.started_at, done.started_info), (None, None, None));

        let mut review = started.clone();
        let outcome = StepOutcome { audit_id: Some(7), ..StepOutcome::state(StepState::InReview, "in audit") };
        review.settle(&outcome, "run-1");
        assert_eq!((review.audit_id, review.started_at, review.started_api), (Some(7), Some(100), None), "keeps when");

        let mut pending = started.clone();
        pending.settle(&StepOutcome::state(StepState::Pending, "going out"), "run-1");
        assert_eq!(pending.started_api.as_deref(), Some("/wxa/setnickname"), "still out");

        // A later outcome without an audit keeps the one recorded; a failure's hint is written.
        let mut failed = StepRecord { audit_id: Some(7), ..record(StepState::InReview) };
        let outcome = StepOutcome { hint: Some("fix it".into()), ..StepOutcome::state(StepState::Failed, "no") };
        failed.settle(&outcome, "run-2");
        assert_eq!(
            (failed.state, failed.audit_id, failed.hint.as_deref()),
            (StepState::Failed, Some(7), Some("fix it"))
        );
    }

    #[test]
    fn decisions_become_outcomes_with_the_state_plan_expects() {
        let table = [
            (Decision::Skip("s".into()), StepState::Skipped),
            (Decision::Reconciled("r".into()), StepState::Done),
            (Decision::Defer { not_before: 5, errcode: Some(53200), message: "d".into() }, StepState::Deferred),
            (Decision::Fail { errcode: None, message: "f".into(), hint: None }, StepState::Failed),
            (Decision::Block { errcode: Some(48001), message: "b".into(), hint: None }, StepState::Blocked),
            (Decision::Wait("w".into()), StepState::Waiting),
            (
                Decision::WaitUntil { not_before: 5, errcode: Some(61055), message: "u".into(), hint: None },
                StepState::Waiting,
            ),
            (Decision::Review { audit_id: Some(3), message: "v".into() }, StepState::InReview),
        ];
        for (decision, state) in table {
            let outcome = StepOutcome::from_decision(decision.clone());
            assert_eq!((outcome.state, outcome.expected_state()), (state, state), "{decision:?}");
        }
        // A change to make is pending until it is made; plan takes it as done.
        let set = StepOutcome::from_decision(Decision::Set("x".into()));
        assert_eq!((set.state, set.expected_state()), (StepState::Pending, StepState::Done));
    }

    #[test]
    fn a_try_begins_starts_a_call_and_a_record_reads_back_as_its_outcome() {
        let mut r = StepRecord { attempts: 2, ..record(StepState::Failed) };
        r.begin("run-3", 1_700_000_000_123);
        assert_eq!((r.attempts, r.run_id.as_deref(), r.tried_at), (3, Some("run-3"), Some(1_700_000_000_123)));
        r.start("/cgi-bin/account/modifysignature", &serde_json::json!({"signature": "旧"}), 1_700_000_000);
        assert_eq!(r.state, StepState::Pending, "a failed step's started call is not hidden");
        assert_eq!(r.started_info.as_deref(), Some(r#"{"signature":"旧"}"#));
        let out =
            StepOutcome { not_before: Some(9), errcode: Some(53200), ..StepOutcome::state(StepState::Deferred, "m") };
        r.settle(&out, "run-3");
        assert_eq!(r.outcome(), out, "settle then outcome is the identity");
        // A record of another input is none: the step starts over.
        let fresh = StepRecord::of_input(Some(StepRecord { input_hash: "h0".into(), ..r.clone() }), "id", &step());
        assert_eq!((fresh.state, fresh.attempts, fresh.identity.as_str()), (StepState::Pending, 0, "id"));
        assert_eq!(StepRecord::of_input(Some(r.clone()), "id", &step()), r);
    }

    #[test]
    fn a_try_a_stop_ended_is_undone_only_where_it_reached_the_ledger() {
        let before = StepRecord { message: Some("m".into()), ..record(StepState::Failed) };
        let mut tried = before.clone();
        tried.begin("run-2", 1_700_000_000_000);
        assert_eq!(tried.undo(Some(&before)), Undo::Nothing, "a try that started no call saved nothing");
        tried.start("/cgi-bin/account/modifysignature", &serde_json::json!({}), 1_700_000_000);
        assert_eq!(tried.undo(Some(&before)), Undo::Restore(&before));
        assert_eq!(tried.undo(None), Undo::Forget, "no record before: the started one goes");
    }

    #[test]
    fn a_review_began_when_the_call_that_opened_it_was_sent() {
        let mut r = record(StepState::Pending);
        assert_eq!(r.started_call_at(), None);
        r.start("/wxa/setnickname", &serde_json::json!({}), 100);
        // A later try finds the call out, sends again and learns a review is open (91019).
        let earlier = r.started_call_at();
        assert_eq!(earlier, Some(100));
        r.start("/wxa/setnickname", &serde_json::json!({}), 200);
        r.review_opened_at(earlier);
        assert_eq!(r.started_at, Some(100), "opened by the earlier call");
        r.review_opened_at(None);
        assert_eq!(r.started_at, Some(100), "no earlier call: the review began with this one");
        assert_eq!(r.review_since(900), 100);
        let mut old = record(StepState::InReview);
        assert_eq!((old.review_since(900), old.started_at), (900, Some(900)), "counted from now on");
    }

    #[test]
    fn plan_shows_a_kept_record_as_the_decision_it_stands_for() {
        let kept = |r: StepRecord| StepOutcome::from_decision(r.kept()).state;
        let with = |state| StepRecord { message: Some("m".into()), not_before: Some(9), ..record(state) };
        assert_eq!(kept(with(StepState::Done)), StepState::Skipped);
        assert_eq!(kept(with(StepState::Deferred)), StepState::Deferred);
        assert_eq!(kept(with(StepState::Blocked)), StepState::Blocked);
        assert_eq!(kept(with(StepState::Waiting)), StepState::Waiting);
        assert_eq!(kept(with(StepState::Failed)), StepState::Failed);
        assert_eq!(
            StepOutcome::from_decision(with(StepState::Failed).kept()).message.as_deref(),
            Some("failed in an earlier run: m (--retry-failed runs it again)")
        );
    }

    #[test]
    fn only_register_goes_before_the_mini_program_exists() {
        for kind in StepKind::ALL {
            assert_eq!(awaits_registration(kind, None), kind != StepKind::Register, "{kind}");
            assert!(!awaits_registration(kind, Some("wx1111111111111111")), "{kind}");
        }
    }

    #[test]
    fn review_outcomes_pushed_to_serve() {
        let verdict = |kind, ret, reason| audit_verdict(kind, ret, reason).map(|v| (v.state, v.message));
        assert_eq!(verdict(StepKind::Nickname, 3, ""), Some((StepState::Done, None)));
        assert_eq!(verdict(StepKind::Nickname, 2, "不符"), Some((StepState::Failed, Some("不符".into()))));
        assert_eq!(verdict(StepKind::Categories, 2, "缺少资质"), Some((StepState::Failed, Some("缺少资质".into()))));
        assert_eq!(verdict(StepKind::Categories, 3, ""), None, "one category of several: getcategory settles it");
        assert_eq!(verdict(StepKind::Nickname, 1, ""), None);
        let rejected = code_rejection("类目不符", &["mid1".into(), "mid2".into()]);
        assert_eq!(rejected, "WeChat rejected the code: 类目不符; screenshots (media ids): mid1|mid2");
        let failed = audit_verdict(StepKind::Audit, CODE_REJECTED, &rejected).unwrap();
        assert_eq!((failed.state, failed.hint.as_deref()), (StepState::Failed, Some(CODE_REJECTED_HINT)));
        assert_eq!(verdict(StepKind::Audit, CODE_APPROVED, "").map(|v| v.0), Some(StepState::Done));
        assert_eq!(
            verdict(StepKind::Audit, CODE_DELAYED, "需要人工复核"),
            Some((StepState::InReview, Some("WeChat delayed the audit (still in review): 需要人工复核".into())))
        );
        assert_eq!(verdict(StepKind::Audit, 2, ""), None);
    }

    #[test]
    fn kinds_and_states_read_back_from_their_names() {
        for kind in StepKind::ALL {
            assert_eq!(StepKind::parse(kind.as_str()), Some(kind));
        }
        for state in StepState::ALL {
            assert_eq!(StepState::parse(state.as_str()), Some(state));
        }
        assert_eq!(StepKind::parse("golive"), None);
    }
}
