//! How a request reaches WeChat and its answer comes back: straight through hyper's connection
//! pool, or through reqwest when the environment names a proxy for the API base
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, less `NO_PROXY`; platforms often send their
//! calls out through one fixed, whitelisted address).
//!
//! Why not reqwest for every call: its redirect layer parses each request's URL again and its
//! retry layer clones the request, work a call to WeChat does not need (WeChat sends no
//! redirect, and [`CallLog`](crate::calls::CallLog) does the retrying) and a large share of
//! the CPU a call costs. hyper, which reqwest itself runs on, does without. reqwest still carries the multipart uploads, which are rare. Neither follows
//! redirects: a 3xx is reported as the HTTP status it is.
//!
//! Errors never include the URL (it carries the token): hyper's do not, reqwest's are stripped
//! with `without_url`, and every detail passes through [`redact`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::api::Method;
use crate::error::ApiError;
use crate::secret::redact;

type Direct = hyper_util::client::legacy::Client<ConnectTimeout, Full<Bytes>>;
type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Sends requests; cheap to clone.
#[derive(Clone)]
pub(crate) enum Transport {
    /// hyper's client, over rustls for `https://`.
    Direct { client: Direct, timeout: Duration },
    /// reqwest, which honours the proxy settings of the environment.
    Proxied(reqwest::Client),
}

/// What every request says it comes from.
pub(crate) const USER_AGENT: &str = concat!("wechat-open/", env!("CARGO_PKG_VERSION"));

impl Transport {
    /// The transport for `base`: `http` (already configured with the timeouts) when a proxy
    /// from the environment applies to it, hyper's own client otherwise.
    pub(crate) fn new(
        base: &url::Url,
        http: &reqwest::Client,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Transport {
        let proxied = base
            .as_str()
            .parse::<http::Uri>()
            .ok()
            .is_some_and(|uri| hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&uri).is_some());
        if proxied {
            return Transport::Proxied(http.clone());
        }
        // The TCP settings reqwest uses: keepalive finds a connection a NAT dropped while it
        // sat in the pool, before a request is written on it.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        connector.set_keepalive(Some(Duration::from_secs(15)));
        connector.set_keepalive_interval(Some(Duration::from_secs(15)));
        connector.set_keepalive_retries(Some(3));
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        connector.set_tcp_user_timeout(Some(Duration::from_secs(30)));
        // rustls with ring, as reqwest's `rustls-tls`, and the same (Mozilla's) roots.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map(|b| b.https_or_http().enable_http1().wrap_connector(connector));
        let https = match https {
            Ok(https) => https,
            // ring supports rustls's default protocol versions; were that ever not so,
            // reqwest (which chooses its own) still works.
            Err(_) => return Transport::Proxied(http.clone()),
        };
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(ConnectTimeout { inner: https, timeout: connect_timeout });
        Transport::Direct { client, timeout }
    }

    /// True when calls go through reqwest and a proxy.
    pub(crate) fn is_proxied(&self) -> bool {
        matches!(self, Transport::Proxied(_))
    }

    /// Sends one request to `url` (which holds the token: never shown) and returns the
    /// answer's body; a status other than 2xx is [`ApiError::Http`]. `body` is JSON, for `POST`.
    pub(crate) async fn send(&self, api: &str, method: Method, url: String, body: Vec<u8>) -> Result<Bytes, ApiError> {
        match self {
            Transport::Direct { client, timeout } => {
                let exchange = async {
                    let mut request = http::Request::builder()
                        .uri(url)
                        .header(http::header::USER_AGENT, USER_AGENT)
                        .header(http::header::ACCEPT, "*/*")
                        .method(match method {
                            Method::Get => http::Method::GET,
                            Method::Post => http::Method::POST,
                        });
                    if method == Method::Post {
                        request = request.header(http::header::CONTENT_TYPE, "application/json");
                    }
                    let request = request.body(Full::new(Bytes::from(body))).map_err(|e| ApiError::Connection {
                        api: api.to_string(),
                        sent: false,
                        detail: format!("the request could not be built: {}", redact(&e.to_string())),
                    })?;
                    let response = client.request(request).await.map_err(|e| hyper_error(api, e))?;
                    successful(api, response.status())?;
                    let bytes = response.into_body().collect().await.map_err(|e| ApiError::Connection {
                        api: api.to_string(),
                        sent: true,
                        detail: redact(&chain(&e)),
                    })?;
                    Ok(bytes.to_bytes())
                };
                tokio::time::timeout(*timeout, exchange)
                    .await
                    .unwrap_or_else(|_| Err(ApiError::Timeout { api: api.to_string(), sent: true }))
            }
            Transport::Proxied(http) => {
                let url = reqwest::Url::parse(&url).map_err(|e| ApiError::Connection {
                    api: api.to_string(),
                    sent: false,
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
pub(crate) async fn exchange_reqwest(api: &str, builder: reqwest::RequestBuilder) -> Result<Bytes, ApiError> {
    let response = builder.send().await.map_err(|e| reqwest_error(api, e))?;
    successful(api, response.status())?;
    response.bytes().await.map_err(|e| reqwest_error(api, e))
}

/// A status other than 2xx says it all, and the body is not read (redirects are not
/// followed: WeChat sends none).
fn successful(api: &str, status: http::StatusCode) -> Result<(), ApiError> {
    match status.is_success() {
        true => Ok(()),
        false => Err(ApiError::Http { api: api.to_string(), status: status.as_u16() }),
    }
}

/// The HTTPS connector with one deadline for all of connecting — name lookup, TCP, TLS —
/// as reqwest's `connect_timeout` (hyper's own covers the TCP connect only). Its error is a
/// `TimedOut` I/O error, so the call is a timeout that certainly sent nothing.
#[derive(Clone)]
pub(crate) struct ConnectTimeout {
    inner: Https,
    timeout: Duration,
}

type Connection = <Https as tower_service::Service<http::Uri>>::Response;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<http::Uri> for ConnectTimeout {
    type Response = Connection;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (connecting, timeout) = (self.inner.call(uri), self.timeout);
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result,
                Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting timed out").into()),
            }
        })
    }
}

/// A hyper client error, classified: a failure to connect means nothing was sent.
fn hyper_error(api: &str, err: hyper_util::client::legacy::Error) -> ApiError {
    let api = api.to_string();
    let sent = !err.is_connect();
    let timed_out = causes(&err).any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    });
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
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = err.to_string();
    for cause in causes(err) {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
    }
    detail
}

/// The causes of an error, nearest first.
fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(err.source(), |cause| cause.source())
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
            let proxy_vars = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
            if proxy_vars.iter().all(|v| std::env::var_os(v).is_none()) {
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

    /// A TLS handshake that never finishes is a connect timeout — nothing was sent — not the
    /// whole call's timeout.
    #[tokio::test]
    async fn a_stalled_handshake_times_out_as_connecting() {
        // Accepts (the kernel does, into the backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = url::Url::parse(&format!("https://{}", silent.local_addr().unwrap())).unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let t = Transport::new(&base, &http, Duration::from_secs(20), Duration::from_millis(300));
        if t.is_proxied() {
            return; // this machine sends calls through a proxy: not what is tested here
        }
        let err = t.send("/x", Method::Get, format!("{base}x?access_token=SECRET"), Vec::new()).await.unwrap_err();
        assert!(matches!(err, ApiError::Timeout { sent: false, .. }), "{err:?}");
        drop(silent);
    }
}
