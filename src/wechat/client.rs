//! The HTTP client: sends one typed request, reads WeChat's answer, and turns every failure
//! into an [`ApiError`] that says which class it belongs to and whether the call may have
//! taken effect.
//!
//! WeChat answers errors with HTTP 200 and an `errcode`; we check it before parsing the
//! typed response. Tokens go in the query string, so no error text here ever includes the
//! URL: reqwest errors are stripped with `without_url`, and anything else passes through
//! [`crate::secret::redact`].

use std::time::Duration;

use serde_json::Value;

use super::api::{Endpoint, MediaUploaded, Method, TokenKind, MEDIA_UPLOAD_PATH};
use super::errcode::{self, ErrClass};
use crate::image::Image;
use crate::secret::{redact, Secret};

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// WeChat answered with a non-zero errcode.
    #[error("{api}: errcode {code} ({zh}): {message}", zh = errcode::lookup(*code).map(|e| e.zh).unwrap_or("unknown errcode"))]
    WeChat { api: String, code: i64, message: String },
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
}

impl ApiError {
    /// What the runner does about this error (DESIGN §5).
    pub fn class(&self) -> ErrClass {
        match self {
            ApiError::WeChat { code, .. } => errcode::class_of(*code),
            ApiError::Http { status, .. } if *status >= 500 => ErrClass::Retry,
            ApiError::Http { .. } => ErrClass::Human,
            ApiError::Timeout { .. } | ApiError::Connection { .. } => ErrClass::Retry,
            ApiError::Decode { .. } | ApiError::Token(_) => ErrClass::Human,
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
            ApiError::Token(_) => false,
        }
    }

    /// The catalogue's hint for ops staff, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        self.errcode().and_then(errcode::lookup).map(|e| e.hint)
    }
}

/// Sends typed requests to one WeChat API base URL.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Parsed once; each request's URL is a copy with its path and query set.
    base_url: reqwest::Url,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base_url.as_str()).finish()
    }
}

/// How long one call may take before it counts as timed out.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("wxprov/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, base_url: parsed })
    }

    /// Sends `req` with `token` (ignored for endpoints that take none) and parses the answer.
    pub async fn call<E: Endpoint>(&self, token: Option<&Secret>, req: &E) -> Result<E::Response, ApiError> {
        let url = self.url(E::PATH, E::TOKEN, token);
        let builder = match E::METHOD {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url).json(req),
        };
        let bytes = self.send(E::PATH, builder).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode { api: E::PATH.to_string(), detail: e.to_string() })
    }

    /// Uploads an image as temporary media (`type=image`, multipart field `media`).
    pub async fn upload_media(&self, token: &Secret, image: &Image) -> Result<MediaUploaded, ApiError> {
        let mut url = self.url(MEDIA_UPLOAD_PATH, TokenKind::Authorizer, Some(token));
        url.query_pairs_mut().append_pair("type", "image");
        let part = reqwest::multipart::Part::bytes(image.bytes.clone())
            .file_name(image.file_name.clone())
            .mime_str(image.kind.mime())
            .map_err(|e| ApiError::Decode {
                api: MEDIA_UPLOAD_PATH.to_string(),
                detail: e.without_url().to_string(),
            })?;
        let form = reqwest::multipart::Form::new().part("media", part);
        let bytes = self.send(MEDIA_UPLOAD_PATH, self.http.post(url).multipart(form)).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Decode { api: MEDIA_UPLOAD_PATH.to_string(), detail: e.to_string() })
    }

    fn url(&self, path: &str, kind: TokenKind, token: Option<&Secret>) -> reqwest::Url {
        let mut url = self.base_url.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{prefix}{path}"));
        if let Some(key) = kind.query_key() {
            url.query_pairs_mut().append_pair(key, token.map(Secret::expose).unwrap_or_default());
        }
        url
    }

    /// Sends the request and returns the answer's bytes once its `errcode` is known to be 0.
    async fn send(&self, api: &str, builder: reqwest::RequestBuilder) -> Result<bytes::Bytes, ApiError> {
        let response = builder.send().await.map_err(|e| transport_error(api, e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ApiError::Http { api: api.to_string(), status: status.as_u16() });
        }
        let bytes = response.bytes().await.map_err(|e| transport_error(api, e))?;
        // Only the envelope first (other fields are skipped, not built): the typed answer is
        // parsed from the same bytes once the errcode says it is one.
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(default)]
            errcode: Option<Value>,
            #[serde(default)]
            errmsg: Option<Value>,
        }
        let head: Envelope = serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
            api: api.to_string(),
            detail: format!("not JSON ({e}): {}", redact(&String::from_utf8_lossy(&bytes[..bytes.len().min(200)]))),
        })?;
        let code = head.errcode.as_ref().map(errcode_of).unwrap_or(0);
        if code != 0 {
            let message = head.errmsg.as_ref().and_then(Value::as_str).unwrap_or_default();
            return Err(ApiError::WeChat { api: api.to_string(), code, message: redact(message) });
        }
        Ok(bytes)
    }
}

fn errcode_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => s.trim().parse().unwrap_or(-1),
        _ => 0,
    }
}

/// A reqwest error, without its URL (which carries the token), classified.
fn transport_error(api: &str, err: reqwest::Error) -> ApiError {
    let sent = !err.is_connect();
    let api = api.to_string();
    if err.is_timeout() {
        return ApiError::Timeout { api, sent };
    }
    let err = err.without_url();
    // The top-level text is terse ("error sending request"); the causes say what happened
    // ("connection closed before message completed").
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    ApiError::Connection { api, sent, detail: redact(&detail) }
}
