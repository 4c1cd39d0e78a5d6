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
//! One row's path: [`run`] streams the rows from validation (a thread of its own) and looks
//! them up in the ledger a batch at a time (the row's records, its appid, what may have
//! unblocked a step; the row's own record written only when it changed), then `process_row` takes the row's steps in order through
//! `run_step` (left as recorded, waiting for the registration, or taken up: `attempt`
//! decides and applies, `settle` turns an error into an outcome, `save` records it), and
//! each step's [`StepResult`] is folded into the row's [`RowResult`] (`RowResult::push`),
//! which goes to the pass's [`RowSink`] as the row finishes: the reports and `plan`'s lines
//! are built from it, and the run keeps only a [`Tally`].

pub mod progress;
pub mod steps;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::exit::{usage, Exit};
use crate::interrupt::{Interrupt, GRACE};
use crate::ledger::{KnownRow, Ledger, RowRecord};
use crate::lifecycle::{awaits_registration, due, Decision, Due, StepOutcome, StepRecord, StepState, Undo};
use crate::manifest::{self, CategoryTree, Column, Manifest, Row, Step, StepKind, Validated};
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
    /// Every step the row asks for was done or skipped in the ledger when the pass began:
    /// a row [`finished`](RowResult::finished) now was not finished by this pass.
    pub finished_before: bool,
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

    /// The row is finished: valid, its work not cut short, every step done or skipped.
    pub fn finished(&self) -> bool {
        !self.invalid && !self.unfinished && self.settled()
    }

    /// A row whose work this run did not finish: its steps as the ledger has them (`known`:
    /// the row's records; a step with no record for this input is pending), the first of
    /// them pending named.
    fn unfinished(line: u64, identity: &str, steps: &[Step], known: &[StepRecord]) -> Self {
        let mut result = RowResult { line, unfinished: true, ..RowResult::default() };
        for step in steps {
            let record =
                known.iter().find(|r| r.kind == step.kind && r.identity == identity && r.input_hash == step.input_hash);
            let state = record.map(|r| r.state).unwrap_or(StepState::Pending);
            result.steps.insert(step.kind, state);
            if state == StepState::Pending && result.step.is_none() {
                result.step = Some(step.kind);
            }
        }
        result.message = "not finished: the run was interrupted; the next run continues from here".into();
        result
    }

    /// A row the run was interrupted before it started.
    fn not_started(prepared: Prepared) -> Self {
        let Prepared { row, known } = prepared;
        let mut result = RowResult::unfinished(row.line, &row.identity, &row.steps, &known.steps);
        result.appid = row.appid.or(known.appid).unwrap_or_default();
        result.official_appid = row.official_appid.unwrap_or_default();
        result.cells = row.cells;
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

/// What a pass counted of its rows: all the end of a run needs (summary.json, the table, the
/// exit code, `status`) without the rows themselves.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Rows seen, valid or not.
    pub rows: usize,
    /// Rows rejected by validation.
    pub invalid: usize,
    /// Rows whose work this run did not finish (it was interrupted).
    pub unfinished: usize,
    /// Rows finished at the pass's end ([`RowResult::finished`]).
    pub finished: usize,
    /// Of those, the rows this pass finished (not finished when it began).
    pub finished_now: usize,
    /// Steps per kind and state.
    pub steps: BTreeMap<(StepKind, StepState), usize>,
}

impl Tally {
    /// Counts a row's result.
    pub fn add(&mut self, row: &RowResult) {
        self.rows += 1;
        self.invalid += usize::from(row.invalid);
        self.unfinished += usize::from(row.unfinished);
        if row.finished() {
            self.finished += 1;
            self.finished_now += usize::from(!row.finished_before);
        }
        for (kind, state) in &row.steps {
            *self.steps.entry((*kind, *state)).or_default() += 1;
        }
    }

    /// Steps per state.
    pub fn step_counts(&self) -> BTreeMap<StepState, usize> {
        let mut counts = BTreeMap::new();
        for ((_, state), n) in &self.steps {
            *counts.entry(*state).or_default() += n;
        }
        counts
    }

