//! A local, stateful simulator of the WeChat Open Platform endpoints a third-party platform
//! (第三方平台) uses to provision mini-programs (DESIGN §8).
//!
//! Nothing at WeChat can be called without a real platform, real accounts and real quotas that
//! do not come back, so wxprov's tests, its benchmark, the demo job and ops staff rehearsing a
//! sheet (`--api-base sim`) run against this instead. It is its own crate so that it depends
//! on the protocol ([`wechat_open`]) only, never on the tool it tests. It serves the
//! documented paths, answer shapes, rules and errcodes, starting from a [`Fixture`]; it
//! injects latency and faults ([`SimOptions`], `POST /__sim/faults`), records every call, and
//! offers a control API under `/__sim/` for the parts humans play (a merchant's scan, an
//! audit's end) and for looking inside (`GET /__sim/calls`, `/__sim/state`).
//!
//! Starting one on loopback with the example fixture and asking it for the platform's token,
//! with [`wechat_open`]'s client as a caller would:
//!
//! ```
//! use wechat_open::api::ApiComponentToken;
//! use wechat_open::client::{Client, DEFAULT_TIMEOUT};
//! use wechat_open::secret::Secret;
//! use wechat_sim::{start, Fixture, SimOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let fixture = Fixture::example();
//! let sim = start(fixture.clone(), SimOptions::default(), "127.0.0.1:0".parse()?).await?;
//! let client = Client::new(&sim.url, DEFAULT_TIMEOUT)?;
//! let platform = &fixture.component;
//! let request = ApiComponentToken {
//!     component_appid: platform.appid.clone(),
//!     component_appsecret: Secret::new(platform.secret.as_str()),
//!     component_verify_ticket: Secret::new(platform.verify_ticket.as_str()),
//! };
//! let answer = client.call(None, &request).await?;
//! assert_eq!(answer.expires_in, 7200);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layout, one concept per file:
//! - `fixture`: the JSON starting state and every key it takes ([`Fixture`]).
//! - `state`: the in-memory world behind one mutex.
//! - `api`: the pipeline every API call goes through (tokens, faults, quotas, log).
//! - `token`, `register`, `account`, `nickname`, `categories`, `media`: endpoint rules.
//! - `golive`: going live — templates, code, privacy, domains, audits and their quota, the
//!   release, ICP (one file each under `golive/`, with its own control endpoints).
//! - `faults`, `calllog`, `conn`: fault injection, the call log, cuttable connections.
//! - `control`, `push`: the `/__sim/` API, and the pushes it sends to a callback URL.
//! - `persist`: the state file that carries the world from one process to the next.
#![deny(missing_docs)]

mod account;
mod api;
mod calllog;
mod categories;
mod conn;
mod control;
mod error;
mod faults;
mod fixture;
mod golive;
mod media;
mod nickname;
mod persist;
mod push;
mod register;
mod state;
mod token;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State as AxState};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::Error;
pub use fixture::{ComponentFixture, Fixture};

use calllog::CallLog;
use conn::{ConnKill, KillableListener};
use faults::Faults;
use persist::Persist;
use state::State;

/// How the simulator misbehaves.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Every API response is delayed by this many milliseconds.
    pub latency_ms: u64,
    /// Probability (0–1) that an API call fails with −1, 45011, HTTP 502 or a dropped
    /// connection (chosen uniformly), before any effect. The token-issuing calls are spared.
    pub fault_rate: f64,
    /// Seeds the fault choices and the generated ids, for a reproducible run. (Ids made after
    /// loading a state file continue from the seed the file holds.)
    pub seed: Option<u64>,
    /// Keeps the world in this JSON file: loaded at start if it exists (instead of the
    /// fixture's accounts, tokens and counters; the fixture still gives the rules), written
    /// atomically, mode 0600, after every call that changed it and at shutdown. The call log
    /// and scheduled faults are not kept. See `persist`.
    pub state_file: Option<PathBuf>,
}

/// A running simulator.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT`: use as the API base.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// Ends audits whose time has come (`golive`).
    clock: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl SimHandle {
    /// Stops the server and waits (briefly) for it to finish. Dropping the handle stops it too.
    pub async fn shutdown(mut self) {
        self.clock.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut *task).await.is_err() {
            task.abort();
        }
        self.shared.save_now();
    }

    /// The state file, if the simulator keeps one.
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.shared.persist.as_ref().map(Persist::path)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.clock.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.shared.save_now();
    }
}

