//! The command line: common options, one file per subcommand (each with its own usage text,
//! argument struct and `run`), logging, and the exit code.

mod categories;
mod check;
mod context;
pub mod explain;
mod ledger;
mod links;
mod manifest_args;
mod plan;
mod plan_golive;
mod quota;
mod rehearsal;
mod run;
mod serve;
mod settings;
mod sim;
mod status;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub use context::Context;
use settings::{Given, Source, Sourced};

use crate::exit::{exit_of, Exit};
use crate::wechat::Hint;

/// Bulk provisioning of WeChat mini-programs for Open Platform third-party platforms.
///
/// Secrets come from the environment only: WXPROV_COMPONENT_APPID, WXPROV_COMPONENT_SECRET
/// (or WXPROV_COMPONENT_SECRET_FILE), WXPROV_COMPONENT_VERIFY_TICKET (a fallback: the ticket
/// `serve` stored wins while it is younger than 12 hours, a ticket's life), WXPROV_TOKEN,
/// WXPROV_ENCODING_AES_KEY, WXPROV_TOKEN_COMMAND. With --api-base sim (a rehearsal) none of
/// them is read. `wxprov COMMAND --help` lists the options that command takes.
#[derive(Debug, Parser)]
#[command(name = "wxprov", version, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    before: Before,
    #[command(subcommand)]
    command: Command,
}

/// The common options given before the command (`wxprov --ledger PATH tokens recover`), as
/// command lines written when every option was global have them: accepted, not listed (each
/// command lists its own). The command's own option wins.
#[derive(Debug, Clone, clap::Args)]
struct Before {
    #[arg(long, hide = true)]
    ledger: Option<PathBuf>,
    #[arg(long, hide = true)]
    api_base: Option<String>,
    #[arg(long, hide = true)]
    report_dir: Option<PathBuf>,
    #[arg(long, hide = true)]
    concurrency: Option<usize>,
    #[arg(short, long, hide = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[arg(short, long, hide = true)]
    quiet: bool,
    #[arg(long, hide = true, value_enum)]
    log_format: Option<LogFormat>,
}

/// `--ledger` and `--api-base`: for every command that reads or writes the ledger — which
/// ledger it is follows from both (a rehearsal, `--api-base sim`, has its own).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LedgerOpt {
    /// The SQLite ledger [default: wxprov.db, or the job file's `ledger`]
    #[arg(long, env = "WXPROV_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// WeChat API base URL; `sim` starts the built-in simulator in-process (a rehearsal, with
    /// a ledger of its own) [default: https://api.weixin.qq.com, or the job file's `api_base`]
    #[arg(long, env = "WXPROV_API_BASE", value_name = "URL")]
    #[allow(rustdoc::bare_urls)] // clap's help text, where a bare URL is what ops staff read
    pub api_base: Option<String>,
}

/// `--report-dir`: for the commands that write or check the reports.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportOpt {
    /// Where run reports go [default: reports, or the job file's `report_dir`]
    #[arg(long, env = "WXPROV_REPORT_DIR", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

/// `--report-dir` accepted and not listed, by a command that writes no report (`plan`), so
/// that a command line written for `run` works there too.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UnusedReportOpt {
    #[arg(long, hide = true, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

/// `--concurrency`: for the commands that work on many rows.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConcurrencyOpt {
    /// How many rows (or calls) are worked on at once
    #[arg(long, env = "WXPROV_CONCURRENCY", value_name = "N")]
    pub concurrency: Option<usize>,
}

/// The logging options: for every command that logs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LogOpts {
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long)]
    pub quiet: bool,
    /// Log line format [default: text]
    #[arg(long, value_enum, env = "WXPROV_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

/// The common options a command was given, merged from its own and those before it.
#[derive(Debug, Clone, Default)]
pub struct GlobalOpts {
    /// What the settings are resolved from (with the job file): each value with its flag or
    /// environment variable.
    pub(super) given: Given,
    pub verbose: u8,
    pub quiet: bool,
    pub log_format: LogFormat,
}

/// The common options of one command: each `None` where the command does not take it.
#[derive(Default)]
struct Taken<'a> {
    ledger: Option<&'a LedgerOpt>,
    report_dir: Option<PathBuf>,
    concurrency: Option<usize>,
    manifest: Option<&'a manifest_args::ManifestArgs>,
    log: Option<&'a LogOpts>,
    status_listen: Option<String>,
}