    /// The exit code for these rows (DESIGN §6): for `plan`, the code `run` would exit with.
    pub fn exit(&self) -> Exit {
        exit_for_states(self.invalid > 0, self.steps.keys().map(|(_, state)| *state))
    }
}

/// Where a pass hands each row's result as it finishes (in no particular order): `run`'s
/// reports ([`crate::report::Reports`]), `plan`'s lines (put back in line order the same way).
pub trait RowSink {
    fn take(&mut self, row: RowResult) -> anyhow::Result<()>;
}

impl RowSink for crate::report::Reports {
    fn take(&mut self, row: RowResult) -> anyhow::Result<()> {
        self.row(&row)
    }
}

/// What a run did.
#[derive(Debug)]
pub struct RunResult {
    pub tally: Tally,
    /// The manifest, against whose folder its file paths resolve.
    pub manifest: PathBuf,
    pub exit: Exit,
    /// Why the run stopped early (a `stop`-class error: the platform's own credentials or
    /// setup), as the sentence shown to the person; the exit code is then 1.
    pub stopped: Option<String>,
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

/// What is known of the category tree, owned (the validation runs on a thread of its own).
#[derive(Debug)]
enum KnownTree {
    Known(CategoryTree),
    Unreadable,
    Absent,
}

impl KnownTree {
    fn tree(&self) -> manifest::Tree<'_> {
        match self {
            KnownTree::Known(tree) => manifest::Tree::Known(tree),
            KnownTree::Unreadable => manifest::Tree::Unreadable,
            KnownTree::Absent => manifest::Tree::Absent,
        }
    }
}

/// The category tree when the sheet has a categories column: fetched, or unreadable (not
/// the sheet's fault: rows that give names are not rejected, their step says why).
async fn category_tree(api: &Api, manifest: &Manifest) -> anyhow::Result<KnownTree> {
    if !manifest.columns().has(Column::Categories) {
        return Ok(KnownTree::Absent);
    }
    let candidates = api.stored_authorizers(crate::wechat::categories::MAX_TRIES).await?;
    Ok(match api.all_categories_any(&candidates).await {
        Ok(tree) => KnownTree::Known(CategoryTree::new(tree)),
        Err(e) => {
            tracing::warn!(
                "could not read the category tree ({e}); category names cannot be resolved: \
                 the categories step of rows that give names waits for the tree"
            );
            KnownTree::Unreadable
        }
    })
}

/// A sheet ready to stream through a pass ([`run`]): its manifest, what is known of the
/// category tree, and what the passes before validation found ([`Manifest::index`]) — the
/// duplicate identities, and which rows the ledger knows under another identity.
#[derive(Debug)]
pub struct Sheet {
    manifest: Manifest,
    tree: KnownTree,
    index: manifest::Index,
    /// An appid the ledger knows under another identity (a registration row's), and that
    /// identity ([`Ledger::registered_appids`]).
    registered: HashMap<String, String>,
    max_rows: Option<usize>,
}

impl Sheet {
    /// Reads the ledger's registered appids and the sheet's identities (the category tree
    /// fetched when the sheet has a categories column). A manifest error is a usage error
    /// (exit 2), before any row is taken.
    pub async fn open(api: &Api, ledger: &Ledger, manifest: Manifest, cfg: &RunConfig) -> anyhow::Result<Sheet> {
        let registered = ledger.registered_appids().await?;
        Sheet::indexed(api, manifest, cfg, registered).await
    }

    /// [`Sheet::open`] for a pass that takes each row as written, under the identity the
    /// sheet gives it (`check`: no row takes the ledger's identity, so it is not read).
    pub async fn open_as_written(api: &Api, manifest: Manifest, cfg: &RunConfig) -> anyhow::Result<Sheet> {
        Sheet::indexed(api, manifest, cfg, HashMap::new()).await
    }

