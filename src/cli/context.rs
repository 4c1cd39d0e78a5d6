//! What every command shares: the common options, the secrets, the ledger and the API
//! client, opened only when a command needs them.
//!
//! What a command works on is resolved once, in [`Setup`], from the options, the
//! environment and the job file — first of all whether it is a rehearsal (`--api-base sim`,
//! see [`super::rehearsal`]), since its ledger, reports, credentials and API all follow from
//! that. A rehearsal starts the built-in simulator here, in-process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{rehearsal, GlobalOpts};
use crate::config::{JobFile, Secrets, DEFAULT_API_BASE};
use crate::exit::fail;
use crate::ledger::Ledger;
use crate::secret::Secret;
use crate::wechat::{client::DEFAULT_TIMEOUT, Api, CallLog, CallOptions, Client, ComponentCreds};

/// Shared state of one command.
pub struct Context {
    pub global: GlobalOpts,
    setup: OnceLock<Setup>,
    sim: Option<crate::sim::SimHandle>,
    /// The ledger the API writes its call log to, and the call log, flushed at the end.
    ledger: Option<(Ledger, CallLog)>,
}

/// What a command works on, resolved once (precedence: flag, environment, job file, default).
#[derive(Debug, Clone)]
pub struct Setup {
    /// `--api-base sim`: the built-in simulator, with everything of its own.
    pub rehearsal: bool,
    /// The API base URL (`sim` in a rehearsal).
    pub api_base: String,
    /// The ledger this command reads and writes (in a rehearsal, `LEDGER.sim.db`).
    pub ledger: PathBuf,
    /// The ledger real runs use; a rehearsal never opens it.
    pub real_ledger: PathBuf,
    /// Where reports go (in a rehearsal, `REPORT_DIR/rehearsal`).
    pub report_dir: PathBuf,
    /// Where real runs' reports go (`REPORT_DIR`).
    pub real_report_dir: PathBuf,
}

/// The options (flag or environment variable) a [`Setup`] is resolved from.
#[derive(Debug, Clone, Default)]
pub(super) struct Given {
    pub api_base: Option<String>,
    pub ledger: Option<PathBuf>,
    pub report_dir: Option<PathBuf>,
}

impl Setup {
    fn resolve(global: &Given, job: Option<&JobFile>) -> Setup {
        let api_base = global
            .api_base
            .clone()
            .or_else(|| job.and_then(|j| j.api_base.clone()))
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let rehearsal = api_base.trim() == rehearsal::SIM;
        let real_ledger = global
            .ledger
            .clone()
            .or_else(|| job.and_then(|j| j.ledger.clone()))
            .unwrap_or_else(|| PathBuf::from("wxprov.db"));
        let report_dir = global
            .report_dir
            .clone()
            .or_else(|| job.and_then(|j| j.report_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("reports"));
        if rehearsal {
            Setup {
                rehearsal,
                api_base: rehearsal::SIM.to_string(),
                ledger: rehearsal::ledger_path(&real_ledger),
                real_ledger,
                report_dir: report_dir.join(rehearsal::REPORT_SUBDIR),
                real_report_dir: report_dir,
            }
        } else {
            Setup {
                rehearsal,
                api_base,
                ledger: real_ledger.clone(),
                real_ledger,
                report_dir: report_dir.clone(),
                real_report_dir: report_dir,
            }
        }
    }
}

impl Context {
    pub fn new(global: GlobalOpts) -> anyhow::Result<Context> {
        Ok(Context { global, setup: OnceLock::new(), sim: None, ledger: None })
    }

    /// Reads the job (a job file or a manifest given directly) and resolves from it what
    /// the command works on ([`Context::setup`]), before anything is logged about it.
    pub fn load_job(&self, arg: &std::path::Path) -> anyhow::Result<JobFile> {
        let job = JobFile::from_arg(arg)?;
        self.setup(Some(&job));
        Ok(job)
    }

