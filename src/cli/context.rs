//! What every command shares: the common options, the secrets, the ledger and the API
//! client, opened only when a command needs them. `--api-base sim` starts the built-in
//! simulator here, in-process, so any command can be rehearsed without WeChat.

use std::path::PathBuf;

use super::GlobalOpts;
use crate::config::{JobFile, Secrets, DEFAULT_API_BASE};
use crate::exit::fail;
use crate::ledger::Ledger;
use crate::secret::Secret;
use crate::wechat::{client::DEFAULT_TIMEOUT, Api, CallLog, CallOptions, Client, ComponentCreds};

/// Shared state of one command.
pub struct Context {
    pub global: GlobalOpts,
    pub secrets: Secrets,
    sim: Option<crate::sim::SimHandle>,
    /// The ledger the API writes its call log to, and the call log, flushed at the end.
    ledger: Option<(Ledger, CallLog)>,
}

impl Context {
    pub fn new(global: GlobalOpts) -> anyhow::Result<Context> {
        Ok(Context { global, secrets: Secrets::from_env()?, sim: None, ledger: None })
    }

    /// The ledger path: the flag or `WXPROV_LEDGER`, else the job file's, else `wxprov.db`.
    pub fn ledger_path(&self, job: Option<&JobFile>) -> PathBuf {
        self.global
            .ledger
            .clone()
            .or_else(|| job.and_then(|j| j.ledger.clone()))
            .unwrap_or_else(|| PathBuf::from("wxprov.db"))
    }

    /// The report folder: the flag, else the job file's, else `reports`.
    pub fn report_dir(&self, job: Option<&JobFile>) -> PathBuf {
        self.global
            .report_dir
            .clone()
            .or_else(|| job.and_then(|j| j.report_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("reports"))
    }

    /// Opens the ledger.
    pub fn open_ledger(&self, job: Option<&JobFile>) -> anyhow::Result<Ledger> {
        Ok(Ledger::open(&self.ledger_path(job))?)
    }

    /// The API for this command, on `ledger`. With `--api-base sim`, starts the simulator
    /// with the example fixture and its state kept next to the ledger (`<ledger>.sim.json`,
    /// so that runs which share a ledger share a simulated world), takes the platform's
    /// credentials from the fixture where the environment gives none, and stores the
    /// fixture's refresh tokens the ledger lacks.
    pub async fn api(
        &mut self,
        job: Option<&JobFile>,
        ledger: &Ledger,
        run_id: Option<String>,
        options: CallOptions,
    ) -> anyhow::Result<Api> {
        let base = self
            .global
            .api_base
            .clone()
            .or_else(|| job.and_then(|j| j.api_base.clone()))
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let mut creds = ComponentCreds {
            appid: self.secrets.component_appid.clone().unwrap_or_default(),
            secret: self.secrets.component_secret.clone(),
            verify_ticket: self.secrets.verify_ticket.clone(),
        };
        let url = if base == "sim" {
            let fixture = crate::sim::Fixture::example();
            let state_file = sim_state_path(ledger.path());
            let opts = crate::sim::SimOptions { state_file: Some(state_file.clone()), ..Default::default() };
            let handle = crate::sim::start(fixture.clone(), opts, ([127, 0, 0, 1], 0).into())
                .await
                .map_err(|e| fail(format!("could not start the built-in simulator: {e:#}")))?;
            tracing::info!("using the built-in simulator at {} (not WeChat)", handle.url);
            tracing::info!(
                "the built-in simulator keeps its state in {} (delete it together with the ledger to start over)",
                state_file.display()
            );
            if creds.appid.is_empty() {
                creds.appid = fixture.component.appid.clone();
            }
            creds.secret.get_or_insert_with(|| Secret::new(fixture.component.secret.clone()));
            creds.verify_ticket.get_or_insert_with(|| Secret::new(fixture.component.verify_ticket.clone()));
            seed_sim_tokens(ledger, &fixture).await?;
            let url = handle.url.clone();
            self.sim = Some(handle);
            url
        } else {
            base
        };
        let client = Client::new(&url, DEFAULT_TIMEOUT).map_err(|e| fail(format!("{e:#}")))?;
        let api = Api::new(client, ledger.clone(), creds, self.secrets.token_command.clone(), run_id, options);
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

/// Where the in-process simulator keeps its world: next to the ledger, named after it.
fn sim_state_path(ledger: &std::path::Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".sim.json");
    PathBuf::from(name)
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
        tracing::info!("stored {seeded} refresh tokens of the simulator's fixture in the ledger");
    }
    Ok(())
}
