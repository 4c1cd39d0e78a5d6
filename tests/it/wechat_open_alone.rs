//! wechat-open on its own, without wxprov's ledger: the crate documentation's example (refresh
//! an authorizer's token with an in-memory token store, set a signature with it) against
//! `wxprov sim` over loopback HTTP.

use std::sync::Arc;

use serde_json::json;
use wechat_open::api::{GetAccountBasicInfo, ModifySignature};
use wechat_open::calls::{CallLog, CallOptions, NoSink};
use wechat_open::client::{Client, DEFAULT_TIMEOUT};
use wechat_open::errcode::ErrClass;
use wechat_open::secret::Secret;
use wechat_open::tokens::{ComponentCreds, MemoryStore, TokenStore, Tokens};
use wechat_open::ApiError;

use crate::harness::Sim;

const MP_FRESH: &str = "wxe5f52902cf4de896";
const MP_CONFIGURED: &str = "wxdc685123d9554530";

/// The crate documentation's example, word for word but for where the credentials come from.
async fn set_signature(sim: &Sim, store: Arc<MemoryStore>) -> Result<Tokens, Box<dyn std::error::Error>> {
    let client = Client::new(&sim.url, DEFAULT_TIMEOUT)?;
    store.put_refresh_token(MP_FRESH, &Secret::new("refreshtoken@@@mp-fresh-0001"), "import").await?;
    let creds = ComponentCreds {
        appid: sim.component_appid.clone(),
        secret: Some(Secret::new(&sim.component_secret)),
        verify_ticket: Some(Secret::new(&sim.verify_ticket)),
    };
    let calls = CallLog::new(Arc::new(NoSink), None, CallOptions::default());
    let tokens = Tokens::new(client.clone(), store, creds, calls);
    // The component's token first (from its secret and ticket), then the authorizer's.
    let token = tokens.authorizer(MP_FRESH).await?;
    client.call(Some(&token), &ModifySignature { signature: "提供好用的在线工具。".into() }).await?;
    Ok(tokens)
}

#[test]
fn the_crate_example_refreshes_a_token_in_memory_and_sets_a_signature() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = Sim::start();
    let store = Arc::new(MemoryStore::new());
    let tokens = rt.block_on(set_signature(&sim, store.clone())).unwrap();

    assert_eq!(sim.calls_to("/cgi-bin/component/api_component_token").len(), 1);
    let refreshed = sim.calls_to("/cgi-bin/component/api_authorizer_token");
    assert_eq!(refreshed.len(), 1);
    assert_eq!(refreshed[0]["body"]["authorizer_appid"], MP_FRESH);
    let set = sim.calls_to("/cgi-bin/account/modifysignature");
    assert_eq!(set.len(), 1, "{set:#?}");
    assert_eq!(set[0]["body"], json!({"signature": "提供好用的在线工具。"}));

    // The token is the store's now, and the platform shows the new signature.
    let stored = rt.block_on(store.tokens(MP_FRESH)).unwrap();
    let (token, _) = stored.access.expect("the refreshed token is stored");
    let client = Client::new(&sim.url, DEFAULT_TIMEOUT).unwrap();
    let info = rt.block_on(client.call(Some(&token), &GetAccountBasicInfo)).unwrap();
    assert_eq!(info.signature_info.unwrap().signature, "提供好用的在线工具。");
    // Asked again, the token comes from memory: no refresh.
    assert_eq!(rt.block_on(tokens.authorizer(MP_FRESH)).unwrap(), token);
    assert_eq!(tokens.refresh_count(), 2, "the component's and the authorizer's, once each");
    assert_eq!(sim.calls_to("/cgi-bin/component/api_authorizer_token").len(), 1);

    // An account the store holds no refresh token for is blocked, and costs no call.
    let err = rt.block_on(tokens.authorizer(MP_CONFIGURED)).unwrap_err();
    assert!(matches!(&err, ApiError::NoRefreshToken { appid } if appid == MP_CONFIGURED), "{err:?}");
    assert_eq!(err.class(), ErrClass::Blocked);
    assert_eq!(sim.calls_to("/cgi-bin/component/api_authorizer_token").len(), 1);
}
