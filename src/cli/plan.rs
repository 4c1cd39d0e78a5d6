//! `wxprov plan JOB`: what `run` would do, row by row and step by step, from the ledger and
//! live state read with read-only calls. It changes nothing at WeChat and no step state;
//! ops staff read it before a big run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;

use super::manifest_args::{self, ManifestArgs};
use super::plan_golive::{self, GoLiveInfo};
use super::Context;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::lifecycle::StepState;
use crate::runner::{self, Mode, RowResult, RunConfig};
use crate::wechat::CallOptions;
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
    let mut rows: Vec<RowResult> = Vec::new();
    let result = runner::run(api.clone(), ledger, Mode::Plan, cfg, sheet, &Interrupt::new(), &mut rows).await?;
    rows.sort_by_key(|r| r.line);
    let golive = plan_golive::read(&api, &rows, concurrency).await?;
    let planned = lines(&rows);
    match args.format {
        Format::Table => {
            let mut out = table(&planned);
            if let Some(golive) = &golive {
                out.push_str(&golive.section());
            }
            print!("{}", super::rehearsal::mark_lines(&out));
        }
        Format::Csv => csv_out(&with_info(planned, golive.as_ref()))?,
        Format::Json => println!("{}", serde_json::to_string_pretty(&with_info(planned, golive.as_ref()))?),
    }
    // The code `run` would exit with on this sheet now (DESIGN §6).
    Ok(result.exit)
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
    step: &'static str,
    action: &'static str,
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
    fn new(
        line: Option<u64>,
        identity: &'a str,
        step: &'static str,
        action: &'static str,
        detail: Cow<'a, str>,
    ) -> Self {
        Line { line, identity, step, action, detail, icp_status: None, needed: None, rest: None, limit: None }
    }
}

/// The step lines, then the go-live information as `info` lines: each go-live row's filing,
/// then the sheet's audit quota.
fn with_info<'a>(mut lines: Vec<Line<'a>>, golive: Option<&'a GoLiveInfo>) -> Vec<Line<'a>> {
    let Some(golive) = golive else { return lines };
    for row in &golive.icp {
        lines.push(Line {
            icp_status: row.filing.status(),
            ..Line::new(Some(row.line), &row.identity, "icp", "info", row.filing.detail().into())
        });
    }
    let quota = golive.quota.as_ref().ok();
    lines.push(Line {
        needed: Some(golive.needed),
        rest: quota.map(|q| q.rest),
        limit: quota.map(|q| q.limit),
        ..Line::new(None, "", "audit_quota", "info", golive.quota_sentence().into())
    });
    lines
}

/// The plan's lines, row by row in line order, a row's steps in run order.
fn lines(rows: &[RowResult]) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    for row in rows {
        if row.invalid {
            lines.push(Line::new(Some(row.line), "", "row", "fail", Cow::Borrowed(&row.message)));
        }
        let Some(plan) = &row.planned else { continue };
        for step in &plan.steps {
            lines.push(Line::new(
                Some(row.line),
                &plan.identity,
                step.kind.as_str(),
                action(step.outcome.state),
                Cow::Borrowed(step.outcome.message.as_deref().unwrap_or_default()),
            ));
        }
    }
    lines
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

fn counts<'a>(planned: &[Line<'a>]) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for p in planned {
        *counts.entry(p.action).or_default() += 1;
    }
    counts
}

fn table(planned: &[Line<'_>]) -> String {
    let mut out = format!("{:>5}  {:<20} {:<13} {:<7} {}\n", "line", "row", "step", "action", "detail");
    for p in planned {
        let line = p.line.map(|l| l.to_string()).unwrap_or_default();
        out.push_str(&format!("{line:>5}  {:<20} {:<13} {:<7} {}\n", p.identity, p.step, p.action, p.detail));
    }
    let total: Vec<String> = counts(planned).into_iter().map(|(a, n)| format!("{a} {n}")).collect();
    out.push_str(&format!("\n{}\n", total.join(", ")));
    out
}

fn csv_out(planned: &[Line<'_>]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut w = csv::Writer::from_writer(stdout.lock());
    w.write_record(["line", "row", "step", "action", "detail"])?;
    for p in planned {
        let line = p.line.map(|l| l.to_string()).unwrap_or_default();
        w.write_record([line.as_str(), p.identity, p.step, p.action, &p.detail])?;
    }
    w.flush()?;
    Ok(())
}