impl GlobalOpts {
    /// `matches` says, for each value, whether its flag or its environment variable gave it.
    fn merge(before: &Before, taken: Taken<'_>, matches: &ArgMatches) -> GlobalOpts {
        let log = taken.log.cloned().unwrap_or_default();
        fn sourced<T>(
            value: Option<T>,
            m: &ArgMatches,
            id: &str,
            flag: &'static str,
            env: &'static str,
        ) -> Option<Sourced<T>> {
            value.map(|v| Sourced::new(v, source(m, id, flag, env)))
        }
        let given = Given {
            ledger: sourced(
                taken.ledger.and_then(|o| o.ledger.clone()).or_else(|| before.ledger.clone()),
                matches,
                "ledger",
                "--ledger",
                "WXPROV_LEDGER",
            ),
            api_base: sourced(
                taken.ledger.and_then(|o| o.api_base.clone()).or_else(|| before.api_base.clone()),
                matches,
                "api_base",
                "--api-base",
                "WXPROV_API_BASE",
            ),
            report_dir: sourced(
                taken.report_dir.or_else(|| before.report_dir.clone()),
                matches,
                "report_dir",
                "--report-dir",
                "WXPROV_REPORT_DIR",
            ),
            concurrency: sourced(
                taken.concurrency.or(before.concurrency),
                matches,
                "concurrency",
                "--concurrency",
                "WXPROV_CONCURRENCY",
            ),
            encoding: taken.manifest.and_then(|m| m.encoding),
            sheet: taken.manifest.and_then(|m| m.sheet.clone()),
            ignore_columns: taken.manifest.map(|m| m.ignore_columns.clone()).unwrap_or_default(),
            max_rows: taken.manifest.and_then(|m| m.max_rows),
            status_listen: sourced(
                taken.status_listen,
                matches,
                "status_listen",
                "--status-listen",
                "WXPROV_STATUS_LISTEN",
            ),
        };
        GlobalOpts {
            given,
            verbose: log.verbose.max(before.verbose),
            quiet: log.quiet || before.quiet,
            log_format: log.log_format.or(before.log_format).unwrap_or(LogFormat::Text),
        }
    }
}

/// Where the value of the option `id` came from: its flag (`flag`) or its environment
/// variable (`env`), as clap read it — at the deepest command that has it, whose own option
/// wins (see [`GlobalOpts::merge`]).
fn source(matches: &ArgMatches, id: &str, flag: &'static str, env: &'static str) -> Source {
    let mut levels = vec![matches];
    while let Some((_, sub)) = levels[levels.len() - 1].subcommand() {
        levels.push(sub);
    }
    for level in levels.iter().rev() {
        if level.ids().any(|i| i.as_str() == id) {
            match level.value_source(id) {
                Some(ValueSource::EnvVariable) => return Source::Env(env),
                Some(ValueSource::CommandLine) => return Source::Flag(flag),
                _ => {}
            }
        }
    }
    Source::Flag(flag)
}

impl Command {
    /// The common options this command takes, as given.
    fn taken(&self) -> Taken<'_> {
        let common = |ledger, log| Taken { ledger: Some(ledger), log: Some(log), ..Taken::default() };
        match self {
            Command::Run(a) => Taken {
                report_dir: a.report.report_dir.clone(),
                concurrency: a.concurrency.concurrency,
                manifest: Some(&a.manifest),
                ..common(&a.ledger, &a.log)
            },
            Command::Plan(a) => Taken {
                report_dir: a.report.report_dir.clone(),
                concurrency: a.concurrency.concurrency,
                manifest: Some(&a.manifest),
                ..common(&a.ledger, &a.log)
            },
            Command::Check(a) => Taken {
                report_dir: a.report.report_dir.clone(),
                manifest: Some(&a.manifest),
                ..common(&a.ledger, &a.log)
            },
            Command::Status(a) => common(&a.ledger, &a.log),
            Command::Links(a) => Taken { manifest: Some(&a.manifest), ..common(&a.ledger, &a.log) },
            Command::Serve(a) => Taken { status_listen: a.status_listen.clone(), ..common(&a.ledger, &a.log) },
            Command::Tokens(a) => {
                let (ledger, log) = a.common();
                common(ledger, log)
            }
            Command::Ledger(a) => {
                let (ledger, log) = a.common();
                common(ledger, log)
            }
            Command::Categories(a) => common(&a.ledger, &a.log),
            Command::Quota(a) => common(&a.ledger, &a.log),
            Command::Sim(a) => Taken { log: Some(&a.log), ..Taken::default() },
            Command::Explain(_) => Taken::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(run::Args),
    Plan(plan::Args),
    Check(check::Args),
    Status(status::Args),
    Ledger(ledger::Args),
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
    let parsed = Cli::command().try_get_matches().and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { Exit::Ok.code() });
        }
    };
    let global = GlobalOpts::merge(&cli.before, cli.command.taken(), &matches);
    init_logging(&global);
    let exit = match run(cli.command, global) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("{}error: {}", rehearsal::prefix(), wechat_open::secret::redact(&format!("{err:#}")));
            if let Some(hint) =
                err.chain().find_map(|c| c.downcast_ref::<wechat_open::ApiError>()).and_then(|e| e.hint())
            {
                eprintln!("{}hint: {hint}", rehearsal::prefix());
            }
            exit_of(&err)
        }
    };
    ExitCode::from(exit.code())
}

fn run(command: Command, global: GlobalOpts) -> anyhow::Result<Exit> {
    if let Command::Explain(args) = &command {
        return explain::run(args);
    }
    // The servers use every core; the client commands spend their time waiting on WeChat,
    // and one thread does that with less overhead per call (no wake-ups across threads).
    let runtime = match command {
        Command::Serve(_) | Command::Sim(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
    };
    runtime.block_on(async move {
        let mut ctx = Context::new(global)?;
        let exit = match command {
            Command::Run(args) => run::run(args, &mut ctx).await,
            Command::Plan(args) => plan::run(args, &mut ctx).await,
            Command::Check(args) => check::run(args, &mut ctx).await,
            Command::Status(args) => status::run(args, &mut ctx).await,
            Command::Ledger(args) => ledger::run(args, &mut ctx).await,
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