    /// What this command works on. Resolved at the first call, from the job given then (every
    /// command has at most one); later calls get the same answer.
    pub fn setup(&self, job: Option<&JobFile>) -> &Setup {
        self.setup.get_or_init(|| {
            let setup = Setup::resolve(&self.given(), job);
            if setup.rehearsal {
                rehearsal::mark();
                tracing::info!(
                    "rehearsal on the built-in simulator: ledger {}, reports in {}; no WXPROV_* secret or token \
                     command is used, and the real ledger {} is never opened",
                    setup.ledger.display(),
                    setup.report_dir.display(),
                    setup.real_ledger.display()
                );
            }
            setup
        })
    }

    fn given(&self) -> Given {
        Given {
            api_base: self.global.api_base.clone(),
            ledger: self.global.ledger.clone(),
            report_dir: self.global.report_dir.clone(),
        }
    }

    /// True when this command rehearses on the built-in simulator.
    pub fn rehearsal(&self, job: Option<&JobFile>) -> bool {
        self.setup(job).rehearsal
    }

    /// The secrets: the environment's, or in a rehearsal the simulator fixture's (the
    /// environment is not read at all then).
    pub fn secrets(&self, job: Option<&JobFile>) -> anyhow::Result<Secrets> {
        if self.rehearsal(job) {
            Ok(rehearsal::secrets(&crate::sim::Fixture::example()))
        } else {
            Secrets::from_env()
        }
    }

    /// The ledger path: the flag or `WXPROV_LEDGER`, else the job file's, else `wxprov.db`
    /// (in a rehearsal, the `.sim.db` beside it).
    pub fn ledger_path(&self, job: Option<&JobFile>) -> PathBuf {
        self.setup(job).ledger.clone()
    }

    /// The report folder: the flag, else the job file's, else `reports` (in a rehearsal, its
    /// `rehearsal` subfolder).
    pub fn report_dir(&self, job: Option<&JobFile>) -> PathBuf {
        self.setup(job).report_dir.clone()
    }

    /// Opens the ledger, creating it if need be: for the commands that write.
    pub fn open_ledger(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        Ok(Ledger::open(&self.ledger_path(job))?)
    }

    /// Opens the ledger for a command that only reads and needs one (`status`, `tokens
    /// list`): a missing ledger is an error naming the path (exit 1), never created.
    pub fn existing_ledger(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        let path = self.ledger_path(job);
        if !path.exists() {
            return Err(fail(format!(
                "the ledger {} does not exist (check --ledger, WXPROV_LEDGER or the job file's `ledger`)",
                path.display()
            )));
        }
        Ok(Ledger::open(&path)?)
    }

    /// Opens the ledger for a command that only reads and can do without one (`plan`,
    /// `categories`, `quota`, `links`): a missing ledger is read as empty and not created.
    pub fn ledger_or_empty(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        let path = self.ledger_path(job);
        if path.exists() {
            return Ok(Ledger::open(&path)?);
        }
        tracing::info!("the ledger {} does not exist: read as empty (and not created)", path.display());
        Ok(Ledger::empty_in_memory(&path)?)
    }

