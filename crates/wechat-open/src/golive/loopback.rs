//! A one-request HTTP server on loopback for the go-live tests: it records what
//! [`Client::call`] sent (method, path with query, body) and answers with the JSON given, so a
//! test checks the request exactly as it leaves the client and the answer as it parses.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::Endpoint;
use crate::secret::Secret;
use crate::{ApiError, Client};

/// What reached the server.
#[derive(Debug)]
pub(crate) struct Sent {
    pub(crate) method: String,
    /// The path and query, as on the request line.
    pub(crate) target: String,
    pub(crate) body: String,
}

impl Sent {
    /// Asserts the method, the target (the token is `TOKEN`) and the exact body.
    pub(crate) fn is(&self, method: &str, target: &str, body: &str) {
        assert_eq!((self.method.as_str(), self.target.as_str(), self.body.as_str()), (method, target, body));
    }

    /// The body as JSON, for bodies whose key order is serde's.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Serves one request with `reply` as its body (`content_type` as given) and returns the
/// raw request.
async fn serve_once(listener: tokio::net::TcpListener, reply: Vec<u8>, content_type: &'static str) -> Sent {
    let (mut stream, _) = listener.accept().await.expect("a connection");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the client closed before a whole request head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
        .transpose()
        .expect("a content-length")
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the client closed before the whole body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut parts = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    stream.write_all(response.as_bytes()).await.expect("write");
    stream.write_all(&reply).await.expect("write");
    stream.shutdown().await.ok();
    Sent { method, target, body: String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned() }
}

/// Starts a server answering `reply`, and a client for it.
async fn server(reply: Vec<u8>, content_type: &'static str) -> (Client, tokio::task::JoinHandle<Sent>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = tokio::spawn(serve_once(listener, reply, content_type));
    (Client::new(&base, std::time::Duration::from_secs(10)).expect("client"), served)
}

/// Sends `req` with the token `TOKEN` to a server that answers `reply`; returns the parsed
/// answer and what was sent.
pub(crate) async fn exchange<E: Endpoint>(req: &E, reply: &str) -> (Result<E::Response, ApiError>, Sent) {
    let (client, served) = server(reply.as_bytes().to_vec(), "application/json").await;
    let answer = client.call(Some(&Secret::new("TOKEN")), req).await;
    (answer, served.await.expect("the server task"))
}

/// Like [`exchange`] for a call that is not an [`Endpoint`] (a binary answer, an upload):
/// `call` gets a client of the server answering `reply` with `content_type`.
pub(crate) async fn exchange_with<T, F, Fut>(reply: &[u8], content_type: &'static str, call: F) -> (T, Sent)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (client, served) = server(reply.to_vec(), content_type).await;
    let answer = call(client).await;
    (answer, served.await.expect("the server task"))
}
