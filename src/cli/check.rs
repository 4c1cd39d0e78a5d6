//! `wxprov check JOB`: the pre-flight (DESIGN §1). Before a big run, ops staff (or cron)
//! learn whether it could proceed — the platform's credentials and verify ticket, the IP
//! whitelist, the ledger and report folder, every row's refresh token, the permission sets
//! the sheet's steps need — one line per check, instead of finding out from blocked rows or a
//! run stopped at its first call.
//!
//! A check says `ok` only for what it checked: what it could not check (the IP whitelist
//! while a cached component token spares the call where WeChat checks it, say) is `skip`
//! with the reason, and is no failure. The cached component token is used as a run would use
//! it, never replaced by force; only when there is none (or it expired) is a new one asked
//! for, which is then how the secret and ticket are checked. The check never creates a
//! ledger (a missing one is read as empty, as `plan` does) nor the report folder; on an
//! existing ledger it keeps the component token it obtained, as a run would.
//!
//! The sheet streams by as it does for `run` (the same validation, [`runner::Verdicts`]):
//! what the lines say of it — the go-live rows, the problems of go-live cells, the accounts
//! the rows act on — is gathered on disk ([`Survey`]) and the accounts are looked up in the
//! ledger a batch at a time, so a check of a million rows holds neither the sheet nor the
//! ledger in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::manifest_args::{self, ManifestArgs};
use super::Context;
use crate::config::Secrets;
use crate::exit::Exit;
use crate::golive;
use crate::ledger::{now_secs, Ledger, RunLock, TicketKind};
use crate::manifest::{Row, StepKind, Validated};
use crate::report::spool::scratch;
use crate::runner::{self, RunConfig};
use crate::wechat::funcscope::{self, Holder};
use crate::wechat::hint::NO_REFRESH_TOKEN_HINT;
use crate::wechat::{Api, CallOptions, Hint};
use wechat_open::api::ApiGetAuthorizerList;
use wechat_open::secret::redact;
use wechat_open::tokens::VERIFY_TICKET_TTL_SECS;
use wechat_open::ApiError;

/// Check that a job could run: credentials, IP whitelist, ledger, reports, tokens, permissions
///
/// One line per check: `ok`, `FAIL` (with what to do on the line below) or `skip` (not
/// checked, and why). The cached component token is used, never replaced by force; when
/// there is none, getting one checks the app secret and the verify ticket.
///
/// Exit codes: 0 no check failed; 1 a check failed; 2 usage (bad flags, unreadable job or
/// manifest header).
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file or manifest
    job: PathBuf,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub report: super::ReportOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Fail,
    /// Not checked (the detail says why): neither a pass nor a failure.
    Skip,
}

/// One check's line, and what to do when it failed.
#[derive(Debug)]
struct Line {
    verdict: Verdict,
    what: &'static str,
    detail: Detail,
    fix: Option<String>,
}

/// What a line says after its name.
#[derive(Debug)]
enum Detail {
    Text(String),
    /// The go-live rows and the problems of go-live cells, as many as the sheet has: read
    /// from the [`Survey`] as the line is written ([`Survey::write_golive`]).
    GoLive,
}

impl Line {
    fn ok(what: &'static str, detail: impl Into<String>) -> Line {
        Line { verdict: Verdict::Ok, what, detail: Detail::Text(detail.into()), fix: None }
    }
    fn skip(what: &'static str, detail: impl Into<String>) -> Line {
        Line { verdict: Verdict::Skip, what, detail: Detail::Text(detail.into()), fix: None }
    }
    fn fail(what: &'static str, detail: impl Into<String>, fix: Option<String>) -> Line {
        Line { verdict: Verdict::Fail, what, detail: Detail::Text(detail.into()), fix }
    }

