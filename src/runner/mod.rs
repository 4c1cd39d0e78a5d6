//! The runner: brings every row of a manifest as far as WeChat allows, step by step, and
//! remembers where each step got to in the ledger, so the next run continues exactly there.
//! `plan` is the same pass over the rows in [`Mode::Plan`]: each step stops at its decision,
//! and nothing is written.
//!
//! For each step, the ledger record and the row's input hash decide what happens (DESIGN §4):
//! a done or skipped step with the same hash makes no call; a changed hash runs the step
//! again; a failed step waits for its input to change (or `--retry-failed`); a deferred one
//! for its `not_before`; a step in review is polled. A step that runs first reads live state
//! ([`steps::decide`]), which also reconciles a call a crashed run had started, and only then
//! sends its state-changing call ([`steps::apply`]). Rows run concurrently; a row's steps run
//! in order.
//!
//! One row's path: [`run`] sets up (the ledger's records, identities, what may have
//! unblocked a step), then `process_row` takes the row's steps in order through
//! `run_step` (left as recorded, waiting for the registration, or taken up: `attempt`
//! decides and applies, `settle` turns an error into an outcome, `save` records it), and
//! each step's [`StepResult`] is folded into the row's [`RowResult`] (`RowResult::push`),
//! which the reports and `plan`'s lines are built from.

pub mod progress;
pub mod steps;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::exit::{usage, Exit};
use crate::interrupt::{Interrupt, GRACE};
use crate::ledger::{Ledger, RowRecord};
use crate::lifecycle::{awaits_registration, due, Decision, Due, StepOutcome, StepRecord, StepState, Undo};
use crate::manifest::{self, CategoryTree, Column, Loaded, Manifest, Row, Step, StepKind};
use crate::wechat::{Api, Hint};
use steps::{StepCtx, StepError};
use wechat_open::{calls::Attempts, errcode::ErrClass, ApiError};

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub manifest: PathBuf,
    pub max_rows: Option<usize>,
    pub concurrency: usize,
    pub retry_failed: bool,
}

/// What a pass over the rows does with the steps it takes up: `run` and `plan` are one loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `plan`: live state is read with read-only calls and each step stops at its
    /// [`Decision`]; nothing is written to the ledger, nothing changes at WeChat.
    Plan,
    /// `run`, as run `run_id`: each decision is acted on, and where each step ends up is
    /// recorded.
    Apply { run_id: String },
}

/// One step of a row as a pass leaves it: what a row's [`RowResult`], and so the reports
/// and `plan`'s lines, are built from.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub kind: StepKind,
    /// Where `run` left the step; for `plan`, where its decision leaves it (a change to
    /// make is `pending`, [`StepOutcome::from_decision`]; a step the ledger settles shows
    /// what its record stands for, [`StepRecord::kept`]).
    pub outcome: StepOutcome,
}

/// One manifest row's result, for the reports and `plan`.
#[derive(Debug, Clone, Default)]
pub struct RowResult {
    pub line: u64,
    pub appid: String,
    pub official_appid: String,
    /// The state of each step the row asks for: where `run` left it, or where `run` would
    /// leave it for `plan` ([`StepOutcome::expected_state`]).
    pub steps: BTreeMap<StepKind, StepState>,
    /// The step that most needs attention ([`ATTENTION`]); `errcode`, `message` and `hint`
    /// are its. `None` when every step is settled, or the row was rejected (the validation
    /// problem is the message then).
    pub step: Option<StepKind>,
    pub errcode: Option<i64>,
    pub message: String,
    pub hint: String,
    /// The row's cells as the manifest has them.
    pub cells: Vec<String>,
    /// Rejected by validation: no step ran.
    pub invalid: bool,
    /// The run was interrupted before the row's work was done.
    pub unfinished: bool,
    /// `plan` only: what it shows of the row. `run` keeps only the states and the words of
    /// the step most in need: 100,000 rows' messages (and identities) would otherwise be held
    /// until the reports are written.
    pub planned: Option<Box<RowPlan>>,
}

/// What `plan` keeps of a row for its lines.
#[derive(Debug, Clone, Default)]
pub struct RowPlan {
    /// The row's identity in the ledger.
    pub identity: String,
    /// Each step's result, in run order.
    pub steps: Vec<StepResult>,
}

