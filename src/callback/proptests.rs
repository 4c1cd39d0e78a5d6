//! Property tests over the receiver as a whole: whatever the network sends, the router answers
//! 4xx (or 503 while it cannot answer), never 5xx, and never panics. The message decryption and
//! the XML of bodies and events have their own properties in `wechat_open`. Case counts are
//! modest so the suite runs in seconds; `PROPTEST_CASES` raises them for a longer soak.

use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use tower::ServiceExt as _;

use wechat_open::crypto::{signature, MsgCrypt};

use crate::callback::server::{router, ServerState};
use crate::ledger::Ledger;

const TOKEN: &str = "proptoken";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFA";
const APPID: &str = "wx0c0c0c0c0c0c0c0c";

fn crypt() -> MsgCrypt {
    MsgCrypt::new(TOKEN, KEY, APPID).unwrap()
}

/// Text with no control characters and no surrounding spaces.
fn field_text() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f\\x7f]{0,40}".prop_map(|s| s.trim().to_string())
}

/// One runtime and one ledger per property: opening a ledger per case would dominate.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: ServerState,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Fixture { runtime, state: ServerState::new(ledger, Some(crypt())), _dir: dir }
    }

    fn status_of(&self, method: Method, uri: &str, body: Vec<u8>) -> u16 {
        let Ok(request) = Request::builder().method(method).uri(uri).body(Body::from(body)) else {
            return 400; // not a URI hyper would have let through either
        };
        self.runtime.block_on(async {
            let response = router(self.state.clone()).oneshot(request).await.unwrap();
            response.status().as_u16()
        })
    }
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 64, ..ProptestConfig::default() }
}

#[test]
fn arbitrary_pushes_are_refused_never_500() {
    let fx = Fixture::new();
    let paths = prop_oneof![
        Just("/callback/component"),
        Just("/callback/events"),
        Just("/callback/events/wx0123456789abcdef"),
        Just("/callback/events/not-an-appid"),
    ];
    proptest!(config(), |(
        path in paths,
        query in "[a-z_=&%0-9A-F]{0,80}",
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    )| {
        let status = fx.status_of(Method::POST, &format!("{path}?{query}"), body);
        prop_assert!((400..500).contains(&status) || status == 503, "status {}", status);
    });
}

#[test]
fn fresh_signed_pushes_with_bad_contents_are_4xx() {
    let fx = Fixture::new();
    proptest!(config(), |(text in field_text(), nonce in "[0-9]{1,12}")| {
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = signature(TOKEN, &ts, &nonce, &text);
        let uri = format!("/callback/component?timestamp={ts}&nonce={nonce}&msg_signature={sig}");
        let body = format!("<xml><Encrypt><![CDATA[{text}]]></Encrypt></xml>").into_bytes();
        let status = fx.status_of(Method::POST, &uri, body);
        prop_assert!((400..500).contains(&status), "status {}", status);
    });
}

#[test]
fn arbitrary_redirects_are_200_or_400() {
    let fx = Fixture::new();
    let paths = prop_oneof![Just("/callback/fastregister"), Just("/callback/rebind")];
    proptest!(config(), |(
        path in paths,
        query in "((official_appid|appid|ticket|taskid|x)=[a-zA-Z0-9_%+-]{0,20}&?){0,4}",
    )| {
        let status = fx.status_of(Method::GET, &format!("{path}?{query}"), Vec::new());
        prop_assert!(status == 200 || status == 400, "status {}", status);
    });
}