    async fn indexed(
        api: &Api,
        manifest: Manifest,
        cfg: &RunConfig,
        registered: HashMap<String, String>,
    ) -> anyhow::Result<Sheet> {
        let tree = category_tree(api, &manifest).await?;
        let wanted: HashSet<String> = registered.values().cloned().collect();
        let max_rows = cfg.max_rows;
        let (manifest, index) = tokio::task::spawn_blocking(move || {
            let index = manifest.index(max_rows, &wanted);
            (manifest, index)
        })
        .await?;
        let index = index.map_err(|e| usage(e.to_string()))?;
        Ok(Sheet { manifest, tree, index, registered, max_rows })
    }

    /// How many rows the sheet has (the first `max_rows`), valid or not.
    pub fn rows(&self) -> usize {
        self.index.rows
    }

    /// The manifest's header as the file spells it.
    pub fn header(&self) -> &[String] {
        self.manifest.header()
    }

    /// Starts validating the rows ([`Verdicts`]), for a pass that takes them itself.
    pub fn validate(self) -> (Verdicts, Validating) {
        let Sheet { manifest, tree, index, max_rows, .. } = self;
        Verdicts::start(manifest, tree, index, max_rows)
    }
}

/// A sheet's verdicts, in file order, from validation on a thread of its own ahead of the
/// taker by at most `QUEUED` of them: the one way every pass over a sheet (`run`, `plan`,
/// `check`) reads it, so that none holds the sheet in memory. A rejected row's problems are
/// logged as it goes by.
pub struct Verdicts {
    rx: tokio::sync::mpsc::Receiver<Validated>,
}

/// The validation behind [`Verdicts`]: how it ended.
pub struct Validating(tokio::task::JoinHandle<Result<manifest::Counts, manifest::ManifestError>>);

impl Verdicts {
    fn start(
        manifest: Manifest,
        tree: KnownTree,
        index: manifest::Index,
        max_rows: Option<usize>,
    ) -> (Self, Validating) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Validated>(QUEUED);
        let validating = tokio::task::spawn_blocking(move || {
            manifest.validate_indexed(tree.tree(), index, max_rows, |verdict| match tx.blocking_send(verdict) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                // The pass ended early (a fatal error): the rest is not needed.
                Err(_) => std::ops::ControlFlow::Break(()),
            })
        });
        (Verdicts { rx }, Validating(validating))
    }

    /// The next row's verdict; `None` once every row was taken (or validation stopped: then
    /// [`Validating::finish`] says why).
    pub async fn next(&mut self) -> Option<Validated> {
        let verdict = self.rx.recv().await?;
        if let Validated::Rejected(rejected) = &verdict {
            for problem in &rejected.problems {
                tracing::warn!("{problem}");
            }
        }
        Some(verdict)
    }

    /// The verdicts as a stream.
    fn into_stream(self) -> impl futures::Stream<Item = Validated> {
        futures::stream::unfold(self, |mut verdicts| async move { verdicts.next().await.map(|v| (v, verdicts)) })
    }
}

impl Validating {
    /// Waits for validation to end (its [`Verdicts`] dropped first, or it may wait for a
    /// taker): a manifest that could not be read to the end is a usage error (exit 2).
    pub async fn finish(self) -> anyhow::Result<()> {
        self.0.await?.map_err(|e| usage(e.to_string()))?;
        Ok(())
    }
}

/// A row whose appid the ledger knows under another identity — a registration row, keyed by
/// its official account, whose appid failed.csv filled in — is that row: it takes the
/// ledger's identity, so its steps go on from where they stood (a failed step stays failed
/// until its input changes) and it never registers again. Not when a row of the sheet has
/// that identity itself (`present`): each identity is one row.
fn adopt_identity(row: &mut Row, registered: &HashMap<String, String>, present: &HashSet<String>) {
    let Some(identity) = row.appid.as_deref().and_then(|a| registered.get(a)) else { return };
    if !present.contains(identity) {
        tracing::debug!("line {}: {} is the row the ledger knows as {identity}", row.line, row.identity);
        row.identity = identity.clone();
    }
}