    /// Writes the line (and what to do, when it failed), secrets redacted.
    fn write(&self, out: &mut impl Write, survey: &Survey) -> anyhow::Result<()> {
        let word = match self.verdict {
            Verdict::Ok => "ok",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        write!(out, "{word:<4}  {}: ", self.what)?;
        match &self.detail {
            Detail::Text(text) => out.write_all(redact(text).as_bytes())?,
            Detail::GoLive => survey.write_golive(out)?,
        }
        out.write_all(b"\n")?;
        if let Some(fix) = &self.fix {
            writeln!(out, "      to fix: {}", redact(fix))?;
        }
        Ok(())
    }
}

const CREDENTIALS: &str = "component credentials";
const TICKET: &str = "verify ticket";
const WHITELIST: &str = "IP whitelist";
const LEDGER: &str = "ledger";
const REPORTS: &str = "report folder";
const SHEET: &str = "sheet";
const TOKENS: &str = "refresh tokens";
const PERMISSIONS: &str = "permission sets";
const GOLIVE: &str = "go-live";

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = ctx.load_job(&args.job)?;
    let settings = ctx.settings(Some(&job))?.clone();
    let manifest = manifest_args::open(&settings)?;
    let mut lines = Vec::new();

    let (ledger, ledger_line) = open_ledger(&settings.ledger)?;
    lines.push(ledger_line);
    lines.push(report_folder(&settings.report_dir));

    let secrets = settings.secrets.clone();
    let api = ctx.api(Some(&job), &ledger, None, CallOptions::default()).await?;
    // In a rehearsal the simulator's own ticket stands in for the environment's.
    let env_ticket = if settings.rehearsal() { "the simulator's own ticket" } else { "WXPROV_COMPONENT_VERIFY_TICKET" };
    lines.extend(component(&api, &ledger, &secrets, env_ticket).await?);

    let cfg = RunConfig {
        manifest: settings.manifest.clone(),
        max_rows: settings.max_rows,
        concurrency: 1,
        retry_failed: false,
    };
    let golive_asked = golive::requested(manifest.columns(), &settings.read.golive);
    // The rows stream by as they do for `run`, each as the sheet writes it.
    let sheet = runner::Sheet::open_as_written(&api, manifest, &cfg).await?;
    let survey = Survey::take(&ledger, sheet).await?;
    lines.push(survey.sheet_line());
    if golive_asked {
        lines.push(survey.golive_line());
    }
    if lines[0].verdict == Verdict::Fail && settings.ledger.exists() {
        // The ledger that holds the tokens could not be opened: saying they are missing would
        // blame the accounts.
        let why = "not checked: the ledger could not be opened";
        lines.push(Line::skip(TOKENS, why));
        lines.push(Line::skip(PERMISSIONS, why));
    } else {
        let accounts = Accounts::read(&ledger, &survey).await?;
        lines.push(accounts.tokens_line());
        lines.push(accounts.permissions_line());
    }

    let count = |v| lines.iter().filter(|l| l.verdict == v).count();
    let (failed, skipped) = (count(Verdict::Fail), count(Verdict::Skip));
    let mut out = super::rehearsal::Marked::new(std::io::BufWriter::new(std::io::stdout()));
    for line in &lines {
        line.write(&mut out, &survey)?;
    }
    write!(out, "\n{} checks: {} ok, {failed} failed, {skipped} not checked\n", lines.len(), count(Verdict::Ok))?;
    out.finish()?;
    Ok(if failed > 0 { Exit::Failure } else { Exit::Ok })
}

