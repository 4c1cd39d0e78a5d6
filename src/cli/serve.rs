//! `wxprov serve`: runs the callback receiver (DESIGN §7) until stopped, so that the tickets
//! merchants' scans produce, the component verify ticket and the review outcomes reach the
//! ledger without anyone copying them by hand.

use std::io::Write;
use std::net::SocketAddr;

use super::Context;
use crate::callback::server::{self, ServeOptions, ServerState};
use crate::exit::{fail, usage, Exit};
use crate::status_page::{self, StatusOptions};
use crate::wechat::CallOptions;

/// Run the callback receiver
///
/// Prints `wxprov serve listening on URL` once it accepts requests, then serves until
/// interrupted (Ctrl-C or SIGTERM). Routes: GET /callback/fastregister and /callback/rebind
/// (the redirect_uri of `wxprov links`), POST /callback/component (authorization events) and
/// /callback/events[/APPID] (mini-program messages). The encrypted routes need WXPROV_TOKEN,
/// WXPROV_ENCODING_AES_KEY and WXPROV_COMPONENT_APPID; without them they answer 503.
///
/// With --status-listen it also serves the status page (the ledger at a glance, in a
/// browser) on that second address, printing `wxprov serve status page on URL`. Off loopback
/// it needs WXPROV_STATUS_TOKEN, which the page then asks for by HTTP Basic auth.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file (or manifest) whose ledger (and `status_listen`) to use
    job: Option<std::path::PathBuf>,
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// How far a push's timestamp may be from this host's clock, in seconds; a push taken
    /// with more than 300 s is logged as a warning about the clock
    #[arg(long, default_value_t = crate::callback::replay::DEFAULT_MAX_SKEW_SECS, value_name = "SECS",
          value_parser = clap::value_parser!(i64).range(1..=86_400))]
    max_skew: i64,
    /// Also serve the status page on this address (never the callback listener's; port 0
    /// picks a free one) [default: none, or the job file's `status_listen`]
    #[arg(long, env = "WXPROV_STATUS_LISTEN", value_name = "ADDR")]
    pub status_listen: Option<String>,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = args.job.as_deref().map(|j| ctx.load_job(j)).transpose()?;
    let settings = ctx.settings(job.as_ref())?;
    // Refused before anything is opened or bound: a page off loopback needs its token.
    if let Some(addr) = &settings.status_listen {
        status_page::check_exposure(addr.value, &addr.source.to_string(), settings.status_token.as_ref())
            .map_err(|e| usage(e.to_string()))?;
    }
    let status = settings.status_listen.as_ref().map(|a| (a.value, settings.status_token.clone()));
    let ledger = ctx.open_ledger(job.as_ref())?;
    let ledger_path = ledger.path().to_path_buf();
    let secrets = ctx.settings(None)?.secrets.clone();
    // With the platform's secret, the codes of `authorized` / `updateauthorized` are
    // exchanged at once; without it they are recorded only.
    let api = match secrets.component_secret.is_some() || secrets.token_command.is_some() {
        true => Some(std::sync::Arc::new(ctx.api(None, &ledger, None, CallOptions::default()).await?)),
        false => {
            tracing::warn!(
                "WXPROV_COMPONENT_SECRET not set: authorization codes pushed to serve are recorded, not exchanged"
            );
            None
        }
    };
    let options = ServeOptions { max_skew_secs: args.max_skew, api };
    let state = ServerState::from_secrets(ledger, &secrets, options).map_err(|e| fail(e.to_string()))?;
    if !state.missing().is_empty() {
        tracing::warn!(
            "{} not set: the encrypted routes (/callback/component, /callback/events) answer 503 until they are",
            state.missing().join(", ")
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| fail(format!("cannot listen on {}: {e}", args.listen)))?;
    let local = listener.local_addr()?;
    let status = match status {
        Some((addr, token)) => {
            let status_listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| fail(format!("cannot listen on {addr} for the status page: {e}")))?;
            let addr = status_listener.local_addr()?;
            Some((status_listener, StatusOptions { ledger: ledger_path, addr, token }))
        }
        None => None,
    };
    println!("wxprov serve listening on http://{local}");
    let status_task = status.map(|(status_listener, options)| {
        println!("wxprov serve status page on http://{}/", options.addr);
        tokio::spawn(status_page::serve(status_listener, options, super::sim::shutdown_signal()))
    });
    std::io::stdout().flush()?;
    server::serve(listener, state, super::sim::shutdown_signal())
        .await
        .map_err(|e| fail(format!("the callback receiver stopped: {e}")))?;
    tracing::info!("callback receiver stopped");
    if let Some(task) = status_task {
        match task.await {
            Ok(Ok(())) => tracing::info!("status page stopped"),
            Ok(Err(e)) => return Err(fail(format!("the status page stopped: {e}"))),
            Err(e) => return Err(fail(format!("the status page stopped: {e}"))),
        }
    }
    Ok(Exit::Ok)
}
