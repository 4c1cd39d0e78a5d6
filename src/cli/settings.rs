//! One resolved configuration, as ripgrep's "high-level arguments": what a command was given
//! on the command line, in the environment and in the job file, with the defaults, resolved
//! once into [`Settings`] — precedence flag, environment variable, job file, default, here
//! and nowhere else — and checked then, so a command reads values that are already valid.
//!
//! Each value keeps where it came from ([`Source`]), so that a bad one is a usage error
//! (exit 2) naming the flag, the variable or the job file's key that gave it. Secrets come
//! from the environment only (never a flag or a job file), and in a rehearsal from the
//! simulator's fixture, the environment not read at all.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::rehearsal;
use crate::config::{JobFile, Limits, Secrets, DEFAULT_API_BASE};
use crate::exit::usage;
use crate::manifest::{Encoding, ReadOptions};
use wechat_open::secret::Secret;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag (`--concurrency`).
    Flag(&'static str),
    /// An environment variable (`WXPROV_CONCURRENCY`).
    Env(&'static str),
    /// A key of the job file (`concurrency`, `retry.max_attempts`).
    Job(&'static str),
    /// Nothing gave one.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => f.write_str(flag),
            Source::Env(var) => f.write_str(var),
            Source::Job(key) => write!(f, "the job file's `{key}`"),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Sourced<T> {
        Sourced { value, source }
    }
}

/// The API base: the built-in simulator (`sim`, a rehearsal) or an `http(s)://` URL with no
/// query or fragment, kept without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiBase {
    Sim,
    Url(String),
}

impl ApiBase {
    /// Parses `text` by the one rule for an API base; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<ApiBase, String> {
        let text = text.trim();
        if text == rehearsal::SIM {
            return Ok(ApiBase::Sim);
        }
        let url = url::Url::parse(text)
            .map_err(|e| format!("is not a URL ({e}); give one like {DEFAULT_API_BASE}, or `sim`"))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err("must start with http:// or https:// (or be `sim`)".to_string());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a query or a fragment".to_string());
        }
        Ok(ApiBase::Url(url.as_str().trim_end_matches('/').to_string()))
    }

    /// As given to the client (`sim` for the simulator).
    pub fn as_str(&self) -> &str {
        match self {
            ApiBase::Sim => rehearsal::SIM,
            ApiBase::Url(url) => url,
        }
    }
}

/// The common options as the command line gave them: each from its flag or, where it has
/// one, its environment variable (clap reads both; it says which).
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub api_base: Option<Sourced<String>>,
    pub ledger: Option<Sourced<PathBuf>>,
    pub report_dir: Option<Sourced<PathBuf>>,
    pub concurrency: Option<Sourced<usize>>,
    /// `--encoding`.
    pub encoding: Option<Encoding>,
    /// `--sheet`.
    pub sheet: Option<String>,
    /// `--ignore-column`, each time it was given.
    pub ignore_columns: Vec<String>,
    /// `--max-rows`.
    pub max_rows: Option<usize>,
    /// `serve --status-listen` (or `WXPROV_STATUS_LISTEN`).
    pub status_listen: Option<Sourced<String>>,
}

/// What a command works on, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The API base (`sim`: a rehearsal, with everything of its own).
    pub api_base: Sourced<ApiBase>,
    /// The ledger this command reads and writes (in a rehearsal, `LEDGER.sim.db`).
    pub ledger: PathBuf,
    /// The ledger real runs use; a rehearsal never opens it.
    pub real_ledger: Sourced<PathBuf>,
    /// Where reports go (in a rehearsal, `REPORT_DIR/rehearsal`).
    pub report_dir: PathBuf,
    /// Where real runs' reports go (`REPORT_DIR`).
    pub real_report_dir: Sourced<PathBuf>,
    /// How many rows are worked on at once; at least 1.
    pub concurrency: Sourced<usize>,
    /// `[retry] max_attempts`: the sends of one call per step and run; at least 1.
    pub max_attempts: Sourced<u32>,
    /// The job's manifest (empty for a command without a job).
    pub manifest: PathBuf,
    /// How to read it: `--encoding`; `--sheet` over the job file's `sheet`; the job file's
    /// `ignore_columns` and every `--ignore-column`.
    pub read: ReadOptions,
    /// `--max-rows`: only the manifest's first N rows.
    pub max_rows: Option<usize>,
    /// `[limits]`: the pacer's quotas.
    pub limits: Limits,
    /// `keep_events_days`: the age the event log is pruned to; at least 1.
    pub keep_events_days: Sourced<u32>,
    /// The platform's identity and secrets: the environment's, or in a rehearsal the
    /// simulator fixture's.
    pub secrets: Secrets,
    /// Where `serve` shows the status page (`--status-listen`, `WXPROV_STATUS_LISTEN`, the job
    /// file's `status_listen`); none by default.
    pub status_listen: Option<Sourced<SocketAddr>>,
    /// `WXPROV_STATUS_TOKEN`, which the status page asks for by HTTP Basic auth: from the
    /// environment only (and never in a rehearsal, which reads none).
    pub status_token: Option<Secret>,
}