/// The ledger: an existing one must be writable (the file and its folder, for the WAL); a
/// missing one is not created — its folder must let `run` create it — and is read as empty.
fn open_ledger(path: &Path) -> anyhow::Result<(Ledger, Line)> {
    let shown = path.display();
    if !path.exists() {
        let line = match creatable(path.parent().unwrap_or(Path::new(""))) {
            Ok(()) => {
                Line::ok(LEDGER, format!("{shown} does not exist yet; `run` creates it (its folder is writable)"))
            }
            Err(e) => Line::fail(
                LEDGER,
                format!("{shown} does not exist and cannot be created: {e}"),
                Some("give a writable path with --ledger, WXPROV_LEDGER or the job file's `ledger`".into()),
            ),
        };
        return Ok((Ledger::empty_in_memory(path)?, line));
    }
    let writable = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map(drop)
        .and_then(|()| probe(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))));
    let opened = writable.map_err(|e| e.to_string()).and_then(|()| Ledger::open(path).map_err(|e| e.to_string()));
    Ok(match opened {
        Ok(ledger) => {
            let held = if RunLock::is_held(path) { " (a run holds it now: another would exit 5)" } else { "" };
            (ledger, Line::ok(LEDGER, format!("{shown} is writable{held}")))
        }
        Err(e) => (
            Ledger::empty_in_memory(path)?,
            Line::fail(
                LEDGER,
                format!("{shown} cannot be opened for writing: {e}"),
                Some("make it a writable file in a writable folder, or give another with --ledger or the job file's `ledger`".into()),
            ),
        ),
    })
}

/// The report folder, checked without creating it.
fn report_folder(dir: &Path) -> Line {
    let shown = dir.display();
    let fix = || Some("fix it, or give another with --report-dir or the job file's `report_dir`".to_string());
    if dir.is_dir() {
        return match probe(dir) {
            Ok(()) => Line::ok(REPORTS, format!("{shown} is writable")),
            Err(e) => Line::fail(REPORTS, format!("{shown} is not writable: {e}"), fix()),
        };
    }
    match creatable(dir) {
        Ok(()) => Line::ok(REPORTS, format!("{shown} does not exist yet; `run` creates it (its parent is writable)")),
        Err(e) => Line::fail(REPORTS, format!("{shown} cannot be created: {e}"), fix()),
    }
}

/// True when `dir` exists and a file can be made in it (the probe is removed at once).
fn probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".wxprov-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Whether `dir` (which may not exist) could be created: its nearest existing ancestor must
/// be a writable folder.
fn creatable(dir: &Path) -> Result<(), String> {
    let mut at = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    loop {
        if at.exists() {
            if !at.is_dir() {
                return Err(format!("{} is not a folder", at.display()));
            }
            return probe(at).map_err(|e| format!("{} is not writable: {e}", at.display()));
        }
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => at = Path::new("."),
        }
    }
}

