//! The HTTP client: sends one typed request, reads WeChat's answer, and turns every failure
//! into an [`ApiError`] that says which class it belongs to and whether the call may have
//! taken effect.
//!
//! WeChat answers errors with HTTP 200 and an `errcode`; it is checked before the typed
//! answer is parsed. Tokens go in the query string, so no error text ever includes the URL
//! (see the transport), and WeChat's own messages pass through [`crate::secret::redact`].

use std::time::Duration;

use serde_json::Value;

use crate::api::{Endpoint, MediaUploaded, Method, MEDIA_UPLOAD_PATH};
use crate::error::ApiError;
use crate::golive::audit::{AuditMediaUploaded, UPLOAD_AUDIT_MEDIA_PATH};
use crate::golive::code::GetQrcode;
use crate::golive::privacy::{PrivacyExtFileUploaded, UPLOAD_PRIVACY_EXT_FILE_PATH};
use crate::image::ImageKind;
use crate::secret::{redact, Secret};
use crate::transport::{exchange_reqwest, Transport};
use crate::TokenKind;

/// A client that cannot be built: the API base URL is not one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(String);

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
    pub fn new(base: &str, timeout: Duration) -> Result<Client, ClientError> {
        let base = base.trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&base).map_err(|e| {
            ClientError(format!(
                "the API base URL {base:?} is not a URL ({e}); give one like https://api.weixin.qq.com"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError(format!("the API base URL {base:?} must start with http:// or https://")));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ClientError(format!("the API base URL {base:?} must not have a query or a fragment")));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(64)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(crate::transport::USER_AGENT)
            .build()
            .map_err(|e| ClientError(format!("the HTTP client could not be built: {e}")))?;
        let transport = Transport::new(&parsed, &http, timeout, CONNECT_TIMEOUT);
        Ok(Client { transport, http, base: parsed.as_str().trim_end_matches('/').to_string() })
    }

    /// Sends `req` with `token` (ignored for endpoints that take none) and parses the answer.
    pub async fn call<E: Endpoint>(&self, token: Option<&Secret>, req: &E) -> Result<E::Response, ApiError> {
        let mut url = self.url(E::PATH, E::token_key(), token);
        for (key, value) in req.query() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
            url.push('=');
            url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        let body = match E::METHOD {
            Method::Get => Vec::new(),
            Method::Post => serde_json::to_vec(req)
                .map_err(|e| ApiError::Decode { api: E::PATH.to_string(), detail: e.to_string() })?,
        };
        let bytes = self.transport.send(E::PATH, E::METHOD, url, body).await?;
        checked(E::PATH, E::TOKEN, &bytes).map_err(|e| match (e, E::refusal_detail(&bytes)) {
            (ApiError::WeChat { api, code, message, token }, Some(detail)) => {
                ApiError::WeChat { api, code, message: format!("{message} ({})", redact(&detail)), token }
            }
            (e, _) => e,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode { api: E::PATH.to_string(), detail: e.to_string() })
    }

    /// Uploads an image as temporary media (`type=image`, multipart field `media`), named
    /// `file_name`. Temporary media take no BMP ([`ImageKind::uploadable`]): convert one first.
    pub async fn upload_image(
        &self,
        token: &Secret,
        bytes: &[u8],
        file_name: &str,
        kind: ImageKind,
    ) -> Result<MediaUploaded, ApiError> {
        self.upload(token, MEDIA_UPLOAD_PATH, "&type=image", "media", bytes, file_name, kind.mime()).await
    }

    /// Uploads a picture or an mp4 for the reviewers (`/wxa/uploadmedia`, multipart field
    /// `media`: image ≤ 2 MB, video ≤ 10 MB), for `submit_audit`'s `preview_info` and
    /// `feedback_stuff`; `mime` is the file's type (`image/png`, `video/mp4`).
    pub async fn upload_audit_media(
        &self,
        token: &Secret,
        bytes: &[u8],
        file_name: &str,
        mime: &str,
    ) -> Result<AuditMediaUploaded, ApiError> {
        self.upload(token, UPLOAD_AUDIT_MEDIA_PATH, "", "media", bytes, file_name, mime).await
    }

    /// Uploads a custom privacy guide (`uploadprivacyextfile`, multipart field `file`, plain
    /// text ≤ 100 KB), for `owner_setting.ext_file_media_id`.
    pub async fn upload_privacy_ext_file(
        &self,
        token: &Secret,
        text: &str,
        file_name: &str,
    ) -> Result<PrivacyExtFileUploaded, ApiError> {
        self.upload(token, UPLOAD_PRIVACY_EXT_FILE_PATH, "", "file", text.as_bytes(), file_name, "text/plain").await
    }

    /// The trial version's QR code (`GET /wxa/get_qrcode`): the image's bytes. WeChat answers
    /// an image on success and JSON on failure; the transport gives the body only, so a body
    /// that opens as a JSON object is read as the envelope (its errcode checked), anything
    /// else is the image.
    pub async fn trial_qrcode(&self, token: &Secret, req: &GetQrcode) -> Result<Vec<u8>, ApiError> {
        let mut url = self.url(GetQrcode::PATH, TokenKind::Authorizer.query_key(), Some(token));
        for (key, value) in req.query() {
            url.push('&');
            url.push_str(key);
            url.push('=');
            url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        let bytes = self.transport.send(GetQrcode::PATH, Method::Get, url, Vec::new()).await?;
        if bytes.trim_ascii_start().first() == Some(&b'{') {
            checked(GetQrcode::PATH, TokenKind::Authorizer, &bytes)?;
            return Err(ApiError::Decode {
                api: GetQrcode::PATH.to_string(),
                detail: "a JSON answer with errcode 0 instead of the QR code's image".into(),
            });
        }
        Ok(bytes.to_vec())
    }

    /// Sends one file as multipart `field` to `path` (`extra` appended to the query) and reads
    /// the answer.
    #[allow(clippy::too_many_arguments)]
    async fn upload<T: for<'de> serde::Deserialize<'de>>(
        &self,
        token: &Secret,
        path: &'static str,
        extra: &str,
        field: &'static str,
        bytes: &[u8],
        file_name: &str,
        mime: &str,
    ) -> Result<T, ApiError> {
        let url = self.url(path, TokenKind::Authorizer.query_key(), Some(token)) + extra;
        let url = reqwest::Url::parse(&url).map_err(|e| ApiError::Connection {
            api: path.to_string(),
            sent: false,
            detail: format!("the request URL is not valid: {e}"),
        })?;
        let part = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(file_name.to_string())
            .mime_str(mime)
            .map_err(|e| ApiError::Decode { api: path.to_string(), detail: e.without_url().to_string() })?;
        let form = reqwest::multipart::Form::new().part(field, part);
        let bytes = exchange_reqwest(path, self.http.post(url).multipart(form)).await?;
        checked(path, TokenKind::Authorizer, &bytes)?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode { api: path.to_string(), detail: e.to_string() })
    }

    /// The base, the path, and the token in the query (form-encoded).
    fn url(&self, path: &str, key: Option<&str>, token: Option<&Secret>) -> String {
        let mut url = String::with_capacity(self.base.len() + path.len() + 160);
        url.push_str(&self.base);
        url.push_str(path);
        if let Some(key) = key {
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

/// An errcode as WeChat sends it: a number, or now and then a string.
fn errcode_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => s.trim().parse().unwrap_or(-1),
        _ => 0,
    }
}