/// The environment variable of the status page's token.
const STATUS_TOKEN_VAR: &str = "WXPROV_STATUS_TOKEN";

/// Rows worked on at once unless told otherwise.
const DEFAULT_CONCURRENCY: usize = 16;

/// Days of the event log kept unless told otherwise (DESIGN §2).
const DEFAULT_KEEP_EVENTS_DAYS: u32 = 180;

impl Settings {
    /// Resolves `given` over `job` over the defaults; `env` reads the environment (for the
    /// secrets; a rehearsal never calls it).
    pub fn resolve(
        given: &Given,
        job: Option<&JobFile>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let default = JobFile::default();
        let file = job.unwrap_or(&default);
        let api_base = pick(&given.api_base, file.api_base.clone(), "api_base", DEFAULT_API_BASE.to_string());
        let api_base = match ApiBase::parse(&api_base.value) {
            Ok(parsed) => Sourced::new(parsed, api_base.source),
            Err(why) => return Err(bad("API base", &api_base.value, api_base.source, &why)),
        };
        let real_ledger = pick(&given.ledger, file.ledger.clone(), "ledger", PathBuf::from("wxprov.db"));
        let real_report_dir = pick(&given.report_dir, file.report_dir.clone(), "report_dir", PathBuf::from("reports"));
        let concurrency = pick(&given.concurrency, file.concurrency, "concurrency", DEFAULT_CONCURRENCY);
        if concurrency.value == 0 {
            return Err(bad("concurrency", &0, concurrency.source, "must be at least 1"));
        }
        let max_attempts = match job {
            Some(job) => Sourced::new(job.retry.max_attempts, Source::Job("retry.max_attempts")),
            None => Sourced::new(default.retry.max_attempts, Source::Default),
        };
        if max_attempts.value == 0 {
            return Err(bad("max_attempts", &0, max_attempts.source, "must be at least 1"));
        }
        let keep_events_days = match file.keep_events_days {
            Some(days) => Sourced::new(days, Source::Job("keep_events_days")),
            None => Sourced::new(DEFAULT_KEEP_EVENTS_DAYS, Source::Default),
        };
        if keep_events_days.value == 0 {
            // `quota_use` counts today's calls from it, against WeChat's daily quotas.
            return Err(bad(
                "keep_events_days",
                &0,
                keep_events_days.source,
                "must be at least 1 (today's calls count against WeChat's daily quotas)",
            ));
        }
        let status_listen = match (&given.status_listen, &file.status_listen) {
            (Some(given), _) => Some(given.clone()),
            (None, Some(job)) => Some(Sourced::new(job.clone(), Source::Job("status_listen"))),
            (None, None) => None,
        };
        let status_listen = match status_listen {
            Some(addr) => match addr.value.trim().parse::<SocketAddr>() {
                Ok(parsed) => Some(Sourced::new(parsed, addr.source)),
                Err(_) => {
                    return Err(bad(
                        "status address",
                        &addr.value,
                        addr.source,
                        "is not an address like 127.0.0.1:8081",
                    ))
                }
            },
            None => None,
        };
        let rehearsal = api_base.value == ApiBase::Sim;
        let secrets = if rehearsal { rehearsal::secrets(&wechat_sim::Fixture::example()) } else { Secrets::read(env)? };
        let status_token = match rehearsal {
            true => None,
            false => env(STATUS_TOKEN_VAR).filter(|t| !t.trim().is_empty()).map(Secret::new),
        };
        let (ledger, report_dir) = if rehearsal {
            (rehearsal::ledger_path(&real_ledger.value), real_report_dir.value.join(rehearsal::REPORT_SUBDIR))
        } else {
            (real_ledger.value.clone(), real_report_dir.value.clone())
        };
        let mut ignore_columns = file.ignore_columns.clone();
        ignore_columns.extend(given.ignore_columns.iter().cloned());
        let read = ReadOptions {
            encoding: given.encoding,
            sheet: given.sheet.clone().or_else(|| file.sheet.clone()),
            ignore_columns,
            golive: std::sync::Arc::new(file.golive.clone()),
        };
        Ok(Settings {
            api_base,
            manifest: file.manifest.clone(),
            read,
            max_rows: given.max_rows,
            ledger,
            real_ledger,
            report_dir,
            real_report_dir,
            concurrency,
            max_attempts,
            limits: file.limits.clone(),
            keep_events_days,
            secrets,
            status_listen,
            status_token,
        })
    }