/// The platform's own set-up: credentials, verify ticket and IP whitelist, in that order.
async fn component(api: &Api, ledger: &Ledger, secrets: &Secrets, env_ticket: &str) -> anyhow::Result<[Line; 3]> {
    let appid = api.component_appid().to_string();
    if appid.is_empty() {
        let why = "not checked without the platform's appid";
        return Ok([
            Line::fail(
                CREDENTIALS,
                "WXPROV_COMPONENT_APPID is not set",
                Some("set it to the platform's appid (open.weixin.qq.com: 管理中心 → 第三方平台)".into()),
            ),
            Line::skip(TICKET, why),
            Line::skip(WHITELIST, why),
        ]);
    }
    let stored_ticket =
        ledger.newest_ticket(TicketKind::ComponentVerify, &appid, now_secs() - VERIFY_TICKET_TTL_SECS).await?.is_some();
    let ticket_source = match (stored_ticket, secrets.verify_ticket.is_some()) {
        (true, _) => Some("the one `serve` stored in the last 12 hours"),
        (false, true) => Some(env_ticket),
        (false, false) => None,
    };

    if secrets.token_command.is_some() {
        // The token service gets the component token: wxprov sends neither secret nor ticket.
        let not_ours = "not checked: the token service (WXPROV_TOKEN_COMMAND) gets the component token";
        return Ok(match api.tokens.component().await {
            Err(e) => [
                Line::fail(CREDENTIALS, format!("{e}"), e.hint()),
                Line::skip(TICKET, not_ours),
                Line::skip(WHITELIST, not_ours),
            ],
            Ok(_) => match confirm(api).await {
                Ok(()) => [
                    Line::ok(CREDENTIALS, "WeChat accepted the component token WXPROV_TOKEN_COMMAND gave"),
                    Line::skip(TICKET, not_ours),
                    Line::skip(WHITELIST, not_ours),
                ],
                Err(e) => {
                    let fix = "check the token service behind WXPROV_TOKEN_COMMAND: the component token it gives \
                               must be the platform's current one";
                    refused_cached(e, "the component token WXPROV_TOKEN_COMMAND gave", not_ours, Some(fix.into()))
                }
            },
        });
    }

    let cached = ledger.authorizer_tokens(&appid).await?.0.is_some_and(|(_, expires)| expires > now_secs());
    if cached {
        let result = confirm(api).await;
        // A cached token WeChat refused is dropped and a new one fetched (a token error):
        // then the secret and ticket were sent after all, and are judged below.
        if api.tokens.refresh_count() == 0 {
            let not_called = "not checked: the cached component token is still valid, so api_component_token \
                              (where WeChat checks the whitelist) was not called";
            return Ok(match result {
                Ok(()) => [
                    Line::ok(
                        CREDENTIALS,
                        "WeChat accepted the cached component token (the app secret is not sent while it is valid, \
                         so it was not checked)",
                    ),
                    match ticket_source {
                        Some(source) if stored_ticket => {
                            Line::ok(TICKET, format!("{source} is at hand for the renewal (not sent now)"))
                        }
                        Some(source) => Line::skip(
                            TICKET,
                            format!(
                                "not checked: the cached component token is still valid; {source} is sent when it is \
                                 renewed (`serve` stored none in the last 12 hours)"
                            ),
                        ),
                        None => Line::fail(
                            TICKET,
                            "none at hand: the cached component token cannot be renewed when it expires",
                            crate::wechat::errcode::hint_for(61005, wechat_open::TokenKind::None, ""),
                        ),
                    },
                    Line::skip(WHITELIST, not_called),
                ],
                Err(e) => {
                    let fix = e.hint();
                    refused_cached(e, "the cached component token", not_called, fix)
                }
            });
        }
        return Ok(fetched(result, ticket_source));
    }
    let result = api.tokens.component().await.map(drop);
    Ok(fetched(result, ticket_source))
}

/// A component call with the token at hand (`api_get_authorizer_list`, one item): whether
/// WeChat accepts it.
async fn confirm(api: &Api) -> Result<(), ApiError> {
    let req = ApiGetAuthorizerList { component_appid: api.component_appid().to_string(), offset: 0, count: 1 };
    api.call_component(&req).await.map(drop)
}

/// The lines for a component token not fetched now that WeChat refused.
fn refused_cached(e: ApiError, token: &str, not_checked: &str, fix: Option<String>) -> [Line; 3] {
    if is_whitelist(&e) {
        return [
            Line::skip(CREDENTIALS, "not checked: WeChat refused this machine's IP first"),
            Line::skip(TICKET, "not checked: WeChat refused this machine's IP first"),
            whitelist_failed(&e),
        ];
    }
    [
        Line::fail(CREDENTIALS, format!("WeChat refused {token}: {e}"), fix),
        Line::skip(TICKET, not_checked),
        Line::skip(WHITELIST, not_checked),
    ]
}