/// How many verdicts wait between validation and the rows at work, and how many rows are
/// looked up in the ledger at once.
const QUEUED: usize = 1024;
const BATCH: usize = 256;

/// How many batches are read from the ledger ahead of the rows at work.
const LOOKAHEAD: usize = 2;

/// A batch of verdicts and what the ledger holds of its valid rows: `items` has `None` for
/// each valid row, whose [`Prepared`] is next in `prepared`.
struct ReadBatch {
    items: Vec<Option<Item>>,
    prepared: Vec<Prepared>,
}

/// A valid row with what the ledger holds of it.
struct Prepared {
    row: Row,
    known: KnownRow,
}

impl Prepared {
    /// The record of the row's step `kind`.
    fn record(&self, kind: StepKind) -> Option<&StepRecord> {
        self.known.steps.iter().find(|r| r.kind == kind)
    }
}

/// A verdict on its way to the rows at work.
enum Item {
    Row(Box<Prepared>),
    Rejected(manifest::Rejected),
}

/// Shared by every row of a pass.
struct RunCtx {
    api: Arc<Api>,
    ledger: Ledger,
    mode: Mode,
    cfg: RunConfig,
    /// The pass's start, against which the ledger's records are judged.
    now: DateTime<Utc>,
    /// `run`'s progress (`plan` shows none: its output is the plan).
    progress: Option<progress::Progress>,
    /// Whether the platform's own token was made sure of ([`RunCtx::get_ready`]).
    ready: std::sync::atomic::AtomicBool,
    /// A row's work ended in an error that ends the pass ([`RunCtx::halt`]).
    failed: std::sync::atomic::AtomicBool,
}