impl RowResult {
    /// True while every step taken so far is done or skipped.
    fn settled(&self) -> bool {
        self.steps.values().all(|s| s.is_settled())
    }

    /// A row whose work this run did not finish: its steps as the ledger has them (a step
    /// with no record for this input is pending), the first of them pending named.
    fn unfinished(line: u64, identity: &str, steps: &[Step], known: &HashMap<(String, StepKind), StepRecord>) -> Self {
        let mut result = RowResult { line, unfinished: true, ..RowResult::default() };
        for step in steps {
            let record = known.get(&(identity.to_string(), step.kind)).filter(|r| r.input_hash == step.input_hash);
            let state = record.map(|r| r.state).unwrap_or(StepState::Pending);
            result.steps.insert(step.kind, state);
            if state == StepState::Pending && result.step.is_none() {
                result.step = Some(step.kind);
            }
        }
        result.message = "not finished: the run was interrupted; the next run continues from here".into();
        result
    }
}

impl RowResult {
    /// Takes in the result of the row's next step: its state — for `plan`, the one `run`
    /// would leave — and, when it needs attention more than the steps before it, its words
    /// ([`ATTENTION`]; the first in run order among equals). `plan` keeps the result too.
    fn push(&mut self, result: StepResult, mode: &Mode) {
        let state = match mode {
            Mode::Plan => result.outcome.expected_state(),
            Mode::Apply { .. } => result.outcome.state,
        };
        let most = self.step.and_then(|kind| self.steps.get(&kind)).and_then(|s| attention(*s));
        self.steps.insert(result.kind, state);
        if attention(state).is_some_and(|rank| most.is_none_or(|m| rank < m)) {
            let outcome = &result.outcome;
            self.step = Some(result.kind);
            self.errcode = outcome.errcode;
            self.message = outcome.message.clone().unwrap_or_default();
            self.hint = outcome.hint.clone().unwrap_or_default();
        }
        if *mode == Mode::Plan {
            self.planned.get_or_insert_default().steps.push(result);
        }
    }

    /// True when the row is in `failed.csv`: a step failed or the row is invalid.
    pub fn needs_person(&self) -> bool {
        self.invalid || self.steps.values().any(|s| *s == StepState::Failed)
    }
}

/// The step states that need attention, the most first (DESIGN §6): a row's `step`,
/// `errcode`, `message` and `hint` in results.csv come from its step whose state is earliest
/// here (the first in run order among equals). A step left pending (not reached) comes last.
pub const ATTENTION: &[StepState] = &[
    StepState::Failed,
    StepState::Blocked,
    StepState::Deferred,
    StepState::InReview,
    StepState::Waiting,
    StepState::Pending,
];

/// How much `state` needs attention: lower is more; `None` for a settled step.
fn attention(state: StepState) -> Option<usize> {
    ATTENTION.iter().position(|s| *s == state)
}

/// What a run did.
#[derive(Debug)]
pub struct RunResult {
    pub rows: Vec<RowResult>,
    pub header: Vec<String>,
    /// The manifest, against whose folder its file paths resolve.
    pub manifest: PathBuf,
    pub exit: Exit,
    /// Why the run stopped early (a `stop`-class error: the platform's own credentials or
    /// setup), as the sentence shown to the person; the exit code is then 1.
    pub stopped: Option<String>,
}

impl RunResult {
    /// Steps per state.
    pub fn step_counts(&self) -> BTreeMap<StepState, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.rows {
            for state in row.steps.values() {
                *counts.entry(*state).or_default() += 1;
            }
        }
        counts
    }
}

/// The exit code for these rows (DESIGN §6): for `plan`, the code `run` would exit with.
pub fn exit_for(rows: &[RowResult]) -> Exit {
    exit_for_states(rows.iter().any(|r| r.invalid), rows.iter().flat_map(|r| r.steps.values().copied()))
}

