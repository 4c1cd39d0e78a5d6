//! The `stop` class (DESIGN §5): the platform's own credentials or setup stop the run at once,
//! whether on its first call or when a cached component token has expired mid-run: exit 1
//! with one sentence, no row blamed (no failed.csv line), no step changed by the failing call,
//! steps finished earlier kept, and `summary.json` saying why. The cases: a wrong secret, a
//! machine off the IP whitelist, a verify ticket gone stale (61006), a component appid that
//! is not the platform's (40013). And the same 40013 on one account's call is that row's
//! problem: the run goes on.

use serde_json::{json, Value};

use crate::harness::{example_fixture, Ran, Sim, Workspace};
use crate::run::{job, read_csv, result_for, CONFIGURED, FRESH};

const TOKEN_PATH: &str = "/cgi-bin/component/api_component_token";

const WRONG_SECRET: &str =
    "/cgi-bin/component/api_component_token: errcode 40125 (无效的 AppSecret): invalid appsecret \
    — The component secret is wrong: check WXPROV_COMPONENT_SECRET (or the file named by WXPROV_COMPONENT_SECRET_FILE) \
    against open.weixin.qq.com (管理中心 → 第三方平台 → AppSecret), then run again. No row needs changing.";

const NOT_WHITELISTED: &str = "/cgi-bin/component/api_component_token: errcode 61004 (access clientip is not \
    registered（调用接口的 IP 未在第三方平台的 IP 白名单中）): access clientip is not registered requestIP: 203.0.113.9 \
    rid: 6571a2b3-1c2d3e4f — Add 203.0.113.9 to the platform's IP whitelist on open.weixin.qq.com (开发资料 → 白名单), \
    then run again. No row needs changing.";

const STALE_TICKET: &str = "/cgi-bin/component/api_component_token: errcode 61006 (component_verify_ticket 无效): \
    component_verify_ticket expired — The component_verify_ticket is stale (WeChat pushes one every 10 minutes; it \
    lives 12 h). Make sure `wxprov serve` is running and reachable at the platform's authorization-event URL, or set \
    WXPROV_COMPONENT_VERIFY_TICKET; then run again. No row needs changing.";

const WRONG_APPID: &str = "/cgi-bin/component/api_component_token: errcode 40013 (不合法的 AppID): invalid appid: \
    component_appid does not match this platform — WXPROV_COMPONENT_APPID is not the third-party platform's appid: \
    copy it from open.weixin.qq.com (管理中心 → 第三方平台), then run again. No row needs changing.";

fn summary(ws: &Workspace) -> Value {
    serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap()
}

/// The one error line of a run's stderr (logs aside), and that there is no other.
fn error_lines(ran: &Ran) -> Vec<String> {
    ran.stderr.lines().filter(|l| l.starts_with("error:") || l.starts_with("hint:")).map(str::to_string).collect()
}

/// What a stopped run must show, whatever stopped it: exit 1, `sentence` alone on stderr and
/// in summary.json, and no row in failed.csv.
fn assert_stopped(ws: &Workspace, ran: &Ran, sentence: &str) {
    assert_eq!(ran.code, 1, "{}", ran.all());
    assert_eq!(error_lines(ran), [format!("error: {sentence}")], "{}", ran.stderr);
    let summary = summary(ws);
    assert_eq!(summary["stopped"], sentence);
    assert_eq!(summary["exit_code"], 1);
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed, [["appid", "signature", "error"]], "no row is the sheet's fault");
}

fn two_rows(ws: &Workspace, first: &str) -> String {
    job(ws, &format!("appid,signature\n{FRESH},{first}\n{CONFIGURED},一个简单好用的计算器，新版。\n"))
}

fn with_tokens(ws: &Workspace) {
    ws.write(
        "tokens.csv",
        format!("{FRESH},refreshtoken@@@mp-fresh-0001\n{CONFIGURED},refreshtoken@@@mp-configured-0002\n"),
    );
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
}