/// The lines after asking `api_component_token` for a new token: it checks the IP first,
/// then the appid and secret, then the ticket.
fn fetched(result: Result<(), ApiError>, ticket_source: Option<&str>) -> [Line; 3] {
    let answered = |e: &ApiError| {
        Line::ok(
            WHITELIST,
            format!(
                "WeChat answered api_component_token from this machine (errcode {}, not 61004)",
                e.errcode().unwrap_or_default()
            ),
        )
    };
    let e = match result {
        Ok(()) => {
            return [
                Line::ok(CREDENTIALS, "WeChat issued a component token for the appid and app secret"),
                Line::ok(TICKET, format!("WeChat accepted {}", ticket_source.unwrap_or("the verify ticket"))),
                Line::ok(WHITELIST, "WeChat answered api_component_token from this machine"),
            ]
        }
        Err(e) => e,
    };
    if is_whitelist(&e) {
        let first = "not checked: WeChat refused this machine's IP first";
        return [Line::skip(CREDENTIALS, first), Line::skip(TICKET, first), whitelist_failed(&e)];
    }
    match (&e, e.errcode()) {
        // No ticket to send: nothing reached WeChat.
        (ApiError::Token(_), _) => [
            Line::skip(CREDENTIALS, "not checked: there is no verify ticket to send with them"),
            Line::fail(TICKET, format!("{e}"), None),
            Line::skip(WHITELIST, "not checked: nothing was sent"),
        ],
        // The secret (or the appid) is missing: nothing was sent.
        (ApiError::Setup(_), _) => [
            Line::fail(CREDENTIALS, format!("{e}"), None),
            Line::skip(TICKET, "not checked: nothing was sent"),
            Line::skip(WHITELIST, "not checked: nothing was sent"),
        ],
        (ApiError::WeChat { .. }, Some(61005 | 61006)) => [
            Line::skip(CREDENTIALS, "not confirmed: WeChat refused the verify ticket"),
            Line::fail(TICKET, format!("WeChat refused {}: {e}", ticket_source.unwrap_or("it")), e.hint()),
            answered(&e),
        ],
        (ApiError::WeChat { .. }, _) => [
            Line::fail(CREDENTIALS, format!("{e}"), e.hint()),
            Line::skip(TICKET, "not checked: WeChat refused the credentials first"),
            answered(&e),
        ],
        // No answer: nothing is known about any of the three.
        _ => [
            Line::fail(CREDENTIALS, format!("could not ask WeChat: {e}"), None),
            Line::skip(TICKET, "not checked: WeChat did not answer"),
            Line::skip(WHITELIST, "not checked: WeChat did not answer"),
        ],
    }
}

/// 61004 and its kin on other product lines (40164, 45035): the IP whitelist.
fn is_whitelist(e: &ApiError) -> bool {
    matches!(e.errcode(), Some(61004 | 40164 | 45035))
}

fn whitelist_failed(e: &ApiError) -> Line {
    let seen = match e {
        ApiError::WeChat { message, .. } => wechat_open::errcode::whitelist_ip(message),
        _ => None,
    };
    let detail = match seen {
        Some(ip) => format!("WeChat sees this machine as {ip}, which is not on the platform's IP whitelist ({e})"),
        None => format!("this machine is not on the platform's IP whitelist ({e})"),
    };
    Line::fail(WHITELIST, detail, e.hint())
}

/// What `check` learns of the sheet as its rows go by in file order (`run`'s own
/// [`Verdicts`](runner::Verdicts)), without holding them: how many rows there are and how
/// many are invalid, the rows that go live and the problems of go-live cells, and every
/// account the valid rows' steps act on. What grows with the sheet is kept in a scratch
/// database on disk ([`scratch`]), not in memory.
struct Survey {
    rows: usize,
    rejected: usize,
    golive_rows: usize,
    golive_problems: usize,
    /// `golive_rows (line)`, `golive_problems (text)` in file order, and `accounts (appid,
    /// line, kinds)`: each account's first line and the kinds of the steps that act on it
    /// (bits in [`StepKind::ALL`]'s order).
    scratch: rusqlite::Connection,
}