/// The exit code for a sheet with rejected rows (`invalid`) or not, whose steps are in
/// `states` (DESIGN §6): `run` judges the states it left, `plan` those it foresees.
pub fn exit_for_states(invalid: bool, states: impl IntoIterator<Item = StepState>) -> Exit {
    let mut deferred = false;
    for state in states {
        match state {
            // Blocked rows need a person too, outside the sheet: their hint says what.
            StepState::Failed | StepState::Blocked => return Exit::NeedsPerson,
            StepState::Deferred | StepState::Pending => deferred = true,
            _ => {}
        }
    }
    if invalid {
        Exit::NeedsPerson
    } else if deferred {
        Exit::Deferred
    } else {
        Exit::Ok
    }
}

/// Validates the manifest's rows (the first `cfg.max_rows`), fetching the category tree when
/// the sheet has a categories column. Errors are usage errors (exit 2).
pub async fn load_manifest(api: &Api, manifest: &Manifest, cfg: &RunConfig) -> anyhow::Result<Loaded> {
    let fetched;
    let tree = if manifest.columns().has(Column::Categories) {
        let candidates = api.stored_authorizers().await?;
        match api.all_categories_any(&candidates).await {
            Ok(tree) => {
                fetched = CategoryTree::new(tree);
                manifest::Tree::Known(&fetched)
            }
            // Not the sheet's fault: rows that give names are not rejected, their step says why.
            Err(e) => {
                tracing::warn!(
                    "could not read the category tree ({e}); category names cannot be resolved: \
                     the categories step of rows that give names waits for the tree"
                );
                manifest::Tree::Unreadable
            }
        }
    } else {
        manifest::Tree::Absent
    };
    let loaded = manifest.load_with(tree, cfg.max_rows).map_err(|e| usage(e.to_string()))?;
    for problem in loaded.problems() {
        tracing::warn!("{problem}");
    }
    Ok(loaded)
}

/// When each account's refresh token was last stored from outside a token refresh (Unix
/// ms): what may have fixed a blocked step ([`crate::lifecycle::may_be_unblocked`]). Read once per run.
#[derive(Debug, Default)]
pub struct Unblocks {
    stored_at: HashMap<String, i64>,
}

impl Unblocks {
    pub async fn read(ledger: &Ledger) -> Result<Unblocks, crate::ledger::LedgerError> {
        Ok(Unblocks { stored_at: ledger.tokens_stored_at().await? })
    }

    /// The latest such time among the row's accounts: its mini-program (as the sheet or the
    /// ledger knows it) and its official account.
    pub fn for_row(&self, row: &Row, appids: &HashMap<String, String>) -> Option<i64> {
        [row.appid.as_ref(), appids.get(&row.identity), row.official_appid.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|appid| self.stored_at.get(appid).copied())
            .max()
    }
}

/// Shared by every row of a pass.
struct RunCtx {
    api: Arc<Api>,
    ledger: Ledger,
    mode: Mode,
    cfg: RunConfig,
    known: HashMap<(String, StepKind), StepRecord>,
    appids: HashMap<String, String>,
    unblocks: Unblocks,
    /// The pass's start, against which the ledger's records are judged.
    now: DateTime<Utc>,
    /// `run`'s progress (`plan` shows none: its output is the plan).
    progress: Option<progress::Progress>,
}

impl RunCtx {
    /// `rows` more rows are done.
    fn advance(&self, rows: u64) {
        if let Some(progress) = &self.progress {
            progress.inc(rows);
        }
    }
}

