//! `wxprov sim`: runs the simulator of every WeChat endpoint wxprov uses (DESIGN §8) until
//! stopped, for tests, benchmarks, the demo job and rehearsing a sheet. It is a test double:
//! nothing uses it unless told to with `--api-base`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use wechat_sim::{Fixture, SimOptions};

use crate::exit::{usage, Exit};

/// Run the WeChat API simulator
///
/// Prints `wxprov sim listening on URL` once it accepts calls, then serves until interrupted.
/// State comes from a fixture file (see crates/wechat-sim/fixtures/example.json); control
/// endpoints under /__sim/ show the calls received, inject faults, play a merchant's scan and
/// more.
///
/// With --state FILE the simulated world outlives the process: it is loaded from FILE when
/// FILE exists (the fixture then only gives the platform's credentials, the category tree and
/// the rules), and written back (atomically, mode 0600) after every call that changed it and
/// at exit, so the next start finds the tokens, mini-programs and audits this one left. Delete
/// FILE to start over from the fixture.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Address to listen on (loopback by default; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    listen: SocketAddr,
    /// The world to start from when there is no --state file yet [default: the built-in example fixture]
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Delay every API answer by this many milliseconds
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Fail this share of API calls at random (−1, 45011, HTTP 502, dropped connection)
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    fault_rate: f64,
    /// Seed for the random faults, for repeatable runs
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Keep the simulated world in FILE across restarts (created if missing)
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    #[command(flatten)]
    pub log: super::LogOpts,
}

pub(super) async fn run(args: Args) -> anyhow::Result<Exit> {
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(usage("--fault-rate must be between 0 and 1"));
    }
    let fixture = match &args.fixture {
        Some(path) => Fixture::from_file(path).map_err(|e| usage(e.to_string()))?,
        None => Fixture::example(),
    };
    let opts = SimOptions {
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        seed: args.seed,
        state_file: args.state.clone(),
    };
    let handle = wechat_sim::start(fixture, opts, args.listen).await?;
    if let Some(path) = handle.state_file() {
        tracing::info!("the simulator keeps its state in {}", path.display());
    }
    if !args.listen.ip().is_loopback() {
        tracing::warn!("the simulator listens on {}, not loopback: anyone who can reach it can call it", args.listen);
    }
    println!("wxprov sim listening on {}", handle.url);
    std::io::stdout().flush()?;
    shutdown_signal().await;
    handle.shutdown().await;
    Ok(Exit::Ok)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