impl RunCtx {
    /// True once the pass must end: the ledger halted at a failure of its storage, or a row's
    /// work ended in an error that ends the pass. No row starts any more.
    fn halting(&self) -> bool {
        self.ledger.failure().is_some() || self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A row's work ended in `error`, which ends the pass: no row starts any more, and no
    /// call is sent (the rows at work finish what they have in flight).
    fn halt(&self, error: &anyhow::Error) {
        self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        self.api.calls.stop(format!("the run stopped: {error}"));
    }

    /// `rows` more rows are done.
    fn advance(&self, rows: u64) {
        if let Some(progress) = &self.progress {
            progress.inc(rows);
        }
    }

    /// Looks a batch of verdicts up in the ledger (and, applying, records the rows that
    /// changed). Batches are read ahead of the rows at work ([`LOOKAHEAD`]): the writer
    /// thread reads the next batch while this one's rows are taken.
    async fn read(&self, batch: Vec<Validated>, sheet: &SheetRefs<'_>) -> anyhow::Result<ReadBatch> {
        let mut rows = Vec::with_capacity(batch.len());
        let mut items: Vec<Option<Item>> = Vec::with_capacity(batch.len());
        for verdict in batch {
            match verdict {
                Validated::Valid(mut row) => {
                    adopt_identity(&mut row, sheet.registered, sheet.present);
                    rows.push(*row);
                    items.push(None);
                }
                Validated::Rejected(rejected) => items.push(Some(Item::Rejected(rejected))),
            }
        }
        let records = rows
            .iter()
            .map(|r| RowRecord {
                identity: r.identity.clone(),
                appid: r.appid.clone(),
                official_appid: r.official_appid.clone(),
                line: r.line,
            })
            .collect();
        let applying = matches!(self.mode, Mode::Apply { .. });
        let known = self.ledger.look_up_rows(records, applying).await?;
        let prepared = rows.into_iter().zip(known).map(|(row, known)| Prepared { row, known }).collect();
        Ok(ReadBatch { items, prepared })
    }

    /// A batch read from the ledger, in the sheet's order. When some step of it is due,
    /// `run` first makes sure, once, that the platform's own token can be had (a
    /// `stop`-class failure stops the run before any row is touched), and reads the batch's
    /// authorizers' tokens at once.
    async fn look_up(&self, batch: ReadBatch) -> anyhow::Result<Vec<Item>> {
        let ReadBatch { items, prepared } = batch;
        if matches!(self.mode, Mode::Apply { .. }) {
            let has_work = |p: &Prepared| {
                p.row
                    .steps
                    .iter()
                    .any(|s| due(p.record(s.kind), s, self.cfg.retry_failed, self.now, p.known.stored_at) != Due::Keep)
            };
            let working: Vec<&Prepared> = prepared.iter().filter(|p| has_work(p)).collect();
            if !working.is_empty() {
                let appids: Vec<String> =
                    working.iter().filter_map(|p| p.row.appid.clone().or_else(|| p.known.appid.clone())).collect();
                self.get_ready(&appids).await?;
            }
        }
        let mut prepared = prepared.into_iter();
        Ok(items
            .into_iter()
            .map(|item| {
                item.unwrap_or_else(|| Item::Row(Box::new(prepared.next().expect("a row for each valid verdict"))))
            })
            .collect())
    }

    /// Makes sure, once a run, that the platform's own token can be had; then reads the
    /// tokens of `appids` at once, rather than once per appid.
    async fn get_ready(&self, appids: &[String]) -> anyhow::Result<()> {
        let api = &self.api;
        // Batches are looked up one after the other: no other asks at the same time.
        let first = !self.ready.swap(true, std::sync::atomic::Ordering::Relaxed);
        let ready = async {
            if first {
                api.tokens.component().await?;
            }
            api.tokens.preload(appids).await
        };
        match ready.await {
            Ok(()) => Ok(()),
            // Interrupted before any row started: every row is reported unfinished.
            Err(ApiError::Interrupted { .. }) => Ok(()),
            // The platform's credentials or setup: no row is touched, the reports say why.
            Err(e) if e.class() == ErrClass::Stop => {
                api.calls.stop(format!("the run could not proceed: {}", e.with_hint()));
                Ok(())
            }
            // The component token's daily quota (45009): the pacer calls it no more this run,
            // and every row that needs it is deferred to the next Beijing day (exit 4).
            Err(e) if e.class() == ErrClass::Defer => {
                if first {
                    tracing::warn!("{}", e.with_hint());
                }
                Ok(())
            }
            Err(e) if first => Err(crate::exit::fail(format!("the run could not proceed: {e}"))),
            // A batch's tokens could not be read at once: each row's are read on their own.
            Err(e) => {
                tracing::debug!("could not read a batch's tokens at once: {e}");
                Ok(())
            }
        }
    }
}

/// What the rows of a pass share from its [`Sheet`].
struct SheetRefs<'a> {
    registered: &'a HashMap<String, String>,
    present: &'a HashSet<String>,
}