    /// True when this command rehearses on the built-in simulator (`--api-base sim`).
    pub fn rehearsal(&self) -> bool {
        self.api_base.value == ApiBase::Sim
    }
}

/// The given value (flag or environment), else the job file's `key`, else `default`.
fn pick<T: Clone>(given: &Option<Sourced<T>>, job: Option<T>, key: &'static str, default: T) -> Sourced<T> {
    match (given, job) {
        (Some(given), _) => given.clone(),
        (None, Some(value)) => Sourced::new(value, Source::Job(key)),
        (None, None) => Sourced::new(default, Source::Default),
    }
}

/// The usage error for a bad value: what it is, its value and where it came from.
fn bad(what: &str, value: &dyn fmt::Debug, source: Source, why: &str) -> anyhow::Error {
    usage(format!("{what} {value:?} from {source}: {why}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::exit::{exit_of, Exit};

    fn flag<T>(value: T, name: &'static str) -> Option<Sourced<T>> {
        Some(Sourced::new(value, Source::Flag(name)))
    }

    fn env_var<T>(value: T, name: &'static str) -> Option<Sourced<T>> {
        Some(Sourced::new(value, Source::Env(name)))
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn resolve(given: &Given, job: Option<&JobFile>) -> Settings {
        Settings::resolve(given, job, &no_env).unwrap()
    }

    fn job() -> JobFile {
        JobFile {
            api_base: Some("http://127.0.0.1:9".into()),
            ledger: Some("job.db".into()),
            report_dir: Some("job-reports".into()),
            concurrency: Some(3),
            ..JobFile::default()
        }
    }

    #[test]
    fn the_defaults_when_nothing_is_given() {
        let s = resolve(&Given::default(), None);
        assert_eq!(s.api_base, Sourced::new(ApiBase::Url(DEFAULT_API_BASE.into()), Source::Default));
        assert_eq!(s.real_ledger, Sourced::new(PathBuf::from("wxprov.db"), Source::Default));
        assert_eq!(s.real_report_dir, Sourced::new(PathBuf::from("reports"), Source::Default));
        assert_eq!(s.concurrency, Sourced::new(16, Source::Default));
        assert_eq!(s.max_attempts, Sourced::new(5, Source::Default));
        assert_eq!(s.keep_events_days, Sourced::new(180, Source::Default));
    }

    #[test]
    fn the_job_file_wins_over_the_defaults() {
        let mut job = job();
        job.retry.max_attempts = 2;
        job.keep_events_days = Some(30);
        let s = resolve(&Given::default(), Some(&job));
        assert_eq!(s.keep_events_days, Sourced::new(30, Source::Job("keep_events_days")));
        assert_eq!(s.api_base, Sourced::new(ApiBase::Url("http://127.0.0.1:9".into()), Source::Job("api_base")));
        assert_eq!(s.real_ledger, Sourced::new(PathBuf::from("job.db"), Source::Job("ledger")));
        assert_eq!(s.real_report_dir, Sourced::new(PathBuf::from("job-reports"), Source::Job("report_dir")));
        assert_eq!(s.concurrency, Sourced::new(3, Source::Job("concurrency")));
        assert_eq!(s.max_attempts, Sourced::new(2, Source::Job("retry.max_attempts")));
    }

    #[test]
    fn the_environment_and_a_flag_win_over_the_job_file() {
        // clap gives either (a flag over its variable); both win over the job file alike.
        for source in [Source::Env("WXPROV_X"), Source::Flag("--x")] {
            let given = Given {
                api_base: Some(Sourced::new("https://example.cn/".into(), source)),
                ledger: Some(Sourced::new("given.db".into(), source)),
                report_dir: Some(Sourced::new("given-reports".into(), source)),
                concurrency: Some(Sourced::new(7, source)),
                ..Given::default()
            };
            let s = resolve(&given, Some(&job()));
            assert_eq!(s.api_base, Sourced::new(ApiBase::Url("https://example.cn".into()), source));
            assert_eq!(s.real_ledger, Sourced::new(PathBuf::from("given.db"), source));
            assert_eq!(s.ledger, Path::new("given.db"));
            assert_eq!(s.real_report_dir, Sourced::new(PathBuf::from("given-reports"), source));
            assert_eq!(s.concurrency, Sourced::new(7, source));
        }
    }

    #[test]
    fn the_manifest_options_over_the_job_file() {
        let job = JobFile { sheet: Some("job".into()), ignore_columns: vec!["备注".into()], ..job() };
        let s = resolve(&Given::default(), Some(&job));
        assert_eq!(
            (s.read.sheet.as_deref(), s.read.ignore_columns.as_slice()),
            (Some("job"), &["备注".to_string()][..])
        );
        let given = Given {
            sheet: Some("flag".into()),
            ignore_columns: vec!["商户名称".into()],
            max_rows: Some(2),
            ..Given::default()
        };
        let s = resolve(&given, Some(&job));
        assert_eq!(s.read.sheet.as_deref(), Some("flag"));
        assert_eq!(s.read.ignore_columns, ["备注", "商户名称"], "--ignore-column adds to the job file's");
        assert_eq!(s.max_rows, Some(2));
    }

    #[test]
    fn a_rehearsal_gets_its_own_ledger_report_folder_and_secrets() {
        let given = Given { api_base: flag("sim".into(), "--api-base"), ..Given::default() };
        let job = JobFile { ledger: Some("l/wxprov.db".into()), ..job() };
        // The environment is not read at all in a rehearsal.
        let s = Settings::resolve(&given, Some(&job), &|name| panic!("{name} read in a rehearsal")).unwrap();
        assert!(s.rehearsal());
        assert_eq!(s.ledger, Path::new("l/wxprov.db.sim.db"));
        assert_eq!(s.real_ledger.value, Path::new("l/wxprov.db"));
        assert_eq!(s.report_dir, Path::new("job-reports/rehearsal"));
        let fixture = wechat_sim::Fixture::example();
        assert_eq!(s.secrets.component_appid, Some(fixture.component.appid));
        // And a job file's `api_base = "sim"` is a rehearsal too, unless a flag says otherwise.
        let job = JobFile { api_base: Some("sim".into()), ..JobFile::default() };
        assert!(resolve(&Given::default(), Some(&job)).rehearsal());
        let given =
            Given { api_base: env_var("https://api.weixin.qq.com".into(), "WXPROV_API_BASE"), ..Given::default() };
        assert!(!resolve(&given, Some(&job)).rehearsal());
    }

    #[test]
    fn secrets_come_from_the_environment() {
        let env = |name: &str| match name {
            "WXPROV_COMPONENT_APPID" => Some("WX0C0C0C0C0C0C0C0C".to_string()),
            "WXPROV_COMPONENT_SECRET" => Some("s3cret".to_string()),
            "WXPROV_TOKEN_COMMAND" => Some(" ".to_string()),
            _ => None,
        };
        let s = Settings::resolve(&Given::default(), None, &env).unwrap();
        assert_eq!(s.secrets.component_appid.as_deref(), Some("wx0c0c0c0c0c0c0c0c"));
        assert_eq!(s.secrets.component_secret.as_ref().map(|s| s.expose()), Some("s3cret"));
        assert_eq!(s.secrets.token_command, None, "an empty variable counts as unset");
    }

    #[test]
    fn the_status_page_address_flag_or_variable_over_the_job_file_and_its_token_from_the_environment() {
        let job = JobFile { status_listen: Some("127.0.0.1:8081".into()), ..JobFile::default() };
        assert_eq!(resolve(&Given::default(), None).status_listen, None, "off by default");
        let s = resolve(&Given::default(), Some(&job));
        assert_eq!(
            s.status_listen,
            Some(Sourced::new("127.0.0.1:8081".parse().unwrap(), Source::Job("status_listen")))
        );
        for source in [Source::Env("WXPROV_STATUS_LISTEN"), Source::Flag("--status-listen")] {
            let given = Given { status_listen: Some(Sourced::new("[::1]:0".into(), source)), ..Given::default() };
            let s = resolve(&given, Some(&job));
            assert_eq!(s.status_listen, Some(Sourced::new("[::1]:0".parse().unwrap(), source)));
        }
        let env = |name: &str| (name == "WXPROV_STATUS_TOKEN").then(|| "t0ken".to_string());
        let s = Settings::resolve(&Given::default(), None, &env).unwrap();
        assert_eq!(s.status_token.as_ref().map(Secret::expose), Some("t0ken"));
        assert!(!format!("{s:?}").contains("t0ken"), "the token never prints");
        let given = Given { status_listen: flag("localhost".into(), "--status-listen"), ..Given::default() };
        assert_eq!(
            error(&given, None, &no_env),
            "status address \"localhost\" from --status-listen: is not an address like 127.0.0.1:8081"
        );
    }

    fn error(given: &Given, job: Option<&JobFile>, env: &dyn Fn(&str) -> Option<String>) -> String {
        let err = Settings::resolve(given, job, env).unwrap_err();
        assert_eq!(exit_of(&err), Exit::Usage, "{err:#}");
        format!("{err:#}")
    }

    #[test]
    fn a_bad_value_names_where_it_came_from() {
        let given = Given { concurrency: env_var(0, "WXPROV_CONCURRENCY"), ..Given::default() };
        assert_eq!(error(&given, None, &no_env), "concurrency 0 from WXPROV_CONCURRENCY: must be at least 1");
        let job = JobFile { concurrency: Some(0), ..JobFile::default() };
        assert_eq!(
            error(&Given::default(), Some(&job), &no_env),
            "concurrency 0 from the job file's `concurrency`: must be at least 1"
        );
        let mut job = JobFile::default();
        job.retry.max_attempts = 0;
        assert_eq!(
            error(&Given::default(), Some(&job), &no_env),
            "max_attempts 0 from the job file's `retry.max_attempts`: must be at least 1"
        );
        let job = JobFile { keep_events_days: Some(0), ..JobFile::default() };
        assert_eq!(
            error(&Given::default(), Some(&job), &no_env),
            "keep_events_days 0 from the job file's `keep_events_days`: must be at least 1 (today's calls count \
             against WeChat's daily quotas)"
        );
        let given = Given { api_base: flag("ftp://example.cn".into(), "--api-base"), ..Given::default() };
        assert_eq!(
            error(&given, None, &no_env),
            "API base \"ftp://example.cn\" from --api-base: must start with http:// or https:// (or be `sim`)"
        );
        let job = JobFile { api_base: Some("https://example.cn/?a=1".into()), ..JobFile::default() };
        assert_eq!(
            error(&Given::default(), Some(&job), &no_env),
            "API base \"https://example.cn/?a=1\" from the job file's `api_base`: must not have a query or a fragment"
        );
        let env = |name: &str| (name == "WXPROV_COMPONENT_APPID").then(|| "wx28f759479ea1e09".to_string());
        assert_eq!(
            error(&Given::default(), None, &env),
            "WXPROV_COMPONENT_APPID is not an appid (wx followed by 16 hex digits)"
        );
    }
}