impl Survey {
    /// Takes every row of `sheet`; a valid registration row's mini-program is looked up in
    /// the ledger (whose sets fast registration grants).
    async fn take(ledger: &Ledger, sheet: runner::Sheet) -> anyhow::Result<Survey> {
        let scratch = scratch()?;
        scratch.execute_batch(
            "CREATE TABLE golive_rows (line INTEGER PRIMARY KEY);
             CREATE TABLE golive_problems (text TEXT NOT NULL);
             CREATE TABLE accounts (appid TEXT PRIMARY KEY, line INTEGER NOT NULL, kinds INTEGER NOT NULL)
                 WITHOUT ROWID;
             BEGIN;",
        )?;
        let mut survey = Survey { rows: 0, rejected: 0, golive_rows: 0, golive_problems: 0, scratch };
        let golive_columns: Vec<&str> = golive::COLUMNS.iter().map(|c| c.name()).collect();
        let (mut verdicts, validating) = sheet.validate();
        while let Some(verdict) = verdicts.next().await {
            survey.rows += 1;
            match verdict {
                Validated::Valid(row) => {
                    let registered = match (&row.appid, &row.official_appid) {
                        (None, Some(official)) => ledger.latest_registration(official).await?.and_then(|r| r.appid),
                        _ => None,
                    };
                    survey.note(&row, registered)?;
                }
                Validated::Rejected(rejected) => {
                    survey.rejected += 1;
                    for problem in rejected.problems.iter().filter(|p| golive_columns.contains(&p.column.as_str())) {
                        survey.golive_problems += 1;
                        let mut insert =
                            survey.scratch.prepare_cached("INSERT INTO golive_problems (text) VALUES (?1)")?;
                        insert.execute([problem.to_string()])?;
                    }
                }
            }
        }
        drop(verdicts);
        validating.finish().await?;
        survey.scratch.execute_batch("COMMIT")?;
        Ok(survey)
    }

    /// Notes a valid row: whether it goes live, and the accounts its steps act on — a
    /// registration row's official account until the ledger has its mini-program
    /// (`registered`), then that mini-program; every other row's mini-program.
    fn note(&mut self, row: &Row, registered: Option<String>) -> rusqlite::Result<()> {
        if row.golive.is_some() {
            self.golive_rows += 1;
            self.scratch.prepare_cached("INSERT INTO golive_rows (line) VALUES (?1)")?.execute([row.line])?;
        }
        let mut acted_on: Vec<(String, i64)> = Vec::new();
        for step in &row.steps {
            let (holder, _) = funcscope::needed(step.kind);
            let appid = match holder {
                Holder::OfficialAccount if registered.is_some() => continue,
                Holder::OfficialAccount => row.official_appid.clone(),
                Holder::MiniProgram => row.appid.clone().or_else(|| registered.clone()),
            };
            // A mini-program still to be registered: nothing to check yet.
            let Some(appid) = appid else { continue };
            match acted_on.iter_mut().find(|(a, _)| *a == appid) {
                Some((_, kinds)) => *kinds |= kind_bit(step.kind),
                None => acted_on.push((appid, kind_bit(step.kind))),
            }
        }
        // The rows come in file order: an account's line stays the first that needs it.
        let mut insert = self.scratch.prepare_cached(
            "INSERT INTO accounts (appid, line, kinds) VALUES (?1, ?2, ?3)
             ON CONFLICT (appid) DO UPDATE SET kinds = kinds | excluded.kinds",
        )?;
        for (appid, kinds) in acted_on {
            insert.execute(rusqlite::params![appid, row.line, kinds])?;
        }
        Ok(())
    }

    /// The sheet: its invalid rows are not checked here (`plan` says why they are invalid).
    fn sheet_line(&self) -> Line {
        match self.rejected {
            0 => Line::ok(SHEET, format!("{} rows, all valid", self.rows)),
            bad => Line::skip(
                SHEET,
                format!("{bad} of {} rows are invalid and not checked here (`wxprov plan JOB` says why)", self.rows),
            ),
        }
    }

    /// The sheet's go-live: which rows go live, and every problem of a go-live cell (line and
    /// column); written by [`Survey::write_golive`].
    fn golive_line(&self) -> Line {
        match self.golive_problems {
            0 => Line { verdict: Verdict::Ok, what: GOLIVE, detail: Detail::GoLive, fix: None },
            _ => Line {
                verdict: Verdict::Fail,
                what: GOLIVE,
                detail: Detail::GoLive,
                fix: Some("fix these cells (or the job's [golive] values they fall back to)".into()),
            },
        }
    }

