//! Daily quotas (45009, DESIGN §5): met on an account's call, the quota defers that account's
//! step for that API to the next Beijing day while other accounts — and the account's other
//! APIs — go on in the same run; met on the component's own APIs (its token, the authorizer
//! token exchange), it defers every row that needs them, exit 4, and the API is not called
//! again in the run.

use serde_json::json;

use crate::harness::{Sim, Workspace};
use crate::run::{job, result_for, FRESH};

/// A mini-program of the example fixture whose signature is 旧的功能介绍。.
const SECOND: &str = "wxa1b2c3d4e5f60102";
const THIRD: &str = "wxa1b2c3d4e5f60101";
const MODIFYSIGNATURE: &str = "/cgi-bin/account/modifysignature";
const DAILY_HINT: &str = "The daily quota of this API is spent; wxprov defers the row to the next day (Beijing time) \
    and a later run continues. See what is left with `wxprov quota APPID`. Nothing to fix in the sheet.";

/// Beijing midnight is 16:00 UTC.
const BEIJING_MIDNIGHT_UTC_SECS: i64 = 16 * 3600;

/// Checks that a step deferred by a daily quota waits for the first Beijing midnight after
/// it was tried: judged from its own record, so the check holds whenever it runs.
fn deferred_to_the_next_beijing_day(ws: &Workspace, identity: &str, kind: &str) {
    let row = ws.query(&format!(
        "SELECT state, errcode, not_before, tried_at FROM steps WHERE identity = '{identity}' AND kind = '{kind}'"
    ));
    let [state, errcode, not_before, tried_at] = &row[0][..] else { panic!("{row:?}") };
    assert_eq!((state.as_str(), errcode.as_str()), ("deferred", "45009"), "{identity} {kind}");
    let (not_before, tried_at): (i64, i64) = (not_before.parse().unwrap(), tried_at.parse().unwrap());
    assert_eq!(not_before.rem_euclid(86400), BEIJING_MIDNIGHT_UTC_SECS, "a Beijing midnight");
    assert!(not_before * 1000 > tried_at && not_before * 1000 - tried_at <= 86_400_000, "the next one");
}

/// The calls to `path` by appid and errcode, in order.
fn calls_to(sim: &Sim, path: &str) -> Vec<(String, i64)> {
    sim.calls_to(path)
        .iter()
        .map(|c| {
            let appid = c["appid"].as_str().or(c["body"]["authorizer_appid"].as_str()).unwrap_or_default();
            (appid.to_string(), c["errcode"].as_i64().unwrap_or(-999))
        })
        .collect()
}

#[test]
fn a_daily_quota_on_one_accounts_call_defers_only_that_account_and_api() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!("appid,signature,categories\n{FRESH},今天配额用完的简介。,287/612\n{SECOND},另一个账号的新简介。,\n"),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    sim.post("/__sim/faults", json!({"path": MODIFYSIGNATURE, "kind": "errcode", "errcode": 45009, "appid": FRESH}));
    ws.test_on(&sim).args(["run", &job]).status(4).run();

    let mut sent = calls_to(&sim, MODIFYSIGNATURE);
    sent.sort();
    assert_eq!(sent, [(SECOND.to_string(), 0), (FRESH.to_string(), 45009)]);
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][SECOND]["signature"], "另一个账号的新简介。");
    // The account's other APIs go on: its categories were added after the signature's 45009.
    assert_eq!(calls_to(&sim, "/cgi-bin/wxopen/addcategory"), [(FRESH.to_string(), 0)]);

    let fresh = result_for(&ws, FRESH);
    let shown: Vec<&str> =
        ["signature", "categories", "step", "errcode", "message", "hint"].iter().map(|c| fresh[*c].as_str()).collect();
    assert_eq!(
        shown,
        [
            "deferred",
            "done",
            "signature",
            "45009",
            "/cgi-bin/account/modifysignature: errcode 45009 (接口调用超过限制): reach max api daily quota limit",
            DAILY_HINT
        ]
    );
    assert_eq!(result_for(&ws, SECOND)["signature"], "done");
    deferred_to_the_next_beijing_day(&ws, FRESH, "signature");

    // The same day the deferred step is left alone: no modifysignature at all.
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    assert_eq!(calls_to(&sim, MODIFYSIGNATURE).len(), 2);
    assert_eq!(result_for(&ws, FRESH)["signature"], "deferred");
}

/// A sheet of three signatures whose tokens are imported (no access token cached: each
/// row's first call needs the component's token exchange), run one row at a time with
/// `fault` scheduled for every call of its path.
fn three_rows_meeting(path: &str) -> (Sim, Workspace) {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!("appid,signature\n{FRESH},第一条新简介。\n{SECOND},第二条新简介。\n{THIRD},第三条新简介。\n"),
    );
    ws.write(
        "tokens.csv",
        format!(
            "{FRESH},refreshtoken@@@mp-fresh-0001\n{SECOND},refreshtoken@@@mp-template-signature-0102\n\
             {THIRD},refreshtoken@@@mp-template-name-0101\n"
        ),
    );
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    sim.post("/__sim/faults", json!({"path": path, "kind": "errcode", "errcode": 45009, "times": 100}));
    ws.test_on(&sim).args(["run", &job, "--concurrency", "1"]).status(4).run();
    for appid in [FRESH, SECOND, THIRD] {
        let row = result_for(&ws, appid);
        assert_eq!((row["signature"].as_str(), row["errcode"].as_str()), ("deferred", "45009"), "{appid}: {row:?}");
        deferred_to_the_next_beijing_day(&ws, appid, "signature");
    }
    assert!(sim.calls_to(MODIFYSIGNATURE).is_empty());
    (sim, ws)
}

#[test]
fn a_daily_quota_on_the_authorizer_token_exchange_defers_every_row_and_is_not_called_again() {
    let (sim, _ws) = three_rows_meeting("/cgi-bin/component/api_authorizer_token");
    assert_eq!(calls_to(&sim, "/cgi-bin/component/api_authorizer_token"), [(FRESH.to_string(), 45009)]);
}

#[test]
fn a_daily_quota_on_the_component_token_defers_every_row_and_is_not_called_again() {
    let (sim, _ws) = three_rows_meeting("/cgi-bin/component/api_component_token");
    assert_eq!(sim.calls_to("/cgi-bin/component/api_component_token").len(), 1);
    assert!(sim.calls_to("/cgi-bin/component/api_authorizer_token").is_empty());
}
