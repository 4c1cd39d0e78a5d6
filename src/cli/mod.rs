//! The command line: common options, one file per subcommand (each with its own usage text,
//! argument struct and `run`), logging, and the exit code.

mod categories;
mod check;
mod context;
pub mod explain;
mod links;
mod manifest_args;
mod plan;
mod quota;
mod rehearsal;
mod run;
mod serve;
mod sim;
mod status;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use context::Context;

use crate::exit::{exit_of, Exit};

/// Bulk provisioning of WeChat mini-programs for Open Platform third-party platforms.
///
/// Secrets come from the environment only: WXPROV_COMPONENT_APPID, WXPROV_COMPONENT_SECRET
/// (or WXPROV_COMPONENT_SECRET_FILE), WXPROV_COMPONENT_VERIFY_TICKET (a fallback: the ticket
/// `serve` stored wins while it is younger than 12 hours, a ticket's life), WXPROV_TOKEN,
/// WXPROV_ENCODING_AES_KEY, WXPROV_TOKEN_COMMAND. With --api-base sim (a rehearsal) none of
/// them is read.
#[derive(Debug, Parser)]
#[command(name = "wxprov", version, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOpts {
    /// The SQLite ledger [default: wxprov.db, or the job file's `ledger`]
    #[arg(long, global = true, env = "WXPROV_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// WeChat API base URL; `sim` starts the built-in simulator in-process
    /// [default: https://api.weixin.qq.com, or the job file's `api_base`]
    #[arg(long, global = true, env = "WXPROV_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// Where run reports go [default: reports, or the job file's `report_dir`]
    #[arg(long, global = true, env = "WXPROV_REPORT_DIR", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// How many rows (or calls) are worked on at once
    #[arg(long, global = true, env = "WXPROV_CONCURRENCY", value_name = "N")]
    pub concurrency: Option<usize>,
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log line format
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "WXPROV_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(run::Args),
    Plan(plan::Args),
    Check(check::Args),
    Status(status::Args),
    Links(links::Args),
    Serve(serve::Args),
    Tokens(tokens::Args),
    Categories(categories::Args),
    Quota(quota::Args),
    Explain(explain::Args),
    Sim(sim::Args),
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { Exit::Ok.code() });
        }
    };
    init_logging(&cli.global);
    let exit = match run(cli) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("{}error: {}", rehearsal::prefix(), crate::secret::redact(&format!("{err:#}")));
            if let Some(hint) =
                err.chain().find_map(|c| c.downcast_ref::<crate::wechat::ApiError>()).and_then(|e| e.hint())
            {
                eprintln!("{}hint: {hint}", rehearsal::prefix());
            }
            exit_of(&err)
        }
    };
    ExitCode::from(exit.code())
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    if let Command::Explain(args) = &cli.command {
        return explain::run(args);
    }
    // The servers use every core; the client commands spend their time waiting on WeChat,
    // and one thread does that with less overhead per call (no wake-ups across threads).
    let runtime = match cli.command {
        Command::Serve(_) | Command::Sim(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
    };
    runtime.block_on(async move {
        let mut ctx = Context::new(cli.global)?;
        let exit = match cli.command {
            Command::Run(args) => run::run(args, &mut ctx).await,
            Command::Plan(args) => plan::run(args, &mut ctx).await,
            Command::Check(args) => check::run(args, &mut ctx).await,
            Command::Status(args) => status::run(args, &mut ctx).await,
            Command::Links(args) => links::run(args, &mut ctx).await,
            Command::Serve(args) => serve::run(args, &mut ctx).await,
            Command::Tokens(args) => tokens::run(args, &mut ctx).await,
            Command::Categories(args) => categories::run(args, &mut ctx).await,
            Command::Quota(args) => quota::run(args, &mut ctx).await,
            Command::Sim(args) => sim::run(args).await,
            Command::Explain(_) => unreachable!("handled above"),
        };
        ctx.shutdown().await;
        exit
    })
}

fn init_logging(global: &GlobalOpts) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WXPROV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("wxprov={level},warn")));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::runner::progress::LogWriter)
        .with_ansi(ansi);
    // In a rehearsal every line says so (see `rehearsal`).
    let _ = match global.log_format {
        LogFormat::Text => {
            let format = tracing_subscriber::fmt::format().with_target(false).with_ansi(ansi);
            builder.event_format(rehearsal::MarkedFormat { inner: format, json: false }).try_init()
        }
        LogFormat::Json => {
            let format = tracing_subscriber::fmt::format().with_target(false).json();
            builder.json().event_format(rehearsal::MarkedFormat { inner: format, json: true }).try_init()
        }
    };
}
