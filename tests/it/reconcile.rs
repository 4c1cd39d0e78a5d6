//! Reconciliation edge cases found in review: each would have spent a quota twice, resent a
//! call blindly, left a step stuck, or given cron the wrong exit code.

use serde_json::json;

use crate::harness::{Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

const OA: &str = "wx28f759479ea1e090";

/// A registration job whose row carries a fresh scan's ticket.
fn registration_job(ws: &Workspace, sim: &Sim) {
    job(ws, "official_appid,signature\nwx28f759479ea1e090,一家示例门店的功能介绍。\n");
    ws.test_on(sim).args(["tokens", "recover"]).run();
    let ticket = sim.post("/__sim/scan", json!({"official_appid": OA}))["ticket"].as_str().unwrap().to_string();
    ws.write("manifest.csv", format!("official_appid,ticket,signature\n{OA},{ticket},一家示例门店的功能介绍。\n"));
}

#[test]
fn a_failed_audit_poll_keeps_the_step_in_review_and_never_resends_setnickname() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, "appid,nickname\nwxe5f52902cf4de896,杭州示例工具\n");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["nickname"], "in_review");
    sim.post(
        "/__sim/faults",
        json!({"path": "/wxa/api_wxa_querynickname", "kind": "http", "status": 502, "times": 50}),
    );
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["nickname"], "in_review", "a failed question does not end the audit");
    sim.http_delete("/__sim/faults");
    for _ in 0..3 {
        ws.test_on(&sim).args(["run", &job]).run();
    }
    assert_eq!(result_for(&ws, FRESH)["nickname"], "done");
    assert_eq!(sim.calls_to("/wxa/setnickname").len(), 1, "setnickname is sent once");
}

#[test]
fn minus_one_on_fastregister_is_reconciled_before_the_ticket_is_sent_again_after_5_s() {
    let sim = Sim::start();
    let ws = Workspace::new();
    registration_job(&ws, &sim);
    sim.post("/__sim/faults", json!({"path": "/cgi-bin/account/fastregister", "kind": "errcode", "errcode": -1}));
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    let calls = sim.calls();
    let sends: Vec<_> = calls.iter().filter(|c| c["path"] == "/cgi-bin/account/fastregister").collect();
    assert_eq!(sends.len(), 2, "{sends:#?}");
    let (first, second) = (sends[0]["seq"].as_u64().unwrap(), sends[1]["seq"].as_u64().unwrap());
    let gap = sends[1]["at_ms"].as_u64().unwrap() - sends[0]["at_ms"].as_u64().unwrap();
    assert!(gap >= 5000, "the same ticket is not sent again within 5 s ({gap} ms)");
    let looked = calls.iter().any(|c| {
        c["path"] == "/cgi-bin/component/api_get_authorizer_list"
            && (first..second).contains(&c["seq"].as_u64().unwrap())
    });
    assert!(looked, "the first attempt was reconciled before the second");
    let state = sim.get("/__sim/state");
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
}

#[test]
fn a_lost_registration_is_found_even_after_tokens_recover_stored_its_token() {
    let sim = Sim::start();
    let ws = Workspace::new();
    registration_job(&ws, &sim);
    sim.post(
        "/__sim/faults",
        json!([
            {"path": "/cgi-bin/account/fastregister", "kind": "effect_then_drop"},
            {"path": "/cgi-bin/component/api_get_authorizer_list", "kind": "http", "status": 502, "times": 100}
        ]),
    );
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    sim.http_delete("/__sim/faults");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // The merchant scans again, thinking it did not work.
    let ticket = sim.post("/__sim/scan", json!({"official_appid": OA}))["ticket"].as_str().unwrap().to_string();
    ws.write("manifest.csv", format!("official_appid,ticket,signature\n{OA},{ticket},一家示例门店的功能介绍。\n"));
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    assert_eq!(sim.calls_to("/cgi-bin/account/fastregister").len(), 1, "never registered twice");
    let state = sim.get("/__sim/state");
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
    let rows = crate::run::results(&ws);
    assert_eq!(rows[1][3], "done", "{rows:?}");
}

#[test]
fn a_rejected_category_fails_with_wechats_reason_and_is_not_resubmitted() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        "appid,categories\nwxe5f52902cf4de896,\"教育/出国移民[因私出入境中介机构经营许可证=images/visa.jpg]\"\n",
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["categories"], "in_review");
    sim.post(
        "/__sim/category_audit",
        json!({"appid": FRESH, "first": 8, "second": 39, "result": 2, "reason": "证件模糊"}),
    );
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    let row = result_for(&ws, FRESH);
    assert_eq!(row["categories"], "failed");
    assert!(row["message"].contains("证件模糊"), "{row:?}");
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(sim.calls_to("/cgi-bin/wxopen/modifycategory").is_empty(), "not resubmitted with the same certificate");
}

#[test]
fn a_valid_row_that_asks_nothing_needs_no_person() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, "appid,signature\nwxe5f52902cf4de896,\n");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(read_csv(&ws.path().join("reports/latest/failed.csv")).len(), 1, "failed.csv has only its header");
}