/// Takes every row of `sheet` through its steps as `mode` says — `run` applies, `plan` only
/// decides — and hands each row's result to `sink` as it finishes, rejected rows included.
/// The rows stream: validation runs on a thread of its own, a bounded queue ahead of the
/// rows at work, and the ledger is read a batch of rows at a time, so no pass holds the
/// sheet (or the ledger) in memory.
///
/// Once `interrupt` is signalled no row starts and no call is sent; the rows at work get
/// [`GRACE`] to finish what they had in flight, and are then given up on. Every row still
/// has its result: the steps it did not get to as the ledger has them.
///
/// Once the ledger halts at a failure of its storage (its owner stops the calls:
/// [`Ledger::halt_at_first_failure`]), or a row's work ends in an error that ends the pass,
/// no row starts, no step starts and no call is sent; the rows at work finish the calls they
/// have in flight, and the pass ends with that error ([`ledger_failed`]) and no reports:
/// nothing after it could be recorded, and the rows not taken stay as the ledger has them.
pub async fn run(
    api: Arc<Api>,
    ledger: Ledger,
    mode: Mode,
    cfg: RunConfig,
    sheet: Sheet,
    interrupt: &Interrupt,
    sink: &mut dyn RowSink,
) -> anyhow::Result<RunResult> {
    let Sheet { manifest, tree, index, registered, max_rows } = sheet;
    let present = index.present.clone();
    let total = index.rows;
    let now = Utc::now();
    let mut ctx = RunCtx {
        api: api.clone(),
        ledger,
        mode,
        cfg: cfg.clone(),
        now,
        progress: None,
        ready: std::sync::atomic::AtomicBool::new(false),
        failed: std::sync::atomic::AtomicBool::new(false),
    };
    if matches!(ctx.mode, Mode::Apply { .. }) {
        ctx.progress = Some(progress::Progress::start(total as u64, api.calls.clone()));
    }
    let ctx = Arc::new(ctx);
    let refs = SheetRefs { registered: &registered, present: &present };

    let (verdicts, validating) = Verdicts::start(manifest, tree, index, max_rows);
    let lookups = verdicts
        .into_stream()
        .ready_chunks(BATCH)
        .map(|batch| ctx.read(batch, &refs))
        .buffered(LOOKAHEAD)
        // Batches get ready one after the other, in the sheet's order.
        .then(|read| async { ctx.look_up(read?).await });
    let mut items = lookups
        .flat_map(|looked_up| match looked_up {
            Ok(items) => futures::stream::iter(items.into_iter().map(Ok).collect::<Vec<_>>()).left_stream(),
            Err(e) => futures::stream::once(std::future::ready(Err(e))).right_stream(),
        })
        .boxed_local();

    let mut tally = Tally::default();
    let mut take = |row: RowResult, tally: &mut Tally| -> anyhow::Result<()> {
        tally.add(&row);
        sink.take(row)
    };
    // The rows at work, by line: those given up on at the end of the grace are reported too.
    let at_work: Arc<AtWork> = Arc::default();
    let mut fatal: Option<anyhow::Error> = None;
    {
        let halting = ctx.clone();
        let mut stream = items
            .by_ref()
            // Once the pass must end no row is taken: the rest stay as the ledger has them.
            .take_while(move |_| std::future::ready(!halting.halting()))
            .map(|item| {
                let (ctx, at_work) = (ctx.clone(), at_work.clone());
                async move {
                    match item? {
                        Item::Rejected(rejected) => Ok(rejected_result(&rejected)),
                        // Rows are taken one by one, and none once the run is interrupted.
                        Item::Row(prepared) if interrupt.check().is_err() => Ok(RowResult::not_started(*prepared)),
                        Item::Row(prepared) => {
                            let line = prepared.row.line;
                            let result = process_row(&ctx, *prepared, interrupt, &at_work).await;
                            lock(&at_work).remove(&line);
                            Ok(result?)
                        }
                    }
                }
            })
            .buffer_unordered(cfg.concurrency.max(1));
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
                Some(Ok(row)) => {
                    ctx.advance(1);
                    take(row, &mut tally)?;
                }
                // `run` lets the rows at work finish what they started; `plan`'s only read.
                Some(Err(e)) if ctx.mode == Mode::Plan => return Err(e),
                Some(Err(e)) => {
                    ctx.halt(&e);
                    fatal.get_or_insert(e);
                }
                None => break,
            }
        }
    }
    if let Some(progress) = &ctx.progress {
        progress.finish();
    }
    // Whatever the rows at work then met, the ledger's failure is why the run stopped.
    if let Some(failure) = ctx.ledger.failure() {
        return Err(ledger_failed(&failure));
    }
    if let Some(signal) = interrupt.signal() {
        let given_up: Vec<(u64, GivenUp)> = lock(&at_work).drain().collect();
        if !given_up.is_empty() {
            tracing::warn!("{}: gave up on {} rows with a call still in flight", signal.name(), given_up.len());
        }
        for (line, (identity, steps, known)) in given_up {
            take(RowResult::unfinished(line, &identity, &steps, &known), &mut tally)?;
        }
        // The rows not taken yet: as the ledger has them.
        while let Some(item) = items.next().await {
            match item {
                Ok(Item::Row(prepared)) => take(RowResult::not_started(*prepared), &mut tally)?,
                Ok(Item::Rejected(rejected)) => take(rejected_result(&rejected), &mut tally)?,
                Err(e) => {
                    fatal.get_or_insert(e);
                    break;
                }
            }
        }
    }
    drop(items);
    if let Some(e) = fatal {
        return Err(crate::exit::fail(format!("the run stopped: {e}")));
    }
    validating.finish().await?;
    let stopped = api.calls.stopped();
    let exit = match (&stopped, interrupt.signal()) {
        (Some(_), _) => Exit::Failure,
        (None, Some(signal)) => signal.exit(),
        (None, None) => tally.exit(),
    };
    Ok(RunResult { tally, manifest: cfg.manifest, exit, stopped })
}

