//! `wxprov plan JOB`: what `run` would do, row by row and step by step, from the ledger and
//! live state read with read-only calls. It changes nothing at WeChat and no step state;
//! ops staff read it before a big run.
//!
//! It is `run`'s own pass over the rows ([`runner::run`] in [`Mode::Plan`]), so the rows
//! stream; their lines are put back in line order on disk ([`LineSpool`]) and printed from
//! there, so a plan of a million rows holds neither the rows nor their lines in memory.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;

use super::manifest_args::{self, ManifestArgs};
use super::plan_golive::{self, GoLiveInfo, GoLiveRows};
use super::Context;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::lifecycle::StepState;
use crate::report::LineSpool;
use crate::runner::{self, Mode, RowResult, RowSink, RunConfig};
use crate::wechat::{Api, CallOptions};
use wechat_open::pacing::Pacer;

/// Show what `run` would do, without doing it
///
/// For each row and step: set (a change to make), skip (already so), defer (a quota is
/// spent), fail (invalid, or WeChat would refuse), wait (for a merchant's scan), review (in
/// WeChat's audit). Reads live state with read-only calls only.
///
/// For a sheet with go-live rows it shows too how many audit submissions the sheet needs
/// against the platform's monthly quota (queryquota's rest), and each go-live row's ICP
/// filing status (get_icp_entrance_info): a section after the table, or `info` lines (steps
/// `audit_quota` and `icp`) in csv and json.
///
/// Exits with the code `run` would: 0 nothing would need a person; 2 usage; 3 some rows
/// would need a person (invalid, or a step WeChat would refuse); 4 some rows would be
/// deferred.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file or manifest
    job: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// Plan failed steps as if they were to run again
    #[arg(long)]
    retry_failed: bool,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub concurrency: super::ConcurrencyOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
    #[command(flatten)]
    pub report: super::UnusedReportOpt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = ctx.load_job(&args.job)?;
    let settings = ctx.settings(Some(&job))?.clone();
    let manifest = manifest_args::open(&settings)?;
    let ledger = ctx.ledger_or_empty(Some(&job))?;
    let options = CallOptions {
        pacer: Some(Arc::new(Pacer::new(&settings.limits))),
        max_attempts: settings.max_attempts.value,
        ..CallOptions::default()
    };
    let api = Arc::new(ctx.api(Some(&job), &ledger, None, options).await?);
    let concurrency = settings.concurrency.value;
    let cfg = RunConfig {
        manifest: settings.manifest.clone(),
        max_rows: settings.max_rows,
        concurrency,
        retry_failed: args.retry_failed,
    };
    let sheet = runner::Sheet::open(&api, &ledger, manifest, &cfg).await?;
    // `run`'s own loop, deciding only. Never listened to: a signal ends `plan` at once, as
    // it changes nothing. Its lines are the rows' in line order.
    let mut planned = Planned::new()?;
    let result = runner::run(api.clone(), ledger, Mode::Plan, cfg, sheet, &Interrupt::new(), &mut planned).await?;
    planned.finish()?;
    let golive = plan_golive::read(&api, &planned.golive).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout());
    match args.format {
        Format::Table => {
            let mut out = super::rehearsal::Marked::new(&mut out);
            table(&mut out, &planned)?;
            if let Some(golive) = &golive {
                out.write_all(golive.section_head().as_bytes())?;
                golive
                    .icp(&api, concurrency, |row| Ok(out.write_all(GoLiveInfo::section_row(&row).as_bytes())?))
                    .await?;
            }
            out.finish()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["line", "row", "step", "action", "detail"])?;
            let mut write = |p: &Line<'_>| -> anyhow::Result<()> {
                let line = p.line.map(|l| l.to_string()).unwrap_or_default();
                w.write_record([line.as_str(), p.identity, p.step, p.action, &p.detail])?;
                Ok(())
            };
            every_line(&planned, golive.as_ref(), &api, concurrency, &mut write).await?;
            w.flush()?;
        }
        Format::Json => {
            let mut ser = serde_json::Serializer::pretty(&mut out);
            let mut seq = serde::Serializer::serialize_seq(&mut ser, None)?;
            let mut write =
                |p: &Line<'_>| -> anyhow::Result<()> { Ok(serde::ser::SerializeSeq::serialize_element(&mut seq, p)?) };
            every_line(&planned, golive.as_ref(), &api, concurrency, &mut write).await?;
            serde::ser::SerializeSeq::end(seq)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    // The code `run` would exit with on this sheet now (DESIGN §6).
    Ok(result.exit)
}

/// What `plan` keeps of the rows as they are planned: each row's lines, put back in line
/// order from a temporary file ([`LineSpool`]), how many lines there are of each action, and
/// the go-live rows.
struct Planned {
    /// Each line a record: line, row (the identity), step, action, detail.
    lines: LineSpool,
    counts: BTreeMap<&'static str, usize>,
    golive: GoLiveRows,
}

