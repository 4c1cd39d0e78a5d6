//! Token refresh through the binary: a forced expiry is healed without a failed call, many
//! tasks needing the same expired token cause one refresh, a revoked refresh token says what
//! to do, and `tokens recover` restores a lost refresh token.

use serde_json::json;

use crate::harness::{Sim, Workspace};

const MP: &str = "wxe5f52902cf4de896";

fn workspace_with_tokens() -> Workspace {
    let ws = Workspace::new();
    ws.write("tokens.csv", format!("{MP},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    ws
}

fn paths(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/cgi-bin/sim/path{i}")).collect()
}

#[test]
fn a_forced_expiry_is_refreshed_and_no_call_fails() {
    let sim = Sim::start();
    let ws = workspace_with_tokens();
    ws.test_on(&sim).args(["quota", MP, "/cgi-bin/account/modifysignature"]).stdout_has("500").run();
    assert_eq!(sim.calls_to("/cgi-bin/component/api_authorizer_token").len(), 1);

    // A new process reuses the cached token from the ledger: no refresh.
    ws.test_on(&sim).args(["quota", MP]).run();
    assert_eq!(sim.calls_to("/cgi-bin/component/api_authorizer_token").len(), 1);

    sim.post("/__sim/expire", json!({"appid": MP}));
    ws.test_on(&sim).args(["quota", MP, "/cgi-bin/account/modifysignature"]).stdout_has("500").run();
    let quota_calls = sim.calls_to("/cgi-bin/openapi/quota/get");
    let last_two: Vec<_> = quota_calls.iter().rev().take(2).map(|c| c["errcode"].as_i64()).collect();
    assert_eq!(last_two, [Some(0), Some(42001)], "the expired call, then the retried one");
    assert_eq!(sim.calls_to("/cgi-bin/component/api_authorizer_token").len(), 2);
}

#[test]
fn thirty_concurrent_tasks_with_an_expired_token_cause_one_refresh() {
    let sim = Sim::start();
    let ws = workspace_with_tokens();
    ws.test_on(&sim).args(["quota", MP, "/cgi-bin/account/modifysignature"]).run();
    sim.post("/__sim/expire", json!({"appid": MP}));
    sim.post("/__sim/expire", json!({"component": true}));
    let before = sim.calls().len();

    ws.test_on(&sim).args(["quota", MP]).args(paths(30)).run();

    let after: Vec<_> = sim.calls().into_iter().skip(before).collect();
    let calls_to = |path: &str| after.iter().filter(|c| c["path"] == path).collect::<Vec<_>>();
    let ok = |path: &str| calls_to(path).iter().filter(|c| c["errcode"] == 0).count();
    assert_eq!(ok("/cgi-bin/component/api_authorizer_token"), 1, "exactly one authorizer refresh");
    assert_eq!(calls_to("/cgi-bin/component/api_component_token").len(), 1, "exactly one component refresh");
    // The one refresh first met the expired component token (42001), refreshed that, and
    // tried again once: never a call per task.
    let refreshes = calls_to("/cgi-bin/component/api_authorizer_token");
    assert!(refreshes.len() <= 2, "{refreshes:#?}");
    assert!(refreshes.iter().all(|c| c["errcode"] == 0 || c["errcode"] == 42001));
    let quota: Vec<_> = after.iter().filter(|c| c["path"] == "/cgi-bin/openapi/quota/get").collect();
    assert_eq!(quota.iter().filter(|c| c["errcode"] == 0).count(), 30, "every task ends with an answer");
    assert!(quota.iter().all(|c| c["errcode"] == 0 || c["errcode"] == 42001));
}

#[test]
fn a_revoked_refresh_token_gives_61023_with_its_hint() {
    let sim = Sim::start();
    let ws = workspace_with_tokens();
    sim.post("/__sim/revoke", json!({"appid": MP}));
    ws.test_on(&sim)
        .args(["quota", MP])
        .status(1)
        .stderr_has("61023")
        .stderr_has("hint:")
        .stderr_has("tokens recover")
        .run();
}

#[test]
fn a_missing_refresh_token_says_how_to_get_one() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.test_on(&sim).args(["quota", MP]).status(1).stderr_has("no refresh token for").stderr_has("tokens import").run();
}

#[test]
fn tokens_recover_restores_a_deleted_refresh_token() {
    let sim = Sim::start();
    let ws = workspace_with_tokens();
    rusqlite::Connection::open(ws.ledger()).unwrap().execute("DELETE FROM tokens", []).unwrap();
    ws.test_on(&sim).args(["tokens", "recover"]).stdout_has("13 authorizers listed").run();
    let stored = ws.query(&format!("SELECT refresh_token, source FROM tokens WHERE appid = '{MP}'"));
    assert_eq!(stored, [["refreshtoken@@@mp-fresh-0001", "recover"]]);
    // The recovered token works.
    ws.test_on(&sim).args(["quota", MP]).run();
}

#[test]
fn a_token_command_replaces_refreshing() {
    let sim = Sim::start();
    let ws = Workspace::new();
    // The helper gets its token from the simulator the way a platform's token service would.
    let script = ws.write(
        "token-helper.sh",
        format!(
            "#!/bin/sh\ncurl -s -X POST '{url}/cgi-bin/component/api_component_token' -d '{{\"component_appid\":\"{appid}\",\"component_appsecret\":\"{secret}\",\"component_verify_ticket\":\"{ticket}\"}}' >/dev/null 2>&1\necho '{{\"access_token\": \"not-a-real-token\", \"expires_in\": 7200}}'\n",
            url = sim.url,
            appid = sim.component_appid,
            secret = sim.component_secret,
            ticket = sim.verify_ticket
        ),
    );
    let ran = ws
        .test_on(&sim)
        .env("WXPROV_TOKEN_COMMAND", format!("sh {}", script.display()))
        .args(["quota", MP, "/cgi-bin/account/modifysignature"])
        .status(1)
        .run();
    // The simulator rejected the helper's made-up token: proof it was used, and no refresh happened.
    assert!(ran.stdout.contains("40001") || ran.stderr.contains("40001"), "{}", ran.all());
    assert!(sim.calls_to("/cgi-bin/component/api_authorizer_token").is_empty());
}
