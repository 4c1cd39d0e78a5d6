//! One retry policy (DESIGN §5): `[retry] max_attempts` bounds how many times one call is
//! sent for one step in one run, whichever layer tries again — the client after a transient
//! failure, or the runner reconciling an uncertain state-changing call from live state.

use serde_json::json;

use crate::harness::{Sim, Workspace};
use crate::run::{job, result_for, FRESH};

const BASIC_INFO: &str = "/cgi-bin/account/getaccountbasicinfo";
const MODIFYSIGNATURE: &str = "/cgi-bin/account/modifysignature";
const RETRY_HINT: &str = "WeChat did not answer after several tries; the next run tries again.";

/// A one-row sheet changing FRESH's signature, its token recovered, with `[retry]
/// max_attempts = 3` and `fault` scheduled for every call of its path.
fn signature_meeting(fault: serde_json::Value) -> (Sim, Workspace) {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},一直失败的新简介。\n"));
    let job_file = std::fs::read_to_string(ws.path().join(&job)).unwrap();
    ws.write(&job, job_file.replace("max_attempts = 5", "max_attempts = 3"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    sim.post("/__sim/faults", fault);
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    (sim, ws)
}

/// The calls to `path` for FRESH, as (errcode, fault) in order.
fn sent(sim: &Sim, path: &str) -> Vec<(i64, String)> {
    sim.calls_to(path)
        .iter()
        .filter(|c| c["appid"] == FRESH)
        .map(|c| (c["errcode"].as_i64().unwrap_or(-999), c["fault"].as_str().unwrap_or_default().to_string()))
        .collect()
}

fn shown(ws: &Workspace) -> Vec<String> {
    let row = result_for(ws, FRESH);
    ["signature", "step", "errcode", "message", "hint"].iter().map(|c| row[*c].clone()).collect()
}

#[test]
fn a_read_failing_every_time_is_sent_max_attempts_times_in_a_run() {
    let (sim, ws) = signature_meeting(json!({"path": BASIC_INFO, "kind": "errcode", "errcode": -1, "times": 100}));
    let busy = (-1, "errcode".to_string());
    assert_eq!(sent(&sim, BASIC_INFO), [busy.clone(), busy.clone(), busy], "three sends, not 3 × 3");
    assert!(sim.calls_to(MODIFYSIGNATURE).is_empty(), "nothing is changed without reading live state");
    assert_eq!(
        shown(&ws),
        [
            "deferred",
            "signature",
            "-1",
            "/cgi-bin/account/getaccountbasicinfo: errcode -1 (系统繁忙，此时请开发者稍候再试): system error",
            RETRY_HINT
        ]
    );
}

#[test]
fn an_uncertain_change_failing_every_time_is_sent_max_attempts_times_each_after_a_fresh_read() {
    let (sim, ws) = signature_meeting(json!({"path": MODIFYSIGNATURE, "kind": "errcode", "errcode": -1, "times": 100}));
    let busy = (-1, "errcode".to_string());
    assert_eq!(sent(&sim, MODIFYSIGNATURE), [busy.clone(), busy.clone(), busy]);
    // Each try reads live state first: a −1 says nothing about whether the change was made.
    assert_eq!(sent(&sim, BASIC_INFO), [(0, String::new()), (0, String::new()), (0, String::new())]);
    let order: Vec<String> = sim
        .calls()
        .iter()
        .filter(|c| c["appid"] == FRESH)
        .map(|c| c["path"].as_str().unwrap_or_default().to_string())
        .filter(|p| p == BASIC_INFO || p == MODIFYSIGNATURE)
        .collect();
    assert_eq!(order, [BASIC_INFO, MODIFYSIGNATURE, BASIC_INFO, MODIFYSIGNATURE, BASIC_INFO, MODIFYSIGNATURE]);
    assert_eq!(
        shown(&ws),
        [
            "deferred",
            "signature",
            "-1",
            "/cgi-bin/account/modifysignature: errcode -1 (系统繁忙，此时请开发者稍候再试): system error",
            RETRY_HINT
        ]
    );
}