/// Takes every valid row of `loaded` through its steps as `mode` says — `run` applies,
/// `plan` only decides — and returns their results, rejected rows included.
///
/// Once `interrupt` is signalled no row starts and no call is sent; the rows at work get
/// [`GRACE`] to finish what they had in flight, and are then given up on. Every row still
/// has its result: the steps it did not get to as the ledger has them.
pub async fn run(
    api: Arc<Api>,
    ledger: Ledger,
    mode: Mode,
    cfg: RunConfig,
    mut loaded: Loaded,
    interrupt: &Interrupt,
) -> anyhow::Result<RunResult> {
    let known = ledger.all_steps().await?;
    let appids = ledger.row_appids().await?;
    adopt_identities(&mut loaded.rows, &appids);
    let unblocks = Unblocks::read(&ledger).await?;
    let now = Utc::now();
    let mut ctx =
        RunCtx { api: api.clone(), ledger, mode, cfg: cfg.clone(), known, appids, unblocks, now, progress: None };
    if let Mode::Apply { run_id } = &ctx.mode {
        prepare(&ctx, run_id, &loaded).await?;
        let total = loaded.rows.len() + loaded.rejected.len();
        ctx.progress = Some(progress::Progress::start(total as u64, api.calls.clone()));
    }
    let ctx = Arc::new(ctx);
    let mut results: Vec<RowResult> = loaded.rejected.iter().map(rejected_result).collect();
    ctx.advance(loaded.rejected.len() as u64);
    // Rows are taken one by one, and none once the run is interrupted: those left stay here.
    let mut waiting = loaded.rows.into_iter();
    // The rows at work, by line: those given up on at the end of the grace are reported too.
    let at_work: Arc<AtWork> = Arc::default();
    let next_row = std::iter::from_fn(|| interrupt.check().ok().and_then(|()| waiting.next()));
    let mut stream = futures::stream::iter(next_row.map(|row| {
        let (ctx, at_work) = (ctx.clone(), at_work.clone());
        async move {
            let line = row.line;
            let result = process_row(&ctx, row, interrupt, &at_work).await;
            lock(&at_work).remove(&line);
            ctx.advance(1);
            result
        }
    }))
    .buffer_unordered(cfg.concurrency.max(1));
    let mut fatal = None;
    let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        let next = match grace.as_mut() {
            None => tokio::select! {
                next = stream.next() => next,
                () = interrupt.signals(1) => {
                    grace = Some(Box::pin(tokio::time::sleep(GRACE)));
                    continue;
                }
            },
            Some(deadline) => tokio::select! {
                next = stream.next() => next,
                () = deadline => break,
                () = interrupt.signals(2) => break,
            },
        };
        match next {
            Some(Ok(row)) => results.push(row),
            // `run` lets the rows at work finish what they started; `plan`'s only read.
            Some(Err(e)) if ctx.mode == Mode::Plan => return Err(e.into()),
            Some(Err(e)) => {
                fatal.get_or_insert(e);
            }
            None => break,
        }
    }
    drop(stream);
    if let Some(progress) = &ctx.progress {
        progress.finish();
    }
    if let Some(signal) = interrupt.signal() {
        let given_up: Vec<(u64, (String, Vec<Step>))> = lock(&at_work).drain().collect();
        if !given_up.is_empty() {
            tracing::warn!("{}: gave up on {} rows with a call still in flight", signal.name(), given_up.len());
        }
        for (line, (identity, steps)) in given_up {
            results.push(RowResult::unfinished(line, &identity, &steps, &ctx.known));
        }
        for row in waiting {
            let mut result = RowResult::unfinished(row.line, &row.identity, &row.steps, &ctx.known);
            result.appid = row.appid.clone().or_else(|| ctx.appids.get(&row.identity).cloned()).unwrap_or_default();
            result.official_appid = row.official_appid.clone().unwrap_or_default();
            result.cells = row.cells;
            results.push(result);
        }
    }
    if let Some(e) = fatal {
        return Err(crate::exit::fail(format!("the run stopped: {e}")));
    }
    results.sort_by_key(|r| r.line);
    let stopped = api.calls.stopped();
    let exit = match (&stopped, interrupt.signal()) {
        (Some(_), _) => Exit::Failure,
        (None, Some(signal)) => signal.exit(),
        (None, None) => exit_for(&results),
    };
    Ok(RunResult { rows: results, header: loaded.header, manifest: cfg.manifest, exit, stopped })
}

