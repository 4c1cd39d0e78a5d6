//! The component verify ticket (DESIGN §1): the newest one `serve` stored wins over a staler
//! `WXPROV_COMPONENT_VERIFY_TICKET` while it lives (12 h); the variable is the fallback.

use serde_json::json;
use wechat_open::crypto::MsgCrypt;
use wechat_open::event::{Event, PushBody, Pushed};
use wechat_open::secret::Secret;

use crate::harness::{Serve, Sim, Workspace};
use crate::run::FRESH;

const TOKEN: &str = "verifyTicketTestToken";
const KEY: &str = "Q2FsbGJhY2tSZWNlaXZlclRlc3RLZXkwMTIzNDU2Nzg";

/// Pushes `ticket` to `serve` as WeChat does (encrypted, to /callback/component).
fn push_ticket(serve: &Serve, component: &str, ticket: &str) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let pushed = Pushed {
        app_id: Some(component.into()),
        to_user_name: None,
        create_time: Some(now),
        event: Event::ComponentVerifyTicket { ticket: Secret::new(ticket) },
    };
    let crypt = MsgCrypt::new(TOKEN, KEY, component).unwrap();
    let ts = now.to_string();
    let (encrypt, sig) = crypt.encrypt(&pushed.to_xml(), &ts, "nonce1");
    let body = PushBody { to_user_name: None, app_id: Some(component.into()), encrypt }.to_xml();
    let query = format!("?timestamp={ts}&nonce=nonce1&msg_signature={sig}&encrypt_type=aes");
    assert_eq!(serve.post(&format!("/callback/component{query}"), body), (200, "success".to_string()));
}

#[test]
fn the_ticket_serve_stored_wins_over_a_staler_environment_variable() {
    let sim = Sim::start();
    let ws = Workspace::new();
    // WeChat moved on to a new ticket; the environment still holds the old one.
    sim.post("/__sim/verify_ticket", json!({"ticket": "ticket@@@pushed-by-wechat"}));
    ws.write("tokens.csv", format!("{FRESH},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();

    // Without a stored ticket the environment's is used, and WeChat refuses it as expired.
    ws.test_on(&sim).args(["quota", FRESH, "/cgi-bin/account/modifysignature"]).status(1).stderr_has("61006").run();

    let serve = Serve::start(
        &ws,
        &[("WXPROV_TOKEN", TOKEN), ("WXPROV_ENCODING_AES_KEY", KEY), ("WXPROV_COMPONENT_APPID", &sim.component_appid)],
    );
    push_ticket(&serve, &sim.component_appid, "ticket@@@pushed-by-wechat");
    serve.stop();

    ws.test_on(&sim).args(["quota", FRESH, "/cgi-bin/account/modifysignature"]).run();
    let sent: Vec<String> =
        sim.calls_to("/cgi-bin/component/api_component_token").iter().map(|c| c["errcode"].to_string()).collect();
    assert_eq!(sent, ["61006", "0"], "the stale ticket, then the stored one");
}
