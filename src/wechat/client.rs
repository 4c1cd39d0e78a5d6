//! The HTTP client: sends one typed request, reads WeChat's answer, and turns every failure
//! into an [`ApiError`] that says which class it belongs to and whether the call may have
//! taken effect.
//!
//! WeChat answers errors with HTTP 200 and an `errcode`; we check it before parsing the
//! typed response. Tokens go in the query string, so no error text ever includes the URL
//! (see [`super::transport`]), and WeChat's own messages pass through [`crate::secret::redact`].

use std::time::Duration;

use serde_json::Value;

use super::api::{Endpoint, MediaUploaded, Method, TokenKind, MEDIA_UPLOAD_PATH};
use super::errcode::{self, ErrClass};
use super::transport::{exchange_reqwest, Transport};
use crate::image::Image;
use crate::secret::{redact, Secret};

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// WeChat answered with a non-zero errcode to a call that carried `token`.
    #[error("{api}: errcode {code} ({zh}): {message}", zh = errcode::lookup_on(*code, *token).map(|e| e.zh).unwrap_or("unknown errcode"))]
    WeChat { api: String, code: i64, message: String, token: TokenKind },
    /// An HTTP status other than 200.
    #[error("{api}: HTTP status {status}")]
    Http { api: String, status: u16 },
    /// No answer in time. `sent` is false when the connection was never made.
    #[error("{api}: timed out{}", if *sent { " (the request may have taken effect)" } else { " while connecting" })]
    Timeout { api: String, sent: bool },
    /// The connection failed or dropped. `sent` is false when it was refused before sending.
    #[error("{api}: connection failed: {detail}")]
    Connection { api: String, sent: bool, detail: String },
    /// The answer was not the JSON the documents describe.
    #[error("{api}: unexpected answer: {detail}")]
    Decode { api: String, detail: String },
    /// No token could be had for the call (see the message for what to do).
    #[error("{0}")]
    Token(String),
    /// The platform's own setup is missing or unreadable (its appid, secret, verify ticket,
    /// the token store): nothing can be called, the run stops (`stop` class).
    #[error("{0}")]
    Setup(String),
    /// The ledger holds no refresh token for this authorizer: its steps are blocked until
    /// one is imported, recovered or pushed (`blocked` class).
    #[error("no refresh token for {appid}: import it with `wxprov tokens import FILE` or run `wxprov tokens recover`")]
    NoRefreshToken { appid: String },
    /// Not sent: the run was interrupted (SIGINT/SIGTERM) before the call started.
    #[error("{api}: not sent, the run was interrupted")]
    Interrupted { api: String },
}

impl ApiError {
    /// What the runner does about this error (DESIGN §5).
    pub fn class(&self) -> ErrClass {
        match self {
            ApiError::WeChat { code, token, .. } => errcode::class_on(*code, *token),
            ApiError::Http { status, .. } if *status >= 500 => ErrClass::Retry,
            ApiError::Http { .. } => ErrClass::Human,
            ApiError::Timeout { .. } | ApiError::Connection { .. } => ErrClass::Retry,
            // Interrupted: never a step's outcome, the runner leaves the step as it was (see `StepError`).
            ApiError::Decode { .. } | ApiError::Token(_) | ApiError::Interrupted { .. } => ErrClass::Human,
            ApiError::Setup(_) => ErrClass::Stop,
            ApiError::NoRefreshToken { .. } => ErrClass::Blocked,
        }
    }

    /// The errcode, for WeChat errors.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            ApiError::WeChat { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True when the request may have reached WeChat and taken effect although we have no
    /// answer: a state-changing call must then be reconciled, not resent blindly.
    pub fn uncertain(&self) -> bool {
        match self {
            // −1 "system busy" says nothing about whether the change was made.
            ApiError::WeChat { code, .. } => *code == -1,
            ApiError::Timeout { sent, .. } | ApiError::Connection { sent, .. } => *sent,
            ApiError::Http { status, .. } => *status >= 500,
            ApiError::Decode { .. } => true,
            ApiError::Token(_)
            | ApiError::Setup(_)
            | ApiError::NoRefreshToken { .. }
            | ApiError::Interrupted { .. } => false,
        }
    }

    /// The error and, when there is one, its hint, as one line for the person at the terminal.
    pub fn with_hint(&self) -> String {
        match self.hint() {
            Some(hint) => format!("{self} — {hint}"),
            None => self.to_string(),
        }
    }

    /// The hint for ops staff, when there is one: the catalogue's (naming the IP WeChat saw
    /// where the IP whitelist is the cause).
    pub fn hint(&self) -> Option<String> {
        match self {
            ApiError::WeChat { code, message, token, .. } => errcode::hint_for(*code, *token, message),
            ApiError::NoRefreshToken { .. } => Some(NO_REFRESH_TOKEN_HINT.to_string()),
            _ => None,
        }
    }
}