/// What a run does before its rows, and `plan` does not: when some step is due, make sure
/// the platform's own token can be had (a `stop`-class failure stops the run before any row
/// is touched) and read every authorizer's tokens at once; then record the sheet's rows.
async fn prepare(ctx: &RunCtx, run_id: &str, loaded: &Loaded) -> anyhow::Result<()> {
    let (api, ledger) = (&ctx.api, &ctx.ledger);
    let work = loaded.rows.iter().any(|row| {
        let changed = ctx.unblocks.for_row(row, &ctx.appids);
        row.steps.iter().any(|s| {
            let record = ctx.known.get(&(row.identity.clone(), s.kind));
            due(record, s, ctx.cfg.retry_failed, ctx.now, changed) != Due::Keep
        })
    });
    if work {
        // Without the platform's own token nothing can be done: say so once, exit 1.
        // Read every authorizer's tokens at once, too, rather than once per appid.
        let ready = async {
            api.tokens.component().await?;
            api.tokens.preload().await
        };
        match ready.await {
            Ok(()) => {}
            // Interrupted before any row started: every row is reported unfinished.
            Err(ApiError::Interrupted { .. }) => {}
            // The platform's credentials or setup: no row is touched, the reports say why.
            Err(e) if e.class() == ErrClass::Stop => {
                api.calls.stop(format!("the run could not proceed: {}", e.with_hint()))
            }
            // The component token's daily quota (45009): the pacer calls it no more this run,
            // and every row that needs it is deferred to the next Beijing day (exit 4).
            Err(e) if e.class() == ErrClass::Defer => tracing::warn!("{}", e.with_hint()),
            Err(e) => return Err(crate::exit::fail(format!("the run could not proceed: {e}"))),
        }
    }
    let records = loaded
        .rows
        .iter()
        .map(|r| RowRecord {
            identity: r.identity.clone(),
            appid: r.appid.clone(),
            official_appid: r.official_appid.clone(),
            line: r.line,
        })
        .collect();
    ledger.save_rows(records, run_id).await?;
    Ok(())
}

/// A row whose appid the ledger knows under another identity — a registration row, keyed by
/// its official account, whose appid failed.csv filled in — is that row: it takes the
/// ledger's identity, so its steps go on from where they stood (a failed step stays failed
/// until its input changes) and it never registers again. Not when another row of the sheet
/// has that identity itself: each identity is one row.
pub fn adopt_identities(rows: &mut [Row], appids: &HashMap<String, String>) {
    let registered: HashMap<&str, &str> =
        appids.iter().filter(|(identity, appid)| identity != appid).map(|(i, a)| (a.as_str(), i.as_str())).collect();
    if registered.is_empty() {
        return;
    }
    let taken: std::collections::HashSet<String> = rows.iter().map(|r| r.identity.clone()).collect();
    for row in rows.iter_mut() {
        let Some(identity) = row.appid.as_deref().and_then(|a| registered.get(a)) else { continue };
        if !taken.contains(*identity) {
            tracing::debug!("line {}: {} is the row the ledger knows as {identity}", row.line, row.identity);
            row.identity = identity.to_string();
        }
    }
}

