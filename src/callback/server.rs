//! The callback receiver's HTTP server (DESIGN §7): its shared state, its routes, and how it
//! serves until told to stop.
//!
//! It is a library piece, not only a command, so that tests and the load benchmark can run
//! the very router `wxprov serve` runs: [`router`] builds it from a [`ServerState`], [`serve`]
//! runs it on a listener until a shutdown future resolves. The routes themselves live in
//! [`redirect`](super::redirect) (the merchant's browser coming back with a ticket) and
//! [`push`](super::push) (WeChat's encrypted pushes).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;

use super::link_state::LinkKey;
use super::refusal::Refusal;
use super::replay::ReplayGuard;
use crate::config::Secrets;
use crate::ledger::{CallbackOutcome, Ledger, LedgerError};
use wechat_open::crypto::MsgCrypt;
use wechat_open::event::MAX_BODY;

/// The environment variables the encrypted routes need.
const CRYPTO_VARS: [&str; 3] = ["WXPROV_TOKEN", "WXPROV_ENCODING_AES_KEY", "WXPROV_COMPONENT_APPID"];

/// Why the receiver cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServeConfigError {
    /// The EncodingAESKey is malformed (the message never shows it).
    #[error("WXPROV_ENCODING_AES_KEY is invalid: {0}")]
    BadKey(&'static str),
}

/// What `wxprov serve`'s flags add to a receiver.
#[derive(Clone)]
pub struct ServeOptions {
    /// How far a push's timestamp may be from now, in seconds (`--max-skew`).
    pub max_skew_secs: i64,
    /// The API `authorized` / `updateauthorized` codes are exchanged through; without it
    /// they are only recorded.
    pub api: Option<Arc<crate::wechat::Api>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { max_skew_secs: super::replay::DEFAULT_MAX_SKEW_SECS, api: None }
    }
}

/// What every request handler shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct ServerState {
    inner: Arc<Shared>,
}

struct Shared {
    ledger: Ledger,
    crypt: Option<MsgCrypt>,
    missing: Vec<&'static str>,
    replay: ReplayGuard,
    /// The links' HMAC key, read from the ledger (or created there) on first use.
    link_key: tokio::sync::OnceCell<LinkKey>,
    api: Option<Arc<crate::wechat::Api>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("ledger", &self.ledger).field("missing", &self.missing).finish_non_exhaustive()
    }
}

impl ServerState {
    /// A receiver on `ledger` with the default options; without `crypt` the encrypted
    /// routes answer 503.
    pub fn new(ledger: Ledger, crypt: Option<MsgCrypt>) -> ServerState {
        let missing = if crypt.is_some() { Vec::new() } else { CRYPTO_VARS.to_vec() };
        ServerState::build(ledger, crypt, missing, ServeOptions::default())
    }

    fn build(
        ledger: Ledger,
        crypt: Option<MsgCrypt>,
        missing: Vec<&'static str>,
        options: ServeOptions,
    ) -> ServerState {
        let replay = ReplayGuard::new(options.max_skew_secs);
        let link_key = tokio::sync::OnceCell::new();
        ServerState { inner: Arc::new(Shared { ledger, crypt, missing, replay, link_key, api: options.api }) }
    }

    /// A receiver configured from the environment's secrets. Missing variables leave the
    /// encrypted routes unconfigured (see [`ServerState::missing`]); a malformed
    /// EncodingAESKey is an error.
    pub fn from_secrets(
        ledger: Ledger,
        secrets: &Secrets,
        options: ServeOptions,
    ) -> Result<ServerState, ServeConfigError> {
        let mut missing = Vec::new();
        if secrets.token.is_none() {
            missing.push(CRYPTO_VARS[0]);
        }
        if secrets.encoding_aes_key.is_none() {
            missing.push(CRYPTO_VARS[1]);
        }
        if secrets.component_appid.is_none() {
            missing.push(CRYPTO_VARS[2]);
        }
        // A key given is checked even when another variable is missing: a typo should stop
        // the start, not surface when the last variable is added.
        if let Some(key) = &secrets.encoding_aes_key {
            MsgCrypt::new("", key.expose(), "").map_err(bad_key)?;
        }
        let crypt = match (&secrets.token, &secrets.encoding_aes_key, &secrets.component_appid) {
            (Some(token), Some(key), Some(appid)) => {
                Some(MsgCrypt::new(token.expose(), key.expose(), appid).map_err(bad_key)?)
            }
            _ => None,
        };
        Ok(ServerState::build(ledger, crypt, missing, options))
    }

