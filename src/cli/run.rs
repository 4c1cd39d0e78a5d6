//! `wxprov run JOB`: the main job. Brings every row of the manifest as far as WeChat allows,
//! records every step in the ledger, writes the reports, and exits with a code cron can act
//! on (DESIGN §6). Run it again and it continues where this run stopped.

use std::path::PathBuf;
use std::sync::Arc;

use super::manifest_args::{self, ManifestArgs};
use super::Context;
use crate::exit::{exit_of, fail, Exit};
use crate::interrupt::Interrupt;
use crate::ledger::{RunEnd, RunLock, RunStatus};
use crate::report::{self, failed::FeedBack, Reports, Summary};
use crate::runner::{self, RunConfig};
use crate::wechat::CallOptions;
use wechat_open::pacing::Pacer;
use wechat_open::secret::redact;

/// Apply a job: a job file (.toml) or a manifest (.csv, .xlsx)
///
/// Exit codes: 0 nothing needs a person now; 1 the run could not proceed; 2 usage; 3 some
/// rows need a person (see failed.csv); 4 some rows were deferred; 5 another run holds the
/// ledger; 130 / 143 interrupted by SIGINT / SIGTERM (calls in flight let finish for at most
/// 10 s, the reports written and marked interrupted).
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file or manifest
    job: PathBuf,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// Run failed steps again even though their input has not changed
    #[arg(long)]
    retry_failed: bool,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub report: super::ReportOpt,
    #[command(flatten)]
    pub concurrency: super::ConcurrencyOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = ctx.load_job(&args.job)?;
    let settings = ctx.settings(Some(&job))?.clone();
    let manifest = manifest_args::open(&settings)?;
    report::ensure_writable(&settings.report_dir)
        .map_err(|e| fail(format!("{e}; fix it, or give another with --report-dir or the job file's `report_dir`")))?;
    let _lock = RunLock::acquire(&settings.ledger)?;
    let ledger = ctx.open_ledger(Some(&job))?;
    let started_at = chrono::Utc::now();
    let run_id = report::new_run_id(started_at);
    let interrupt = Interrupt::new();
    let options = CallOptions {
        pacer: Some(Arc::new(Pacer::new(&settings.limits))),
        max_attempts: settings.max_attempts.value,
        interrupt: Some(interrupt.clone()),
        ..CallOptions::default()
    };
    let api = Arc::new(ctx.api(Some(&job), &ledger, Some(run_id.clone()), options).await?);
    // A run stops at the ledger's first storage failure: a call it made after could not be
    // remembered, and the next run would spend its quota again.
    let calls = api.calls.clone();
    ledger.halt_at_first_failure(move |failure| calls.stop(failure.to_string()));
    // An error met once the ledger has halted is the ledger's failure, whatever it says.
    let halted = |e: anyhow::Error| match ledger.failure() {
        Some(failure) => runner::ledger_failed(&failure),
        None => e,
    };
    let cfg = RunConfig {
        manifest: settings.manifest.clone(),
        max_rows: settings.max_rows,
        concurrency: settings.concurrency.value,
        retry_failed: args.retry_failed,
    };
    let sheet = runner::Sheet::open(&api, &ledger, manifest, &cfg).await.map_err(halted)?;
    // From here a signal no longer ends the process at once: the run stops starting calls
    // and writes its reports (DESIGN §6). Before, nothing has been changed anywhere.
    interrupt.listen().map_err(|e| fail(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
    ledger.begin_run(&run_id, "run", &args.job.display().to_string()).await.map_err(|e| halted(e.into()))?;
    tracing::info!("run {run_id}: {} rows", sheet.rows());
    let work = async {
        let mode = runner::Mode::Apply { run_id: run_id.clone() };
        let mut reports = Reports::create(&settings.report_dir, &run_id, &cfg.manifest, sheet.header())?;
        let result = runner::run(api.clone(), ledger.clone(), mode, cfg, sheet, &interrupt, &mut reports).await?;
        if result.tally.invalid > 0 {
            tracing::info!("{} of {} rows are invalid (see failed.csv)", result.tally.invalid, result.tally.rows);
        }
        let summary = Summary {
            run_id: run_id.clone(),
            started_at: wechat_open::beijing::rfc3339(started_at),
            finished_at: wechat_open::beijing::rfc3339(chrono::Utc::now()),
            rows: result.tally.rows,
            steps: result.tally.step_counts().into_iter().map(|(s, n)| (s.as_str(), n)).collect(),
            calls: api.calls.per_api(),
            exit_code: result.exit.code(),
            rehearsal: settings.rehearsal(),
            interrupted: interrupt.signal().is_some(),
            stopped: result.stopped.clone(),
            audit_quota: api.audit_pool.summary(),
        };
        // failed.toml names the job's own ledger and report folder, and a rehearsal's says
        // `sim`, so that feeding it back rehearses again with the same rehearsal files.
        let feed = FeedBack {
            job: &job,
            ledger: &settings.real_ledger.value,
            report_dir: &settings.real_report_dir.value,
            api_base: Some(settings.api_base.value.as_str()),
            ignore_columns: &settings.read.ignore_columns,
        };
        let dir = reports.finish(&summary, &feed)?;
        anyhow::Ok((result, dir))
    };
    let (result, dir) = match work.await {
        Ok(done) => done,
        // Nothing more can be written: the run stays `running` in the ledger, and `status`
        // shows it ended without finishing.
        Err(e) if ledger.failure().is_some() => return Err(halted(e)),
        Err(e) => {
            let end = RunEnd {
                status: RunStatus::Failed,
                reason: Some(redact(&format!("{e:#}"))),
                rows: 0,
                rows_finished: 0,
                rows_finished_now: 0,
                steps: Default::default(),
                calls: api.calls.total(),
                exit_code: exit_of(&e).code(),
            };
            if let Err(recording) = ledger.end_run(&run_id, end).await {
                tracing::warn!("could not record in the ledger how run {run_id} ended: {recording}");
            }
            return Err(e);
        }
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    let calls = api.calls.total();
    let (rows, unfinished) = (result.tally.rows, result.tally.unfinished);
    let interrupted = interrupt
        .signal()
        .map(|signal| format!("{}: stopped with {unfinished} of {rows} rows not finished", signal.name()));
    // A run a `stop`-class error ended could not proceed: `status` shows it failed, and why.
    let (status, reason) = match (&result.stopped, &interrupted) {
        (Some(stopped), _) => (RunStatus::Failed, Some(stopped.clone())),
        (None, Some(interrupted)) => (RunStatus::Interrupted, Some(interrupted.clone())),
        (None, None) => (RunStatus::Finished, None),
    };
    let steps = result.tally.step_counts().into_iter().map(|(s, n)| (s.as_str(), n)).collect();
    let end = RunEnd {
        status,
        reason,
        rows,
        rows_finished: result.tally.finished,
        rows_finished_now: result.tally.finished_now,
        steps,
        calls,
        exit_code: result.exit.code(),
    };
    ledger.end_run(&run_id, end).await.map_err(|e| halted(e.into()))?;
    prune_events(&ledger, settings.keep_events_days.value).await;
    let done = match interrupted {
        Some(reason) => format!(
            "run {run_id} was interrupted — {reason}; {calls} API calls; reports in {}; the next run \
             continues\n",
            dir.display()
        ),
        None => format!("run {run_id}: {rows} rows, {calls} API calls; reports in {}\n", dir.display()),
    };
    let quota = api.audit_pool.summary().map(|q| q.line()).unwrap_or_default();
    print!("{}", super::rehearsal::mark_lines(&(report::table(&result) + &quota + &done)));
    // One sentence on stderr, exit 1 (DESIGN §5): the reports above say the same.
    if let Some(reason) = result.stopped {
        return Err(crate::exit::fail(reason));
    }
    Ok(result.exit)
}

/// Prunes the event log to `keep_events_days` once the run is over (DESIGN §2); the space is
/// reused by the next runs, and `wxprov ledger vacuum` gives it back to the file system. A
/// failure is a warning: the run's work is recorded, and the next run prunes again.
async fn prune_events(ledger: &crate::ledger::Ledger, keep_days: u32) {
    match ledger.prune_events(keep_days, crate::ledger::now_millis()).await {
        Ok(0) => {}
        Ok(n) => {
            let events = if n == 1 { "event" } else { "events" };
            tracing::info!("pruned {n} {events} older than {keep_days} days from the event log");
        }
        Err(e) => tracing::warn!("could not prune the event log to {keep_days} days: {e}"),
    }
}
