//! `wxprov status`: the ledger at a glance — steps per state, the audits in review, the
//! deferred rows and when they may go, the blocked steps and what would unblock them, the
//! steps that need a person, and the recent runs.

use std::collections::BTreeMap;

use super::Context;
use crate::exit::Exit;
use crate::ledger::{RunLock, RunRecord, RunStatus, StepState, WaitingStep};

/// Show the ledger at a glance
///
/// Reads the job's ledger (its `ledger =`) when given a job, else --ledger / WXPROV_LEDGER /
/// wxprov.db; a ledger that does not exist is an error (exit 1), never created.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file (or manifest) whose ledger to show
    job: Option<std::path::PathBuf>,
    /// How many steps to list per group
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = args.job.as_deref().map(|j| ctx.load_job(j)).transpose()?;
    let ledger = ctx.existing_ledger(job.as_ref())?;
    println!("ledger {} — {} rows", ledger.path().display(), ledger.row_count().await?);

    let mut table: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (kind, state, n) in ledger.step_counts().await? {
        table.entry(kind).or_default().insert(state, n);
    }
    print!("\n{:<13}", "step");
    for state in StepState::ALL {
        print!("{:>10}", state.as_str());
    }
    println!();
    for kind in crate::manifest::StepKind::ALL {
        let Some(counts) = table.get(kind.as_str()) else { continue };
        print!("{:<13}", kind.as_str());
        for state in StepState::ALL {
            print!("{:>10}", counts.get(state.as_str()).copied().unwrap_or(0));
        }
        println!();
    }

    let groups = [
        (StepState::InReview, "in WeChat's audit"),
        (StepState::Deferred, "deferred (may go again at)"),
        (StepState::Waiting, "waiting for a merchant's scan"),
        (StepState::Blocked, "blocked (waiting for something outside the sheet; no sheet change needed)"),
        (StepState::Failed, "needing a person"),
    ];
    for (state, title) in groups {
        let steps = ledger.steps_in(state.as_str(), args.limit).await?;
        if steps.is_empty() {
            continue;
        }
        println!("\n{title}:");
        for step in &steps {
            println!("  {}", line(step));
            if let Some(hint) = step.hint.as_ref().filter(|_| state == StepState::Blocked) {
                println!("      to fix: {hint}");
            }
        }
    }

    let runs = ledger.recent_runs(5).await?;
    if !runs.is_empty() {
        println!("\nrecent runs:");
        // Only the newest run can still be going: a later one took the lock it held.
        let newest_alive = RunLock::is_held(ledger.path());
        for (i, run) in runs.iter().enumerate() {
            println!("  {}", run_line(run, i == 0 && newest_alive));
        }
    }
    Ok(Exit::Ok)
}

/// One run: its id, how it ended (and why), when, its rows, calls and exit code. A run the
/// ledger still has as running whose process holds no lock ended without finishing (killed,
/// or the machine went down): its reports were not written.
fn run_line(run: &RunRecord, alive: bool) -> String {
    let status = match run.status {
        RunStatus::Running if !alive => "ended without finishing",
        status => status.as_str(),
    };
    let mut text = format!("{}  {}  {status}  started {}", run.id, run.command, time(Some(run.started_at)));
    if run.status != RunStatus::Running {
        text.push_str(&format!(
            "  ended {}  rows {}  calls {}  exit {}",
            time(run.finished_at),
            run.rows.unwrap_or_default(),
            run.calls.unwrap_or_default(),
            run.exit_code.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
        ));
    }
    if let Some(reason) = &run.reason {
        text.push_str(&format!("  — {reason}"));
    }
    text
}

fn line(step: &WaitingStep) -> String {
    let who = step.appid.clone().unwrap_or_else(|| step.identity.clone());
    let mut text = format!("{who:<20} {:<13}", step.kind);
    if let Some(at) = step.not_before {
        text.push_str(&format!(" {}", time(Some(at))));
    }
    if let Some(id) = step.audit_id {
        text.push_str(&format!(" audit {id}"));
    }
    if let Some(message) = &step.message {
        text.push_str(&format!("  {message}"));
    }
    text
}

/// A Unix time in Beijing time, as ops staff read it, saying so.
pub(super) fn time(secs: Option<i64>) -> String {
    wechat_open::beijing::show(secs)
}
