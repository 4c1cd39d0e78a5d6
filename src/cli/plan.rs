//! `wxprov plan JOB`: what `run` would do, row by row and step by step, from the ledger and
//! live state read with read-only calls. It changes nothing at WeChat and no step state;
//! ops staff read it before a big run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;

use super::manifest_args::{self, ManifestArgs};
use super::Context;
use crate::exit::Exit;
use crate::runner::plan::{plan, Planned};
use crate::runner::{self, RunConfig};
use crate::wechat::CallOptions;
use wechat_open::pacing::Pacer;

/// Show what `run` would do, without doing it
///
/// For each row and step: set (a change to make), skip (already so), defer (a quota is
/// spent), fail (invalid, or WeChat would refuse), wait (for a merchant's scan), review (in
/// WeChat's audit). Reads live state with read-only calls only.
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
    let loaded = runner::load_manifest(&api, &manifest, &cfg).await?;
    let planned = plan(api, ledger, loaded, concurrency, args.retry_failed).await?;
    match args.format {
        Format::Table => print!("{}", super::rehearsal::mark_lines(&table(&planned))),
        Format::Csv => csv_out(&planned)?,
        Format::Json => println!("{}", serde_json::to_string_pretty(&planned)?),
    }
    // The code `run` would exit with on this sheet now (DESIGN §6).
    Ok(runner::exit_for_states(false, planned.iter().map(Planned::state)))
}

fn counts(planned: &[Planned]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for p in planned {
        *counts.entry(p.action()).or_default() += 1;
    }
    counts
}

fn table(planned: &[Planned]) -> String {
    let mut out = format!("{:>5}  {:<20} {:<13} {:<7} {}\n", "line", "row", "step", "action", "detail");
    for p in planned {
        out.push_str(&format!(
            "{:>5}  {:<20} {:<13} {:<7} {}\n",
            p.line,
            p.identity,
            p.step_name(),
            p.action(),
            p.detail()
        ));
    }
    let total: Vec<String> = counts(planned).into_iter().map(|(a, n)| format!("{a} {n}")).collect();
    out.push_str(&format!("\n{}\n", total.join(", ")));
    out
}

fn csv_out(planned: &[Planned]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut w = csv::Writer::from_writer(stdout.lock());
    w.write_record(["line", "row", "step", "action", "detail"])?;
    for p in planned {
        w.write_record([&p.line.to_string(), &p.identity, p.step_name(), p.action(), p.detail()])?;
    }
    w.flush()?;
    Ok(())
}