    /// The go-live line's detail: the rows that go live, by line, then each problem of a
    /// go-live cell on a line of its own, in file order; each piece redacted as a line's
    /// detail is.
    fn write_golive(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut lines = self.scratch.prepare("SELECT line FROM golive_rows ORDER BY line")?;
        let mut lines = lines.query_map([], |r| r.get::<_, u64>(0))?;
        match self.golive_rows {
            0 => out.write_all(b"no row goes live")?,
            1 => write!(out, "1 row goes live (line {})", lines.next().transpose()?.unwrap_or_default())?,
            n => {
                write!(out, "{n} rows go live (lines ")?;
                for (i, line) in lines.enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(out, "{separator}{}", line?)?;
                }
                out.write_all(b")")?;
            }
        }
        let mut problems = self.scratch.prepare("SELECT text FROM golive_problems ORDER BY rowid")?;
        for problem in problems.query_map([], |r| r.get::<_, String>(0))? {
            write!(out, "\n      {}", redact(&problem?))?;
        }
        Ok(())
    }

    /// The accounts after `after` (by appid), at most `limit` of them.
    fn accounts_after(&self, after: &str, limit: usize) -> rusqlite::Result<Vec<(String, Account)>> {
        let mut stmt = self
            .scratch
            .prepare_cached("SELECT appid, line, kinds FROM accounts WHERE appid > ?1 ORDER BY appid LIMIT ?2")?;
        let rows = stmt.query_map(rusqlite::params![after, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, Account::new(r.get(1)?, r.get(2)?)))
        })?;
        rows.collect()
    }
}

/// A step kind's bit in the survey's `kinds`.
fn kind_bit(kind: StepKind) -> i64 {
    1 << StepKind::ALL.iter().position(|k| *k == kind).expect("every kind is in ALL")
}

/// An account the sheet's steps act on, and what they need of it.
#[derive(Debug, Default)]
struct Account {
    /// The first sheet line that needs it.
    line: u64,
    holder: Option<Holder>,
    /// Permission set id → the steps that need it.
    needs: BTreeMap<i64, BTreeSet<StepKind>>,
}

impl Account {
    /// The account first needed on `line` by the steps whose bits are in `kinds`.
    fn new(line: u64, kinds: i64) -> Account {
        let mut account = Account { line, ..Account::default() };
        for kind in StepKind::ALL.into_iter().filter(|k| kinds & kind_bit(*k) != 0) {
            let (holder, ids) = funcscope::needed(kind);
            account.holder = account.holder.max(Some(holder));
            for id in ids {
                account.needs.entry(*id).or_default().insert(kind);
            }
        }
        account
    }

    fn label(&self, appid: &str) -> String {
        let whose = match self.holder {
            Some(Holder::OfficialAccount) => ", official account",
            _ => "",
        };
        format!("{appid} (line {}{whose})", self.line)
    }
}

/// At most this many accounts are named on a line; the rest are counted.
const NAMED: usize = 5;

/// Accounts to name on a line: the first [`NAMED`] (by sheet line, then text), and how many
/// there are in all.
#[derive(Debug, Default)]
struct Named {
    first: Vec<(u64, String)>,
    count: usize,
}