    /// The environment variables whose absence leaves the encrypted routes unconfigured.
    pub fn missing(&self) -> &[&'static str] {
        &self.inner.missing
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// The keys of the encrypted routes, or why there are none.
    pub(crate) fn crypt(&self) -> Result<&MsgCrypt, Refusal> {
        self.inner.crypt.as_ref().ok_or_else(|| Refusal::NotConfigured(self.inner.missing.join(", ")))
    }

    pub(crate) fn replay(&self) -> &ReplayGuard {
        &self.inner.replay
    }

    /// The API authorization codes are exchanged through, if configured.
    pub(crate) fn api(&self) -> Option<&crate::wechat::Api> {
        self.inner.api.as_deref()
    }

    /// The key the links' `state` is verified with.
    pub(crate) async fn link_key(&self) -> Result<&LinkKey, LedgerError> {
        self.inner.link_key.get_or_try_init(|| LinkKey::of(&self.inner.ledger)).await
    }

    /// Logs a refusal (path, reason, peer; never the body or a secret) and records it in
    /// the ledger. A ledger failure here is logged and otherwise ignored: the refusal is
    /// answered either way.
    pub(crate) async fn refuse(&self, path: &str, kind: &str, appid: Option<&str>, peer: Peer, refusal: &Refusal) {
        let reason = refusal.to_string();
        tracing::warn!(path, peer = %peer, status = refusal.status().as_u16(), "callback refused: {reason}");
        if let Err(e) = self.ledger().record_callback(path, kind, appid, CallbackOutcome::Refused, Some(&reason)).await
        {
            tracing::error!(path, "could not record a refused callback in the ledger: {e}");
        }
    }
}

fn bad_key(e: wechat_open::crypto::CryptoError) -> ServeConfigError {
    match e {
        wechat_open::crypto::CryptoError::BadKey(why) => ServeConfigError::BadKey(why),
        _ => ServeConfigError::BadKey("it is not a valid EncodingAESKey"),
    }
}

/// The peer's address, when the server was started with connection info.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

/// The receiver's routes, with the 64 KB body limit.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route(super::redirect::FASTREGISTER_PATH, get(super::redirect::fastregister))
        .route(super::redirect::REBIND_PATH, get(super::redirect::rebind))
        .route(super::push::COMPONENT_PATH, post(super::push::component))
        .route(super::push::EVENTS_PATH, post(super::push::events))
        .route(super::push::EVENTS_FOR_PATH, post(super::push::events_for))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves the receiver on `listener` until `shutdown` resolves, then lets requests in
/// flight finish.
pub async fn serve<F>(listener: tokio::net::TcpListener, state: ServerState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_open::secret::Secret;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn ledger() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        (dir, ledger)
    }

    #[tokio::test]
    async fn configuration_from_secrets() {
        let (_dir, ledger) = ledger();
        let none = ServerState::from_secrets(ledger.clone(), &Secrets::default(), ServeOptions::default()).unwrap();
        assert_eq!(none.missing(), CRYPTO_VARS);
        assert!(matches!(none.crypt(), Err(Refusal::NotConfigured(ref v)) if v.contains("WXPROV_TOKEN")));

        let all = Secrets {
            token: Some(Secret::new("tok")),
            encoding_aes_key: Some(Secret::new(KEY)),
            component_appid: Some("wxcomp".into()),
            ..Secrets::default()
        };
        let state = ServerState::from_secrets(ledger.clone(), &all, ServeOptions::default()).unwrap();
        assert!(state.missing().is_empty());
        assert_eq!(state.crypt().unwrap().appid(), "wxcomp");

        let bad = Secrets { encoding_aes_key: Some(Secret::new("short-key")), ..Secrets::default() };
        let err = ServerState::from_secrets(ledger, &bad, ServeOptions::default()).unwrap_err();
        assert!(!err.to_string().contains("short-key"), "{err}");
    }
}