/// The error a run ends with when its ledger halted at a failure of its storage (exit 1):
/// what failed, that nothing was sent after it and no row is to blame, and what to do.
pub fn ledger_failed(failure: &crate::ledger::LedgerFailure) -> anyhow::Error {
    let (why, action) = failure.advice();
    let why = why.map(|why| format!(" — {why}")).unwrap_or_default();
    crate::exit::fail(format!(
        "the run stopped: {failure}{why}. No call was sent after it and no row is at fault: {action}, then run \
         again; it goes on from where the ledger stands"
    ))
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

/// A row at work when the run was interrupted: its identity, steps and records.
type GivenUp = (String, Vec<Step>, Vec<StepRecord>);

/// The rows at work when the run was interrupted, by line.
type AtWork = std::sync::Mutex<HashMap<u64, GivenUp>>;

/// Takes one row's steps in order ([`run_step`]) and folds their results into the row's.
async fn process_row(
    ctx: &RunCtx,
    prepared: Prepared,
    interrupt: &Interrupt,
    at_work: &AtWork,
) -> Result<RowResult, StepError> {
    let row = &prepared.row;
    // Remembered when the run is interrupted while the row is at work, so that a row given
    // up on at the end of the grace is still reported (rows started before cost nothing).
    let note = || {
        lock(at_work)
            .entry(row.line)
            .or_insert_with(|| (row.identity.clone(), row.steps.clone(), prepared.known.steps.clone()));
    };
    let mut appid = row.appid.clone().or_else(|| prepared.known.appid.clone());
    let finished_before = row.steps.iter().all(|step| {
        prepared.record(step.kind).is_some_and(|r| r.input_hash == step.input_hash && r.state.is_settled())
    });
    let mut result = RowResult {
        line: row.line,
        appid: appid.clone().unwrap_or_default(),
        official_appid: row.official_appid.clone().unwrap_or_default(),
        finished_before,
        ..RowResult::default()
    };
    for (i, step) in row.steps.iter().enumerate() {
        if interrupt.check().is_err() {
            note();
        }
        let taken = tokio::select! {
            biased;
            outcome = run_step(ctx, &prepared, step, appid.as_deref(), result.settled()) => outcome,
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
                let rest = RowResult::unfinished(row.line, &row.identity, &row.steps[i..], &prepared.known.steps);
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
    let row = prepared.row;
    if let Some(plan) = &mut result.planned {
        plan.identity = row.identity;
    }
    // Moved, not copied.
    result.cells = row.cells;
    Ok(result)
}

/// One step of a row (DESIGN §4): left as the ledger has it while the run is stopping or
/// when the step is not due, waiting while the row's mini-program does not exist, and
/// otherwise taken up — live state read and decided ([`attempt`]) and, when applying, acted
/// on and recorded ([`save`]).
async fn run_step(
    ctx: &RunCtx,
    prepared: &Prepared,
    step: &Step,
    appid: Option<&str>,
    earlier_settled: bool,
) -> Result<StepOutcome, StepError> {
    let row = &prepared.row;
    let known = prepared.record(step.kind).filter(|r| r.input_hash == step.input_hash);
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
    let due = due(known, step, ctx.cfg.retry_failed, ctx.now, prepared.known.stored_at);
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
