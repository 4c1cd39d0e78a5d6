//! `wxprov ledger vacuum [JOB]`: upkeep of the ledger file (DESIGN §1). Runs prune the event
//! log as they end, but SQLite keeps the pages they free; this prunes it to
//! `keep_events_days` and compacts the file, for ops staff to run from cron now and then
//! (or when the disk fills), between runs.

use std::path::PathBuf;

use super::Context;
use crate::exit::{fail, Exit};
use crate::ledger::{self, RunLock};

/// Upkeep of the ledger file
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Prune the event log to `keep_events_days` (the job file's, else 180) and compact the
    /// ledger file, giving the space freed back to the file system; prints the file's size
    /// before and after. Waits for no run: one holding the ledger makes it exit 5
    Vacuum {
        /// The job file (or manifest) whose ledger and `keep_events_days` to use
        job: Option<PathBuf>,
        #[command(flatten)]
        ledger: super::LedgerOpt,
        #[command(flatten)]
        log: super::LogOpts,
    },
}

impl Args {
    /// The common options the action was given.
    pub(super) fn common(&self) -> (&super::LedgerOpt, &super::LogOpts) {
        match &self.action {
            Action::Vacuum { ledger, log, .. } => (ledger, log),
        }
    }
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    match args.action {
        Action::Vacuum { job, .. } => vacuum(job, ctx).await,
    }
}

async fn vacuum(job: Option<PathBuf>, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = job.as_deref().map(|j| ctx.load_job(j)).transpose()?;
    let settings = ctx.settings(job.as_ref())?.clone();
    let before = ledger::size_on_disk(&settings.ledger);
    // Never creates a ledger (or its lock file) that is not there.
    let opened = ctx.existing_ledger(job.as_ref())?;
    let _lock = RunLock::acquire(&settings.ledger)?;
    let keep_days = settings.keep_events_days.value;
    let pruned = opened.prune_events(keep_days, ledger::now_millis()).await?;
    drop(opened);
    let path = settings.ledger.clone();
    let after = tokio::task::spawn_blocking(move || ledger::compact(&path))
        .await
        .map_err(|e| fail(format!("the compaction stopped: {e}")))??;
    let report = format!(
        "ledger: {}\nevents pruned: {pruned} (older than {keep_days} days)\nsize before: {before} bytes\nsize after: \
         {after} bytes\n",
        settings.ledger.display(),
    );
    print!("{}", super::rehearsal::mark_lines(&report));
    Ok(Exit::Ok)
}