    /// The API for this command, on `ledger`. In a rehearsal, starts the simulator with the
    /// example fixture and its state kept beside the real ledger (`LEDGER.sim.json`, so that
    /// rehearsals of one job share a simulated world), uses the fixture's credentials, and
    /// stores the fixture's refresh tokens and permission sets the (rehearsal) ledger lacks.
    pub async fn api(
        &mut self,
        job: Option<&JobFile>,
        ledger: &Ledger,
        run_id: Option<String>,
        options: CallOptions,
    ) -> anyhow::Result<Api> {
        let setup = self.setup(job).clone();
        let secrets = self.secrets(job)?;
        let creds = ComponentCreds {
            appid: secrets.component_appid.clone().unwrap_or_default(),
            secret: secrets.component_secret.clone(),
            verify_ticket: secrets.verify_ticket.clone(),
        };
        let url = if setup.rehearsal {
            let fixture = crate::sim::Fixture::example();
            let state_file = rehearsal::state_path(&setup.real_ledger);
            // A read-only command before the job's first rehearsal (`plan` on a fresh job) finds
            // no folder for the simulated world and must not create one: the simulator starts
            // from its fixture and keeps nothing.
            let folder = state_file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let keep = folder.is_dir();
            let opts = crate::sim::SimOptions { state_file: keep.then(|| state_file.clone()), ..Default::default() };
            let handle = crate::sim::start(fixture.clone(), opts, ([127, 0, 0, 1], 0).into())
                .await
                .map_err(|e| fail(format!("could not start the built-in simulator: {e:#}")))?;
            tracing::info!("using the built-in simulator at {} (not WeChat)", handle.url);
            if keep {
                tracing::info!(
                    "the built-in simulator keeps its state in {} (delete it together with {} to start over)",
                    state_file.display(),
                    setup.ledger.display()
                );
            } else {
                tracing::info!(
                    "the built-in simulator starts from its fixture and keeps no state ({} does not exist)",
                    folder.display()
                );
            }
            seed_sim_tokens(ledger, &fixture).await?;
            let url = handle.url.clone();
            self.sim = Some(handle);
            url
        } else {
            setup.api_base
        };
        let client = Client::new(&url, DEFAULT_TIMEOUT).map_err(|e| fail(format!("{e:#}")))?;
        let api = Api::new(client, ledger.clone(), creds, secrets.token_command.clone(), run_id, options);
        self.ledger = Some((ledger.clone(), api.calls.clone()));
        Ok(api)
    }

    /// Stops what the command started (the in-process simulator).
    pub async fn shutdown(&mut self) {
        if let Some((ledger, calls)) = self.ledger.take() {
            calls.flush();
            if let Err(e) = ledger.flush().await {
                tracing::warn!("could not write the last calls to the ledger: {e}");
            }
        }
        if let Some(sim) = self.sim.take() {
            sim.shutdown().await;
        }
    }
}

async fn seed_sim_tokens(ledger: &Ledger, fixture: &crate::sim::Fixture) -> anyhow::Result<()> {
    let mut seeded = 0;
    for (appid, refresh) in fixture.refresh_tokens() {
        if ledger.refresh_token(&appid).await?.is_none() {
            ledger.put_refresh_token(&appid, &Secret::new(refresh), "sim").await?;
            seeded += 1;
        }
    }
    if seeded > 0 {
        tracing::info!("stored {seeded} refresh tokens of the simulator's fixture in {}", ledger.path().display());
    }
    // And the permission sets its accounts granted, as a registration or `tokens recover`
    // would have learned them (what `check` reads).
    let known = ledger.all_permissions().await?;
    let unknown: Vec<_> = fixture.func_infos().into_iter().filter(|(appid, _)| !known.contains_key(appid)).collect();
    ledger.put_many_permissions(unknown, "sim").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn resolve(api_base: Option<&str>, job: Option<&JobFile>) -> Setup {
        let given = Given {
            api_base: api_base.map(str::to_string),
            ledger: Some(PathBuf::from("l/wxprov.db")),
            report_dir: Some(PathBuf::from("reports")),
        };
        Setup::resolve(&given, job)
    }

    #[test]
    fn a_rehearsal_gets_its_own_ledger_and_report_folder() {
        let setup = resolve(Some("sim"), None);
        assert!(setup.rehearsal);
        assert_eq!(setup.ledger, Path::new("l/wxprov.db.sim.db"));
        assert_eq!(setup.real_ledger, Path::new("l/wxprov.db"));
        assert_eq!(setup.report_dir, Path::new("reports/rehearsal"));
    }

    #[test]
    fn the_flag_wins_over_the_job_file() {
        let job = JobFile { api_base: Some("sim".into()), ..JobFile::default() };
        assert!(resolve(None, Some(&job)).rehearsal);
        let real = resolve(Some("https://api.weixin.qq.com"), Some(&job));
        assert!(!real.rehearsal);
        assert_eq!(real.ledger, Path::new("l/wxprov.db"));
        assert_eq!(real.report_dir, Path::new("reports"));
    }
}