/// What to do about a missing refresh token.
pub const NO_REFRESH_TOKEN_HINT: &str = "wxprov holds no refresh token for this account. Run `wxprov \
    tokens recover` (it lists every authorizer of the platform), import one with `wxprov tokens \
    import FILE`, or have the merchant authorize the platform (`wxprov serve` stores the token \
    from WeChat's push); the next run continues the row with no sheet change.";

/// Sends typed requests to one WeChat API base URL.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    /// For multipart uploads (and, behind a proxy, everything: see [`Transport`]).
    http: reqwest::Client,
    /// The base URL without a trailing `/`; each request's URL is this, the path, the token.
    base: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).field("proxied", &self.transport.is_proxied()).finish()
    }
}

/// How long one call may take before it counts as timed out.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// A client for `base` (e.g. `https://api.weixin.qq.com`), with a per-request timeout.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Client> {
        let base = base.trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&base).map_err(|e| {
            anyhow::anyhow!("the API base URL {base:?} is not a URL ({e}); give one like https://api.weixin.qq.com")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("the API base URL {base:?} must start with http:// or https://");
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            anyhow::bail!("the API base URL {base:?} must not have a query or a fragment");
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(64)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::transport::USER_AGENT)
            .build()?;
        let transport = Transport::new(&parsed, &http, timeout, CONNECT_TIMEOUT);
        Ok(Client { transport, http, base: parsed.as_str().trim_end_matches('/').to_string() })
    }

    /// Sends `req` with `token` (ignored for endpoints that take none) and parses the answer.
    pub async fn call<E: Endpoint>(&self, token: Option<&Secret>, req: &E) -> Result<E::Response, ApiError> {
        let url = self.url(E::PATH, E::TOKEN, token);
        let body = match E::METHOD {
            Method::Get => Vec::new(),
            Method::Post => serde_json::to_vec(req)
                .map_err(|e| ApiError::Decode { api: E::PATH.to_string(), detail: e.to_string() })?,
        };
        let bytes = self.transport.send(E::PATH, E::METHOD, url, body).await?;
        checked(E::PATH, E::TOKEN, &bytes)?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode { api: E::PATH.to_string(), detail: e.to_string() })
    }

    /// Uploads an image as temporary media (`type=image`, multipart field `media`).
    pub async fn upload_media(&self, token: &Secret, image: &Image) -> Result<MediaUploaded, ApiError> {
        let url = self.url(MEDIA_UPLOAD_PATH, TokenKind::Authorizer, Some(token)) + "&type=image";
        let url = reqwest::Url::parse(&url).map_err(|e| ApiError::Connection {
            api: MEDIA_UPLOAD_PATH.to_string(),
            sent: false,
            detail: format!("the request URL is not valid: {e}"),
        })?;
        let part = reqwest::multipart::Part::bytes(image.bytes.clone())
            .file_name(image.file_name.clone())
            .mime_str(image.kind.mime())
            .map_err(|e| ApiError::Decode {
                api: MEDIA_UPLOAD_PATH.to_string(),
                detail: e.without_url().to_string(),
            })?;
        let form = reqwest::multipart::Form::new().part("media", part);
        let bytes = exchange_reqwest(MEDIA_UPLOAD_PATH, self.http.post(url).multipart(form)).await?;
        checked(MEDIA_UPLOAD_PATH, TokenKind::Authorizer, &bytes)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Decode { api: MEDIA_UPLOAD_PATH.to_string(), detail: e.to_string() })
    }

    /// The base, the path, and the token in the query (form-encoded).
    fn url(&self, path: &str, kind: TokenKind, token: Option<&Secret>) -> String {
        let mut url = String::with_capacity(self.base.len() + path.len() + 160);
        url.push_str(&self.base);
        url.push_str(path);
        if let Some(key) = kind.query_key() {
            url.push('?');
            url.push_str(key);
            url.push('=');
            url.extend(url::form_urlencoded::byte_serialize(token.map(Secret::expose).unwrap_or_default().as_bytes()));
        }
        url
    }
}

/// Fails unless the answer's `errcode` is 0 (or absent); `token` is what the call carried.
fn checked(api: &str, token: TokenKind, bytes: &[u8]) -> Result<(), ApiError> {
    // Only the envelope first (other fields are skipped, not built): the typed answer is
    // parsed from the same bytes once the errcode says it is one.
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errcode: Option<Value>,
        #[serde(default)]
        errmsg: Option<Value>,
    }
    let head: Envelope = serde_json::from_slice(bytes).map_err(|e| ApiError::Decode {
        api: api.to_string(),
        detail: format!("not JSON ({e}): {}", redact(&String::from_utf8_lossy(&bytes[..bytes.len().min(200)]))),
    })?;
    let code = head.errcode.as_ref().map(errcode_of).unwrap_or(0);
    if code != 0 {
        let message = head.errmsg.as_ref().and_then(Value::as_str).unwrap_or_default();
        return Err(ApiError::WeChat { api: api.to_string(), code, message: redact(message), token });
    }
    Ok(())
}

fn errcode_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => s.trim().parse().unwrap_or(-1),
        _ => 0,
    }
}