impl Planned {
    fn new() -> anyhow::Result<Planned> {
        Ok(Planned { lines: LineSpool::temporary("plan")?, counts: BTreeMap::new(), golive: GoLiveRows::new()? })
    }

    /// Puts the lines in line order, from disk if need be.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.lines.finish()?;
        self.golive.finish()
    }

    /// The plan's lines, in line order, a row's steps in run order.
    fn lines(&self, mut each: impl FnMut(&Line<'_>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        for record in self.lines.records()?.records() {
            let record = record?;
            let field = |i| record.get(i).unwrap_or_default();
            each(&Line::new(field(0).parse().ok(), field(1), field(2), field(3), Cow::Borrowed(field(4))))?;
        }
        Ok(())
    }
}

impl RowSink for Planned {
    /// A row rejected by validation is one line (step `row`); a valid row has a line per
    /// step.
    fn take(&mut self, row: RowResult) -> anyhow::Result<()> {
        self.golive.take(&row)?;
        let at = row.line.to_string();
        let mut records = Vec::new();
        if row.invalid {
            records.push(("", "row", "fail", row.message.as_str()));
        }
        if let Some(plan) = &row.planned {
            for step in &plan.steps {
                let detail = step.outcome.message.as_deref().unwrap_or_default();
                records.push((plan.identity.as_str(), step.kind.as_str(), action(step.outcome.state), detail));
            }
        }
        let records = records
            .into_iter()
            .map(|(identity, step, action, detail)| {
                *self.counts.entry(action).or_default() += 1;
                vec![at.clone(), identity.to_string(), step.to_string(), action.to_string(), detail.to_string()]
            })
            .collect();
        self.lines.push(row.line, records)
    }
}

/// Every line of csv and json: the step lines, then the go-live information as `info`
/// lines — each go-live row's filing (read as the lines are written), then the sheet's audit
/// quota.
async fn every_line(
    planned: &Planned,
    golive: Option<&GoLiveInfo<'_>>,
    api: &Api,
    concurrency: usize,
    write: &mut dyn FnMut(&Line<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    planned.lines(&mut *write)?;
    let Some(golive) = golive else { return Ok(()) };
    golive
        .icp(api, concurrency, |row| {
            let detail = row.filing.detail();
            write(&Line {
                icp_status: row.filing.status(),
                ..Line::new(Some(row.line), &row.identity, "icp", "info", detail.into())
            })
        })
        .await?;
    let quota = golive.quota.as_ref().ok();
    write(&Line {
        needed: Some(golive.needed),
        rest: quota.map(|q| q.rest),
        limit: quota.map(|q| q.limit),
        ..Line::new(None, "", "audit_quota", "info", golive.quota_sentence().into())
    })
}

/// One line of the plan: a step of a row and what `run` would do about it, or a row
/// rejected by validation (step `row`); in csv and json also the go-live information, as
/// `info` lines: `icp` for a row (its filing status first in `detail`) and `audit_quota` for
/// the sheet (no line or row). `--format json` shows each as these fields, those that do not
/// apply left out.
#[derive(serde::Serialize)]
struct Line<'a> {
    line: Option<u64>,
    identity: &'a str,
    step: &'a str,
    action: &'a str,
    detail: Cow<'a, str>,
    /// `icp`: get_icp_entrance_info's status, when it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    icp_status: Option<i64>,
    /// `audit_quota`: the rows whose audit would submit.
    #[serde(skip_serializing_if = "Option::is_none")]
    needed: Option<usize>,
    /// `audit_quota`: queryquota's rest and limit, when it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    rest: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
}

impl<'a> Line<'a> {
    fn new(line: Option<u64>, identity: &'a str, step: &'a str, action: &'a str, detail: Cow<'a, str>) -> Self {
        Line { line, identity, step, action, detail, icp_status: None, needed: None, rest: None, limit: None }
    }
}

/// The word the plan shows for a step its decision leaves in `state`: `set` for a change to
/// make (pending until `run` makes it), `done` for one an earlier run's call made, `skip`
/// for one already so, else what the step waits for or why it cannot go on.
fn action(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "set",
        StepState::Done => "done",
        StepState::Skipped => "skip",
        StepState::Deferred => "defer",
        StepState::Failed => "fail",
        StepState::Blocked => "block",
        StepState::Waiting => "wait",
        StepState::InReview => "review",
    }
}

/// The table: a line per step (and per rejected row), then how many of each action.
fn table(out: &mut impl std::io::Write, planned: &Planned) -> anyhow::Result<()> {
    writeln!(out, "{:>5}  {:<20} {:<13} {:<7} detail", "line", "row", "step", "action")?;
    planned.lines(|p| {
        let line = p.line.map(|l| l.to_string()).unwrap_or_default();
        Ok(writeln!(out, "{line:>5}  {:<20} {:<13} {:<7} {}", p.identity, p.step, p.action, p.detail)?)
    })?;
    let total: Vec<String> = planned.counts.iter().map(|(a, n)| format!("{a} {n}")).collect();
    write!(out, "\n{}\n", total.join(", "))?;
    Ok(())
}