impl Named {
    fn push(&mut self, item: (u64, String)) {
        self.count += 1;
        let at = self.first.partition_point(|kept| *kept <= item);
        if at < NAMED {
            self.first.insert(at, item);
            self.first.truncate(NAMED);
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first accounts, in sheet order, and how many more.
    fn text(&self) -> String {
        let mut text = self.first.iter().map(|(_, text)| text.as_str()).collect::<Vec<_>>().join("; ");
        if self.count > NAMED {
            text.push_str(&format!("; and {} more", self.count - NAMED));
        }
        text
    }
}

/// How many accounts are looked up in the ledger at once.
const ACCOUNT_BATCH: usize = 512;

/// What the ledger holds of the accounts the rows act on: their refresh tokens and the
/// permission sets they granted (stored `func_info`), against what their steps need.
#[derive(Debug, Default)]
struct Accounts {
    total: usize,
    /// Accounts without a refresh token.
    missing: Named,
    with_token: usize,
    /// The sets the accounts with a refresh token need.
    needed: BTreeSet<i64>,
    /// Accounts with a refresh token whose sets the ledger does not know.
    unknown: Named,
    /// Accounts with a refresh token that lack a set, and which.
    lacking: Named,
}

impl Accounts {
    /// Reads the survey's accounts a batch at a time, with their tokens and sets.
    async fn read(ledger: &Ledger, survey: &Survey) -> anyhow::Result<Accounts> {
        let mut seen = Accounts::default();
        let mut after = String::new();
        loop {
            let batch = survey.accounts_after(&after, ACCOUNT_BATCH)?;
            let Some((last, _)) = batch.last() else { break };
            after = last.clone();
            let appids: Vec<String> = batch.iter().map(|(appid, _)| appid.clone()).collect();
            let tokened: BTreeSet<String> = ledger
                .authorizer_tokens_of(appids)
                .await?
                .into_iter()
                .filter(|(_, (_, refresh))| refresh.is_some())
                .map(|(appid, _)| appid)
                .collect();
            let granted = ledger.permissions_of(tokened.iter().cloned().collect()).await?;
            for (appid, account) in batch {
                seen.total += 1;
                if !tokened.contains(&appid) {
                    seen.missing.push((account.line, account.label(&appid)));
                    continue;
                }
                seen.with_token += 1;
                seen.needed.extend(account.needs.keys().copied());
                let Some(has) = granted.get(&appid) else {
                    seen.unknown.push((account.line, account.label(&appid)));
                    continue;
                };
                let missing: Vec<String> = account
                    .needs
                    .iter()
                    .filter(|(id, _)| !has.contains(id))
                    .map(|(id, steps)| {
                        let steps: Vec<&str> = steps.iter().map(|s| s.as_str()).collect();
                        format!("{id} {} for {}", funcscope::name(*id), steps.join(", "))
                    })
                    .collect();
                if !missing.is_empty() {
                    seen.lacking
                        .push((account.line, format!("{} lacks {}", account.label(&appid), missing.join(" and "))));
                }
            }
        }
        Ok(seen)
    }

    /// Every account the rows need has a refresh token.
    fn tokens_line(&self) -> Line {
        if self.total == 0 {
            Line::skip(TOKENS, "no valid row acts on an existing account yet")
        } else if self.missing.is_empty() {
            Line::ok(TOKENS, format!("each of the {} accounts the rows act on has one", self.total))
        } else {
            Line::fail(
                TOKENS,
                format!("{} of {} accounts have none: {}", self.missing.count, self.total, self.missing.text()),
                Some(NO_REFRESH_TOKEN_HINT.into()),
            )
        }
    }

    /// Every account (with a refresh token) granted the permission sets its steps need, by
    /// its stored `func_info`.
    fn permissions_line(&self) -> Line {
        let untokened = self.total - self.with_token;
        let also =
            if untokened > 0 { format!(" ({untokened} without a refresh token not checked)") } else { String::new() };
        let checked = self.with_token;
        if checked == 0 {
            Line::skip(PERMISSIONS, "not checked: no account the rows act on has a refresh token")
        } else if !self.lacking.is_empty() {
            Line::fail(
                PERMISSIONS,
                format!("{}{also}", self.lacking.text()),
                Some(
                    "have the account's admin authorize the platform again with these permission sets (the \
                     platform must request them: open.weixin.qq.com, 第三方平台 → 权限集); `wxprov serve` stores \
                     the new ones from WeChat's push, or run `wxprov tokens recover --all`"
                        .into(),
                ),
            )
        } else if !self.unknown.is_empty() {
            Line::fail(
                PERMISSIONS,
                format!("not known for {} of {checked} accounts: {}{also}", self.unknown.count, self.unknown.text()),
                Some(
                    "run `wxprov tokens recover`: it reads every account's permission sets (api_get_authorizer_info)"
                        .into(),
                ),
            )
        } else {
            let ids: Vec<String> = self.needed.iter().map(i64::to_string).collect();
            Line::ok(
                PERMISSIONS,
                format!("each of the {checked} accounts granted the sets its steps need ({}){also}", ids.join(", ")),
            )
        }
    }
}
