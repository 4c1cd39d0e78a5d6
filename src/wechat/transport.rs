//! How a request reaches WeChat and its answer comes back: straight through hyper's connection
//! pool, or through reqwest when the environment names a proxy for the API base
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, less `NO_PROXY`; platforms often send their
//! calls out through one fixed, whitelisted address).
//!
//! Why not reqwest for every call: its redirect layer parses each request's URL twice and its
//! retry layer clones the request, so a call through it took 73,000 instructions against
//! 31,000 through hyper itself, which reqwest runs on (a keep-alive GET on loopback, counted
//! with callgrind) — the difference between missing and meeting the per-call overhead target
//! (README, "run (b)"). reqwest still carries the multipart uploads, which are rare.
//!
//! Errors never include the URL (it carries the token): hyper's do not, reqwest's are stripped
//! with `without_url`, and every detail passes through [`redact`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::api::Method;
use super::client::ApiError;
use crate::secret::redact;

type Direct = hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends requests; cheap to clone.
#[derive(Clone)]
pub enum Transport {
    /// hyper's client, over rustls for `https://`.
    Direct { client: Direct, timeout: Duration },
    /// reqwest, which honours the proxy settings of the environment.
    Proxied(reqwest::Client),
}

const USER_AGENT: &str = concat!("wxprov/", env!("CARGO_PKG_VERSION"));

impl Transport {
    /// The transport for `base`: `http` (already configured with the timeouts) when a proxy
    /// from the environment applies to it, hyper's own client otherwise.
    pub fn new(base: &url::Url, http: &reqwest::Client, timeout: Duration, connect_timeout: Duration) -> Transport {
        let proxied = base
            .as_str()
            .parse::<http::Uri>()
            .ok()
            .is_some_and(|uri| hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&uri).is_some());
        if proxied {
            return Transport::Proxied(http.clone());
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client =
            hyper_util::client::legacy::Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(https);
        Transport::Direct { client, timeout }
    }

    /// True when calls go through reqwest and a proxy.
    pub fn is_proxied(&self) -> bool {
        matches!(self, Transport::Proxied(_))
    }

    /// Sends one request to `url` (which holds the token: never shown) and returns the
    /// answer's status and body. `body` is JSON, for `POST`.
    pub async fn send(&self, api: &str, method: Method, url: String, body: Vec<u8>) -> Result<(u16, Bytes), ApiError> {
        match self {
            Transport::Direct { client, timeout } => {
                let exchange = async {
                    let mut request = http::Request::builder()
                        .uri(url)
                        .header(http::header::USER_AGENT, USER_AGENT)
                        .method(match method {
                            Method::Get => http::Method::GET,
                            Method::Post => http::Method::POST,
                        });
                    if method == Method::Post {
                        request = request.header(http::header::CONTENT_TYPE, "application/json");
                    }
                    let request = request.body(Full::new(Bytes::from(body))).map_err(|e| ApiError::Decode {
                        api: api.to_string(),
                        detail: format!("the request could not be built: {}", redact(&e.to_string())),
                    })?;
                    let response = client.request(request).await.map_err(|e| hyper_error(api, e))?;
                    let status = response.status().as_u16();
                    let bytes = response.into_body().collect().await.map_err(|e| ApiError::Connection {
                        api: api.to_string(),
                        sent: true,
                        detail: redact(&chain(&e)),
                    })?;
                    Ok((status, bytes.to_bytes()))
                };
                tokio::time::timeout(*timeout, exchange)
                    .await
                    .unwrap_or_else(|_| Err(ApiError::Timeout { api: api.to_string(), sent: true }))
            }
            Transport::Proxied(http) => {
                let url = reqwest::Url::parse(&url).map_err(|e| ApiError::Decode {
                    api: api.to_string(),
                    detail: format!("the request URL is not valid: {e}"),
                })?;
                let builder = match method {
                    Method::Get => http.get(url),
                    Method::Post => http.post(url).header(http::header::CONTENT_TYPE, "application/json").body(body),
                };
                exchange_reqwest(api, builder).await
            }
        }
    }
}

/// Sends a reqwest request and reads its answer (also how multipart uploads go).
pub async fn exchange_reqwest(api: &str, builder: reqwest::RequestBuilder) -> Result<(u16, Bytes), ApiError> {
    let response = builder.send().await.map_err(|e| reqwest_error(api, e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| reqwest_error(api, e))?;
    Ok((status, bytes))
}

/// A hyper client error, classified: a failure to connect means nothing was sent.
fn hyper_error(api: &str, err: hyper_util::client::legacy::Error) -> ApiError {
    let api = api.to_string();
    let sent = !err.is_connect();
    let timed_out = {
        let mut source = std::error::Error::source(&err);
        let mut found = false;
        while let Some(cause) = source {
            if cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
                found = true;
            }
            source = cause.source();
        }
        found
    };
    if timed_out {
        return ApiError::Timeout { api, sent };
    }
    ApiError::Connection { api, sent, detail: redact(&chain(&err)) }
}

/// A reqwest error, without its URL (which carries the token), classified.
fn reqwest_error(api: &str, err: reqwest::Error) -> ApiError {
    let sent = !err.is_connect();
    let api = api.to_string();
    if err.is_timeout() {
        return ApiError::Timeout { api, sent };
    }
    let err = err.without_url();
    ApiError::Connection { api, sent, detail: redact(&chain(&err)) }
}

/// An error and its causes on one line: the top-level text is often terse ("error sending
/// request"); the causes say what happened ("connection closed before message completed").
fn chain(err: &dyn std::error::Error) -> String {
    let mut detail = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_causes_on_one_line() {
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request")]
        struct Top(#[source] std::io::Error);
        let top = Top(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "broken pipe"));
        assert_eq!(chain(&top), "error sending request: broken pipe");
    }

    #[tokio::test]
    async fn direct_for_plain_and_tls_bases_and_refused_connections_are_not_sent() {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        for base in ["https://api.weixin.qq.com", "http://127.0.0.1:9"] {
            let base = url::Url::parse(base).unwrap();
            let t = Transport::new(&base, &http, Duration::from_secs(5), Duration::from_secs(5));
            // No test sets a proxy; a machine that does would take the proxied path.
            if std::env::var_os("HTTPS_PROXY").is_none() && std::env::var_os("ALL_PROXY").is_none() {
                assert!(!t.is_proxied());
            }
        }
        // Port 9 (discard) is closed on loopback: refused, so certainly not sent.
        let t = Transport::new(
            &url::Url::parse("http://127.0.0.1:9").unwrap(),
            &http,
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        let err =
            t.send("/x", Method::Get, "http://127.0.0.1:9/x?access_token=SECRET".into(), Vec::new()).await.unwrap_err();
        assert!(matches!(err, ApiError::Connection { sent: false, .. }), "{err:?}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
