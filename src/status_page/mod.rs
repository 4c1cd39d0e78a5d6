//! The status page (`wxprov serve --status-listen ADDR`, DESIGN §7): the fleet at a glance
//! for ops staff who look after thousands of mini-programs, in a browser, without a terminal
//! on the machine that runs wxprov — what `wxprov status` prints, plus the runs as a chart,
//! the calls per API and day against WeChat's quota and the verify ticket's age.
//!
//! It is its own listener, never the callback receiver's: that one faces WeChat and the
//! merchants on the public internet, this one faces the platform's own staff. So it starts on
//! loopback only unless `WXPROV_STATUS_TOKEN` is set, which it then asks for by HTTP Basic
//! auth ([`access`]: an address that guesses it wrong ten times in a minute is refused until
//! the minute ends); it answers only to the `Host` it was started for (a page on another site
//! cannot reach it by a name that resolves to it); and it shows only what the ledger holds
//! apart from the token store — no token, secret or key is ever read for it.
//!
//! One server-rendered HTML page ([`page`], written with maud, which escapes every value
//! spliced in: names, signatures, messages and hints come from sheets and WeChat) that
//! refreshes itself with `<meta http-equiv="refresh">`; no script at all, which its
//! Content-Security-Policy says too. The chart is inline SVG ([`chart`]). The ledger is read
//! through a read-only connection of its own ([`crate::ledger::FleetReader`]), one render at a
//! time, and at most one render every [`FRESH`]: while a run writes, the ledger changes at
//! every commit, and a page is shared by every request for that long, so any number of open
//! pages costs a run no more than one fetched every two seconds.

pub mod access;
pub mod chart;
pub mod page;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::ledger::{FleetReader, LedgerError};
use access::{Access, Refused};
use wechat_open::secret::Secret;

/// How often the page reloads itself, in seconds.
pub const REFRESH_SECS: u64 = 15;

/// How long a page is served again whatever the ledger did since: the most a page is behind
/// it (it reloads every [`REFRESH_SECS`]).
const FRESH: Duration = Duration::from_secs(2);

/// How long a page rendered at an unchanged ledger is served again (its ages and "in how
/// long" move with the clock, not only with the ledger).
const REUSE: Duration = Duration::from_secs(5);

/// What the status page is started with.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    /// The ledger it reads.
    pub ledger: PathBuf,
    /// The address it listens on (bound: with its real port).
    pub addr: SocketAddr,
    /// `WXPROV_STATUS_TOKEN`, asked for by HTTP Basic auth when set.
    pub token: Option<Secret>,
}

/// Why the status page will not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    /// Off loopback without a token.
    #[error(
        "the status page's address {addr} (from {given_by}) is not on loopback: set WXPROV_STATUS_TOKEN, which the page then asks for by HTTP Basic auth, or listen on 127.0.0.1"
    )]
    NoToken { addr: SocketAddr, given_by: String },
}

/// The rule for where the page may listen: loopback, or anywhere with a token.
pub fn check_exposure(addr: SocketAddr, source: &str, token: Option<&Secret>) -> Result<(), ExposureError> {
    if addr.ip().is_loopback() || token.is_some() {
        return Ok(());
    }
    Err(ExposureError::NoToken { addr, given_by: source.to_string() })
}

/// The page last rendered, and the reader that rendered it.
struct Renderer {
    ledger: PathBuf,
    reader: Option<FleetReader>,
    last: Option<Rendered>,
}

struct Rendered {
    data_version: i64,
    at: Instant,
    html: Arc<str>,
}

impl Renderer {
    /// The page now: the last one again when it is younger than [`FRESH`], or than
    /// [`REUSE`] with the ledger unchanged since; else rendered anew.
    fn page(&mut self) -> Result<Arc<str>, LedgerError> {
        if self.reader.is_none() {
            self.reader = Some(FleetReader::open(&self.ledger)?);
        }
        let reader = self.reader.as_mut().expect("opened above");
        if let Some(last) = self.last.as_ref().filter(|l| l.at.elapsed() < FRESH) {
            return Ok(last.html.clone());
        }
        let version = reader.data_version()?;
        if let Some(last) = self.last.as_ref().filter(|l| l.data_version == version && l.at.elapsed() < REUSE) {
            return Ok(last.html.clone());
        }
        let now = chrono::Utc::now();
        let fleet = reader.read(now.timestamp())?;
        let html: Arc<str> = page::render(&fleet, now, &self.ledger).into();
        self.last = Some(Rendered { data_version: version, at: Instant::now(), html: html.clone() });
        Ok(html)
    }
}

#[derive(Clone)]
struct Shared {
    access: Arc<Access>,
    renderer: Arc<Mutex<Renderer>>,
}

/// The status page's router: every path goes through the same checks.
pub fn router(options: &StatusOptions) -> Router {
    let shared = Shared {
        access: Arc::new(Access::new(options.addr, options.token.clone())),
        renderer: Arc::new(Mutex::new(Renderer { ledger: options.ledger.clone(), reader: None, last: None })),
    };
    Router::new().fallback(answer).with_state(shared)
}

/// Serves the page on `listener` until `shutdown` resolves.
pub async fn serve<F>(listener: tokio::net::TcpListener, options: StatusOptions, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let app = router(&options).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn answer(State(shared): State<Shared>, request: Request<Body>) -> Response {
    // Served by `serve`, every request has its peer; a router used on its own, none.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if let Err(refused) = shared.access.host(request.headers()) {
        return refusal(refused);
    }
    // Before the token: a browser asks for `/favicon.ico` with the same credentials, and a
    // mistyped token would count twice.
    if request.uri().path() != "/" {
        return plain(StatusCode::NOT_FOUND, "not found: the status page is at /");
    }
    if let Err(refused) = shared.access.token(request.headers(), peer) {
        return refusal(refused);
    }
    route(&shared, request.method()).await
}

async fn route(shared: &Shared, method: &Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "the status page only answers GET");
    }
    let renderer = shared.renderer.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let mut renderer = renderer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        renderer.page()
    })
    .await;
    match rendered {
        Ok(Ok(html)) => {
            let mut response = (StatusCode::OK, html.to_string()).into_response();
            secure(response.headers_mut(), "text/html; charset=utf-8");
            response
        }
        Ok(Err(e)) => {
            tracing::warn!("the status page could not read the ledger: {e}");
            plain(StatusCode::SERVICE_UNAVAILABLE, &format!("could not read the ledger: {e}"))
        }
        Err(e) => {
            tracing::warn!("the status page could not be rendered: {e}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the status page could not be rendered")
        }
    }
}

fn refusal(refused: Refused) -> Response {
    match refused {
        Refused::Host => plain(StatusCode::MISDIRECTED_REQUEST, "this status page does not answer to that Host"),
        Refused::Auth => {
            let mut response = plain(StatusCode::UNAUTHORIZED, "the status page needs WXPROV_STATUS_TOKEN");
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"wxprov status\", charset=\"UTF-8\""),
            );
            response
        }
        Refused::TooMany { retry_after_secs } => {
            let mut response = plain(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("too many wrong tokens from this address: try again in {retry_after_secs} s"),
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = (status, format!("{text}\n")).into_response();
    secure(response.headers_mut(), "text/plain; charset=utf-8");
    response
}

/// No script, no frame, no cache, no referrer: the page is data, and only for whoever asked.
fn secure(headers: &mut HeaderMap, content_type: &'static str) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
}