/// What the handlers share.
pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Mutex<Faults>,
    log: Mutex<CallLog>,
    opts: SimOptions,
    /// The state file, when there is one.
    persist: Option<Persist>,
    /// Follows `redirect_uri`s for `/__sim/scan` and `/__sim/rebind`.
    http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the simulator down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn lock_state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
    fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
    fn lock_log(&self) -> MutexGuard<'_, CallLog> {
        lock(&self.log)
    }

    /// Writes the state file if the state differs from it. Only the copy is made under the
    /// state lock; serializing and writing happen on a blocking thread. A failed write is
    /// logged: the call it follows has taken effect and is answered regardless.
    async fn save(self: &Arc<Self>) {
        let Some(persist) = &self.persist else { return };
        let (seq, snap) = persist.snapshot(&self.lock_state());
        let shared = Arc::clone(self);
        let written = tokio::task::spawn_blocking(move || match &shared.persist {
            Some(persist) => persist.write(seq, &snap),
            None => Ok(()),
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::warn!("saving the simulator's state failed: {e}"),
        }
    }

    /// [`Shared::save`], on the calling thread (at shutdown).
    fn save_now(&self) {
        let Some(persist) = &self.persist else { return };
        let (seq, snap) = persist.snapshot(&self.lock_state());
        if let Err(e) = persist.write(seq, &snap) {
            tracing::warn!("{e}");
        }
    }
}

/// Runs after every request, API or control: keeps the state file up to date before the
/// answer leaves, so a client never acts on an effect the file does not hold.
async fn save_after(AxState(shared): AxState<Arc<Shared>>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    shared.save().await;
    resp
}

fn router(shared: Arc<Shared>) -> Router {
    let mut r = Router::new();
    for ep in api::Endpoint::all() {
        r = r.route(ep.path(), any(api::serve_api));
    }
    r.route("/__sim/calls", get(control::get_calls).delete(control::clear_calls))
        .route("/__sim/state", get(control::get_state))
        .route("/__sim/tokens", get(control::get_tokens))
        .route("/__sim/faults", get(control::get_faults).post(control::add_faults).delete(control::clear_faults))
        .route("/__sim/expire", post(control::expire))
        .route("/__sim/revoke", post(control::revoke))
        .route("/__sim/authorize", post(control::authorize))
        .route("/__sim/scan", post(control::scan))
        .route("/__sim/rebind", post(control::rebind))
        .route("/__sim/audit", post(control::audit))
        .route("/__sim/category_audit", post(control::category_audit))
        .route("/__sim/quota", post(control::quota))
        .route("/__sim/verify_ticket", post(control::verify_ticket))
        .route("/__sim/ip_whitelist", post(control::ip_whitelist))
        .route("/__sim/push", post(push::push))
        .route("/__sim/template", post(golive::control::template))
        .route("/__sim/privacy_scan", post(golive::control::privacy_scan))
        .route("/__sim/code_audit", post(golive::control::code_audit))
        .route("/__sim/audit_quota", post(golive::control::audit_quota))
        .route("/__sim/icp", post(golive::control::icp))
        .route("/__sim/golive", post(golive::control::settings))
        .route("/__sim/callback", post(golive::control::set_callback).delete(golive::control::clear_callback))
        .route("/__sim/pushes", get(golive::control::pushes))
        .fallback(api::serve_api)
        .layer(DefaultBodyLimit::max(api::MAX_BODY))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), save_after))
        .with_state(shared)
}

/// Starts a simulator on `listen` (port 0 picks a free port) on the current tokio runtime and
/// returns at once.
///
/// With [`SimOptions::state_file`], the world comes from that file when it exists (an
/// unreadable or foreign file is an error saying so), and the file is written at once when it
/// does not, so that a folder that cannot hold it is found now rather than on the first call.
pub async fn start(fixture: Fixture, opts: SimOptions, listen: SocketAddr) -> Result<SimHandle, Error> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Error::HttpClient(e.to_string()))?;
    let mut state = State::new(fixture, opts.seed);
    let persist = match &opts.state_file {
        Some(path) => {
            let persist = Persist::new(path.clone());
            if persist::load(path, &mut state)? {
                persist.mark_written(&state);
            } else {
                let (seq, snap) = persist.snapshot(&state);
                persist.write(seq, &snap)?;
            }
            Some(persist)
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        faults: Mutex::new(Faults::new(opts.fault_rate, opts.seed)),
        log: Mutex::new(CallLog::default()),
        opts,
        persist,
        http,
    });
    let listen_error = |error| Error::Listen { addr: listen, error };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let app = router(Arc::clone(&shared)).into_make_service_with_connect_info::<ConnKill>();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(KillableListener(listener), app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!("simulator stopped: {e}");
        }
    });
    let shown = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        ip if ip.is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    let clock = golive::control::start_clock(&shared);
    Ok(SimHandle { url: format!("http://{shown}"), stop: Some(stop), task, clock, shared })
}
