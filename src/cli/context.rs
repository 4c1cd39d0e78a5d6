//! What every command shares: the resolved settings, the ledger and the API client, opened
//! only when a command needs them.
//!
//! What a command works on is resolved once, into [`Settings`] (see [`super::settings`]),
//! from the options, the environment and the job file — first of all whether it is a
//! rehearsal (`--api-base sim`, see [`super::rehearsal`]), since its ledger, reports,
//! credentials and API all follow from that. A rehearsal starts the built-in simulator here,
//! in-process.

use std::path::Path;
use std::sync::OnceLock;

use super::settings::{Given, Settings};
use super::{rehearsal, GlobalOpts};
use crate::config::JobFile;
use crate::exit::fail;
use crate::ledger::Ledger;
use crate::wechat::{Api, CallOptions};
use wechat_open::secret::Secret;
use wechat_open::{client::DEFAULT_TIMEOUT, tokens::ComponentCreds, CallLog, Client};

/// Shared state of one command.
pub struct Context {
    pub global: GlobalOpts,
    settings: OnceLock<Settings>,
    sim: Option<wechat_sim::SimHandle>,
    /// The ledger the API writes its call log to, and the call log, flushed at the end.
    ledger: Option<(Ledger, CallLog)>,
}

impl Context {
    pub fn new(global: GlobalOpts) -> anyhow::Result<Context> {
        Ok(Context { global, settings: OnceLock::new(), sim: None, ledger: None })
    }

    /// Reads the job (a job file or a manifest given directly) and resolves from it what
    /// the command works on ([`Context::settings`]), before anything is logged about it.
    pub fn load_job(&self, arg: &std::path::Path) -> anyhow::Result<JobFile> {
        let job = JobFile::from_arg(arg)?;
        self.settings(Some(&job))?;
        Ok(job)
    }

    /// What this command works on. Resolved at the first call, from the job given then (every
    /// command has at most one); later calls get the same answer. A bad value is a usage
    /// error naming where it came from.
    pub fn settings(&self, job: Option<&JobFile>) -> anyhow::Result<&Settings> {
        if let Some(settings) = self.settings.get() {
            return Ok(settings);
        }
        let given: &Given = &self.global.given;
        let settings = Settings::resolve(given, job, &|name| std::env::var(name).ok())?;
        if settings.rehearsal() {
            rehearsal::mark();
            tracing::info!(
                "rehearsal on the built-in simulator: ledger {}, reports in {}; no WXPROV_* secret or token \
                 command is used, and the real ledger {} is never opened",
                settings.ledger.display(),
                settings.report_dir.display(),
                settings.real_ledger.value.display()
            );
        }
        Ok(self.settings.get_or_init(|| settings))
    }

    /// Opens the ledger, creating it if need be: for the commands that write.
    pub fn open_ledger(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        Ok(Ledger::open(&self.settings(job)?.ledger)?)
    }

    /// Opens the ledger for a command that only reads and needs one (`status`, `tokens
    /// list`): a missing ledger is an error naming the path (exit 1), never created.
    pub fn existing_ledger(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        let path = &self.settings(job)?.ledger;
        if !path.exists() {
            return Err(fail(format!(
                "the ledger {} does not exist (check --ledger, WXPROV_LEDGER or the job file's `ledger`)",
                path.display()
            )));
        }
        Ok(Ledger::open(path)?)
    }

    /// Opens the ledger for a command that only reads and can do without one (`plan`,
    /// `categories`, `quota`, `links`): a missing ledger is read as empty and not created.
    pub fn ledger_or_empty(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        let path = &self.settings(job)?.ledger;
        if path.exists() {
            return Ok(Ledger::open(path)?);
        }
        tracing::info!("the ledger {} does not exist: read as empty (and not created)", path.display());
        Ok(Ledger::empty_in_memory(path)?)
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
        let setup = self.settings(job)?.clone();
        let secrets = &setup.secrets;
        let creds = ComponentCreds {
            appid: secrets.component_appid.clone().unwrap_or_default(),
            secret: secrets.component_secret.clone(),
            verify_ticket: secrets.verify_ticket.clone(),
        };
        let url = if setup.rehearsal() {
            let fixture = wechat_sim::Fixture::example();
            let state_file = rehearsal::state_path(&setup.real_ledger.value);
            // A read-only command before the job's first rehearsal (`plan` on a fresh job) finds
            // no folder for the simulated world and must not create one: the simulator starts
            // from its fixture and keeps nothing.
            let folder = state_file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let keep = folder.is_dir();
            let opts = wechat_sim::SimOptions { state_file: keep.then(|| state_file.clone()), ..Default::default() };
            let handle = wechat_sim::start(fixture.clone(), opts, ([127, 0, 0, 1], 0).into())
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
            setup.api_base.value.as_str().to_string()
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
            // A halted ledger said so once, and the run's error says it again.
            if let Err(e) = ledger.flush().await {
                if ledger.failure().is_none() {
                    tracing::warn!("could not write the last calls to the ledger: {e}");
                }
            }
        }
        if let Some(sim) = self.sim.take() {
            sim.shutdown().await;
        }
    }
}

async fn seed_sim_tokens(ledger: &Ledger, fixture: &wechat_sim::Fixture) -> anyhow::Result<()> {
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