fn rejected_result(rejected: &manifest::Rejected) -> RowResult {
    let message = rejected.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    RowResult {
        line: rejected.line,
        message,
        hint: "Fix the cell the message names and feed the row again.".into(),
        cells: rejected.cells.clone(),
        invalid: true,
        ..RowResult::default()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The rows at work when the run was interrupted, by line.
type AtWork = std::sync::Mutex<HashMap<u64, (String, Vec<Step>)>>;

/// Takes one row's steps in order ([`run_step`]) and folds their results into the row's.
async fn process_row(ctx: &RunCtx, row: Row, interrupt: &Interrupt, at_work: &AtWork) -> Result<RowResult, StepError> {
    // Remembered when the run is interrupted while the row is at work, so that a row given
    // up on at the end of the grace is still reported (rows started before cost nothing).
    let note = || {
        lock(at_work).entry(row.line).or_insert_with(|| (row.identity.clone(), row.steps.clone()));
    };
    let mut appid = row.appid.clone().or_else(|| ctx.appids.get(&row.identity).cloned());
    let mut result = RowResult {
        line: row.line,
        appid: appid.clone().unwrap_or_default(),
        official_appid: row.official_appid.clone().unwrap_or_default(),
        ..RowResult::default()
    };
    for (i, step) in row.steps.iter().enumerate() {
        if interrupt.check().is_err() {
            note();
        }
        let taken = tokio::select! {
            biased;
            outcome = run_step(ctx, &row, step, appid.as_deref(), result.settled()) => outcome,
            // Noted at the signal: this row may be given up on mid-call.
            () = async {
                interrupt.signals(1).await;
                note();
                std::future::pending::<()>().await
            } => unreachable!("pending never resolves"),
        };
        let outcome = match taken {
            Ok(outcome) => outcome,
            // No call for this step: it and the steps after it stay as the ledger has them.
            Err(StepError::Interrupted) => {
                let rest = RowResult::unfinished(row.line, &row.identity, &row.steps[i..], &ctx.known);
                result.steps.extend(rest.steps);
                result.step = rest.step.or(Some(step.kind));
                result.errcode = None;
                result.message = rest.message;
                result.hint.clear();
                result.unfinished = true;
                break;
            }
            Err(e) => return Err(e),
        };
        // The mini-program exists now: the steps after this one work on it.
        if step.kind == StepKind::Register && outcome.state.is_settled() {
            appid = ctx.ledger.row_appid(&row.identity).await?;
            result.appid = appid.clone().unwrap_or_default();
        }
        result.push(StepResult { kind: step.kind, outcome }, &ctx.mode);
    }
    if let Some(plan) = &mut result.planned {
        plan.identity = row.identity;
    }
    // Moved, not copied: a 100,000-row run holds every row's cells for the reports.
    result.cells = row.cells;
    Ok(result)
}

/// One step of a row (DESIGN §4): left as the ledger has it while the run is stopping or
/// when the step is not due, waiting while the row's mini-program does not exist, and
/// otherwise taken up — live state read and decided ([`attempt`]) and, when applying, acted
/// on and recorded ([`save`]).
async fn run_step(
    ctx: &RunCtx,
    row: &Row,
    step: &Step,
    appid: Option<&str>,
    earlier_settled: bool,
) -> Result<StepOutcome, StepError> {
    let known = ctx.known.get(&(row.identity.clone(), step.kind)).filter(|r| r.input_hash == step.input_hash);
    // The run is stopping (a `stop`-class error): nothing new starts.
    if ctx.api.calls.stopped().is_some() {
        return Ok(StepRecord::of_input(known.cloned(), &row.identity, step).outcome());
    }
    if awaits_registration(step.kind, appid) {
        return Ok(match &ctx.mode {
            Mode::Plan => StepOutcome::from_decision(Decision::Wait("after the registration".into())),
            Mode::Apply { run_id } => {
                let waiting = StepOutcome::state(StepState::Waiting, "waiting for the registration to finish");
                save(run_id, row, step, known.cloned(), &waiting, &ctx.ledger);
                waiting
            }
        });
    }
    // Go-live waits for the row's earlier steps (DESIGN §9): a name still in review holds
    // the audit back instead of failing it.
    if step.kind.is_golive() && !earlier_settled {
        // A record of this input (an audit in review, its id) stays as the ledger has it.
        if let Some(record) = known {
            return Ok(record.outcome());
        }
        let pending = StepOutcome::state(StepState::Pending, "waiting for the row's earlier steps to be done");
        if let Mode::Apply { run_id } = &ctx.mode {
            save(run_id, row, step, known.cloned(), &pending, &ctx.ledger);
        }
        return Ok(pending);
    }
    let changed = ctx.unblocks.for_row(row, &ctx.appids);
    let due = due(known, step, ctx.cfg.retry_failed, ctx.now, changed);
    if let (Due::Keep, Some(record)) = (due, known) {
        return Ok(match ctx.mode {
            Mode::Plan => StepOutcome::from_decision(record.kept()),
            Mode::Apply { .. } => record.outcome(),
        });
    }
    let mut record = StepRecord::of_input(known.cloned(), &row.identity, step);
    // The step's clock: read here once, whatever it decides is judged at it.
    let now = Utc::now();
    if let Mode::Apply { run_id } = &ctx.mode {
        record.begin(run_id, now.timestamp_millis());
    }
    let appid = appid.unwrap_or_default().to_string();
    let mut sctx = StepCtx { api: &ctx.api, ledger: &ctx.ledger, row, appid, record, live: Default::default(), now };
    // Every call of the step, whoever tries it again, counts against one `max_attempts`.
    let attempts = ctx.api.calls.attempts();
    let work = async {
        match (&ctx.mode, due) {
            (Mode::Apply { .. }, Due::Poll) => match steps::poll(step.kind, &mut sctx).await {
                // The audit goes on whatever our question met: stay in review, ask next run.
                Err(StepError::Api(e)) if matches!(e.class(), ErrClass::Retry | ErrClass::Defer) => Ok(StepOutcome {
                    audit_id: sctx.record.audit_id,
                    ..StepOutcome::state(
                        StepState::InReview,
                        format!("in WeChat's audit; asking about it failed ({e})"),
                    )
                }),
                other => settle(other, now),
            },
            // `plan` reads a step in review as it reads any other.
            _ => attempt(ctx, step.kind, &mut sctx, &attempts).await,
        }
    };
    // Boxed: inline, the largest step's decide/apply state (and the task-local scope's copy
    // of it) made every row's future that large, moved and polled as a whole.
    let outcome = attempts.clone().scope(Box::pin(work)).await;
    let Mode::Apply { run_id } = &ctx.mode else { return outcome };
    let outcome = match outcome {
        // The platform's credentials or setup (DESIGN §5): the run stops, and the step is
        // left as it was before this run touched it (a call marked as started is unmarked).
        Err(StepError::Api(e)) if e.class() == ErrClass::Stop => {
            ctx.api.calls.stop(format!("the run stopped: {}", e.with_hint()));
            match sctx.record.undo(known) {
                Undo::Nothing => {}
                Undo::Restore(record) => ctx.ledger.save_step(record).await?,
                Undo::Forget => ctx.ledger.delete_step(&row.identity, step.kind).await?,
            }
            return Ok(StepRecord::of_input(known.cloned(), &row.identity, step).outcome());
        }
        other => other?,
    };
    save(run_id, row, step, Some(sctx.record), &outcome, &ctx.ledger);
    Ok(outcome)
}

/// Decides a step and, when applying, carries out a `Set` decision, trying again after a
/// transient failure the call log did not retry (an uncertain state-changing call) while
/// every call of the step may still be sent ([`Attempts`]): each try reads live state
/// first, so a call that took effect without an answer is not sent again. `plan` stops at
/// the decision, and sends nothing whose answer could be lost.
async fn attempt(
    ctx: &RunCtx,
    kind: StepKind,
    sctx: &mut StepCtx<'_>,
    attempts: &Attempts,
) -> Result<StepOutcome, StepError> {
    let applies = ctx.mode != Mode::Plan;
    let mut tries = 1;
    loop {
        let result = match steps::decide(kind, sctx).await {
            Ok(Decision::Set(_)) if applies => steps::apply(kind, sctx).await,
            Ok(decision) => Ok(StepOutcome::from_decision(decision)),
            Err(e) => Err(e),
        };
        match result {
            Err(StepError::Api(e)) if applies && e.class() == ErrClass::Retry && attempts.left() => {
                tracing::debug!("line {}: {kind}: {e}; reconciling and trying again", sctx.row.line);
                ctx.api.calls.pause(kind.as_str(), tries).await?;
                tries += 1;
            }
            other => return settle(other, sctx.now),
        }
    }
}

/// Turns a step's error at `now` into its outcome; only a ledger failure or a `stop`-class
/// error (the platform's own credentials or setup) stops the run, leaving the step's record
/// as it was (and `plan`, with the error).
fn settle(result: Result<StepOutcome, StepError>, now: DateTime<Utc>) -> Result<StepOutcome, StepError> {
    match result {
        Ok(outcome) => Ok(outcome),
        Err(StepError::Api(e)) if e.class() == ErrClass::Stop => Err(StepError::Api(e)),
        Err(StepError::Api(e)) => Ok(StepOutcome::from_error(&e, now)),
        Err(StepError::Input(message)) => Ok(StepOutcome {
            hint: Some("Fix the file the row names, then run again.".into()),
            ..StepOutcome::state(StepState::Failed, message)
        }),
        Err(e @ (StepError::Ledger(_) | StepError::Interrupted)) => Err(e),
    }
}

/// Records where run `run_id` left a step (`record`: as loaded or as the try left it).
fn save(run_id: &str, row: &Row, step: &Step, record: Option<StepRecord>, outcome: &StepOutcome, ledger: &Ledger) {
    let mut record = StepRecord::of_input(record, &row.identity, step);
    record.settle(outcome, run_id);
    tracing::debug!("line {}: {} → {}", row.line, step.kind, outcome.state.as_str());
    ledger.save_step_later(&record);
}
