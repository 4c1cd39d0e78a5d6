//! Re-authorization (issue #10 item 5): WeChat pushes `updateauthorized` with a new
//! `AuthorizationCode` when a merchant authorizes again; `serve` exchanges it at once and
//! stores the new refresh token, the simulator revokes the old one as it issues the new, and
//! the next run works with the stored token.

use serde_json::json;

use crate::harness::{Serve, Sim, Workspace};
use crate::run::{job, result_for, FRESH};

const TOKEN: &str = "wxprov-callback-token";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const OLD: &str = "refreshtoken@@@mp-fresh-0001";

#[test]
fn an_updateauthorized_push_is_exchanged_and_the_next_run_works() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},重新授权之后的新简介。\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    assert_eq!(ws.query(&format!("SELECT refresh_token FROM tokens WHERE appid = '{FRESH}'")), [[OLD]]);
    let serve = Serve::start(
        &ws,
        &[
            ("WXPROV_TOKEN", TOKEN),
            ("WXPROV_ENCODING_AES_KEY", AES_KEY),
            ("WXPROV_COMPONENT_APPID", &sim.component_appid),
            ("WXPROV_COMPONENT_SECRET", &sim.component_secret),
            ("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket),
            ("WXPROV_API_BASE", &sim.url),
        ],
    );
    let pushed = sim.post(
        "/__sim/push",
        json!({"url": format!("{}/callback/component", serve.url), "token": TOKEN, "encoding_aes_key": AES_KEY,
               "event": "updateauthorized", "appid": FRESH}),
    );
    assert_eq!(pushed, json!({"status": 200, "body": "success"}));
    let stderr = serve.stop();

    // The code was exchanged once, with the component token.
    let exchanges = sim.calls_to("/cgi-bin/component/api_query_auth");
    assert_eq!(exchanges.len(), 1, "{exchanges:#?}");
    assert_eq!(exchanges[0]["errcode"], 0);
    // The old refresh token is revoked; the ledger holds the new, live one.
    let tokens = sim.get("/__sim/tokens");
    let revoked: Vec<&str> =
        tokens["revoked_refresh_tokens"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(revoked.contains(&OLD), "{revoked:?}");
    let stored = ws.query(&format!("SELECT refresh_token, source FROM tokens WHERE appid = '{FRESH}'"));
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0][0], OLD);
    assert_eq!(stored[0][1], "updateauthorized");
    // With the permission sets the new authorization granted (for `check`).
    assert_eq!(
        ws.query(&format!("SELECT func_ids, source FROM permissions WHERE appid = '{FRESH}'")),
        [["17,18,19,25,30,31,36,37,40,41", "updateauthorized"]]
    );
    let known: Vec<&str> = tokens["refresh_tokens"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(known.contains(&stored[0][0].as_str()) && !revoked.contains(&stored[0][0].as_str()));
    assert_eq!(
        ws.query("SELECT kind, appid, outcome, detail FROM callback_events"),
        [["updateauthorized", FRESH, "stored", "authorization code exchanged; refresh token stored"]]
    );
    crate::harness::assert_no_secret("serve's stderr", &stderr, &sim.secrets());

    // The next run refreshes with the new token and sets the signature.
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["signature"], "done");
    let refreshes = sim.calls_to("/cgi-bin/component/api_authorizer_token");
    assert!(!refreshes.is_empty() && refreshes.iter().all(|c| c["errcode"] == 0), "{refreshes:#?}");
    assert_eq!(sim.get("/__sim/state")["mini_programs"][FRESH]["signature"], "重新授权之后的新简介。");
}