#[test]
fn a_wrong_secret_on_the_first_call_stops_the_run_and_touches_no_row() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = two_rows(&ws, "提供好用的在线工具。");
    with_tokens(&ws);
    let ran = ws.test_on(&sim).env("WXPROV_COMPONENT_SECRET", "not-the-secret").args(["run", &job]).status_any().run();
    assert_stopped(&ws, &ran, &format!("the run could not proceed: {WRONG_SECRET}"));
    let paths: Vec<_> = sim.calls().iter().map(|c| c["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, [TOKEN_PATH], "nothing after the failing call");
    assert!(ws.query("SELECT * FROM steps").is_empty(), "no step changed");
    assert_eq!(result_for(&ws, FRESH)["signature"], "pending");
}

#[test]
fn an_ip_not_on_the_whitelist_stops_the_first_call_naming_the_ip() {
    let mut fixture = example_fixture();
    fixture["ip_whitelisted"] = json!(false);
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = two_rows(&ws, "提供好用的在线工具。");
    with_tokens(&ws);
    let ran = ws.test_on(&sim).args(["run", &job]).status_any().run();
    assert_stopped(&ws, &ran, &format!("the run could not proceed: {NOT_WHITELISTED}"));
    assert_eq!(sim.calls().len(), 1);
    assert!(ws.query("SELECT * FROM steps").is_empty(), "no step changed");
}

/// Run 1 leaves the component token and FRESH's token cached in the ledger. The simulator
/// then expires the component token and `spoil` breaks the platform's setup. In run 2 (one
/// row at a time) FRESH's new signature goes out on its cached token; CONFIGURED needs a
/// token, whose refresh meets the expired component token, whose refresh meets the failure.
fn stop_mid_run(spoil: impl FnOnce(&Sim) -> Option<(&'static str, String)>, sentence: &str) {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    with_tokens(&ws);
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(summary(&ws)["stopped"], Value::Null, "the key is there, null, when nothing stopped the run");
    let job = two_rows(&ws, "提供好用的在线工具，第二版。");
    sim.post("/__sim/expire", json!({"component": true}));
    let env = spoil(&sim);
    let before = sim.calls().len();

    let mut test = ws.test_on(&sim).args(["run", &job, "--concurrency", "1"]).status_any();
    if let Some((key, value)) = env {
        test = test.env(key, value);
    }
    let ran = test.run();
    assert_stopped(&ws, &ran, &format!("the run stopped: {sentence}"));
    let calls: Vec<String> = sim
        .calls()
        .iter()
        .skip(before)
        .map(|c| format!("{} {} {}", c["path"].as_str().unwrap(), c["appid"].as_str().unwrap_or("-"), c["errcode"]))
        .collect();
    let last = calls.last().cloned().unwrap_or_default();
    assert!(last.starts_with(TOKEN_PATH), "the failing refresh is the last call: {calls:#?}");
    assert!(calls.iter().any(|c| c.starts_with(&format!("/cgi-bin/account/modifysignature {FRESH} 0"))), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.contains(CONFIGURED) && c.contains("modifysignature")), "{calls:#?}");
    // FRESH's step finished earlier in the run stays done; CONFIGURED's is as it was (never tried).
    let steps = ws.query("SELECT identity, kind, state FROM steps ORDER BY identity");
    assert_eq!(steps, [[FRESH, "signature", "done"]]);
    assert_eq!(result_for(&ws, FRESH)["signature"], "done");
    assert_eq!(result_for(&ws, CONFIGURED)["signature"], "pending");
}

#[test]
fn a_wrong_secret_met_when_the_cached_component_token_expires_mid_run_stops_it() {
    stop_mid_run(|_| Some(("WXPROV_COMPONENT_SECRET", "not-the-secret".into())), WRONG_SECRET);
}

#[test]
fn an_ip_taken_off_the_whitelist_stops_the_run_at_the_mid_run_refresh() {
    stop_mid_run(
        |sim| {
            sim.post("/__sim/ip_whitelist", json!({"whitelisted": false}));
            None
        },
        NOT_WHITELISTED,
    );
}

/// The verify ticket the run sends has gone stale (WeChat moved on while `serve` was down):
/// 61006, the commonest first-run failure. It is the platform's setup, not a row's.
#[test]
fn a_stale_verify_ticket_on_the_first_call_stops_the_run_and_touches_no_row() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = two_rows(&ws, "提供好用的在线工具。");
    with_tokens(&ws);
    sim.post("/__sim/verify_ticket", json!({"ticket": "ticket@@@pushed-while-serve-was-down"}));
    let ran = ws.test_on(&sim).args(["run", &job]).status_any().run();
    assert_stopped(&ws, &ran, &format!("the run could not proceed: {STALE_TICKET}"));
    let paths: Vec<_> = sim.calls().iter().map(|c| c["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, [TOKEN_PATH], "nothing after the failing call");
    assert!(ws.query("SELECT * FROM steps").is_empty(), "no step changed");
}

#[test]
fn a_verify_ticket_gone_stale_when_the_cached_component_token_expires_mid_run_stops_it() {
    stop_mid_run(
        |sim| {
            sim.post("/__sim/verify_ticket", json!({"ticket": "ticket@@@pushed-while-serve-was-down"}));
            None
        },
        STALE_TICKET,
    );
}

/// A WXPROV_COMPONENT_APPID that is not the platform's: 40013 on the component's own token
/// call stops the run (on one account's call the same code is that row's: see explain.rs).
#[test]
fn a_wrong_component_appid_stops_the_run_and_touches_no_row() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = two_rows(&ws, "提供好用的在线工具。");
    with_tokens(&ws);
    let ran =
        ws.test_on(&sim).env("WXPROV_COMPONENT_APPID", "wx0123456789abcdef").args(["run", &job]).status_any().run();
    assert_stopped(&ws, &ran, &format!("the run could not proceed: {WRONG_APPID}"));
    let paths: Vec<_> = sim.calls().iter().map(|c| c["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, [TOKEN_PATH], "nothing after the failing call");
    assert!(ws.query("SELECT * FROM steps").is_empty(), "no step changed");
    assert_eq!(result_for(&ws, FRESH)["signature"], "pending");
}

/// 40013 on one account's call (its own access token) is that row's problem, not the
/// platform's: the row fails with the appid hint and goes to failed.csv, the run goes on for
/// the other account and ends with exit 3 — not a stop (the catalogue keys 40013 by token).
#[test]
fn a_40013_on_one_accounts_call_fails_that_row_and_the_run_goes_on() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = two_rows(&ws, "提供好用的在线工具。");
    with_tokens(&ws);
    sim.post(
        "/__sim/faults",
        json!({"path": "/cgi-bin/account/modifysignature", "kind": "errcode", "errcode": 40013, "appid": FRESH}),
    );
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(error_lines(&ran).is_empty(), "no stop: {}", ran.stderr);
    assert_eq!(summary(&ws)["stopped"], Value::Null);

    let row = result_for(&ws, FRESH);
    let shown: Vec<&str> = ["signature", "step", "errcode", "hint"].iter().map(|c| row[*c].as_str()).collect();
    assert_eq!(
        shown,
        [
            "failed",
            "signature",
            "40013",
            "Check the appid / official_appid column: `wx` followed by 16 hex digits, no spaces or stray \
             characters, and an account that exists."
        ]
    );
    assert_eq!(result_for(&ws, CONFIGURED)["signature"], "done", "the other account goes on");
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[1][..2], [FRESH, "提供好用的在线工具。"]);
    assert!(failed[1][2].starts_with("[signature] errcode 40013: "), "{failed:?}");
}
