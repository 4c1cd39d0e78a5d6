//! Faults: with 10 % of calls failing at random (−1, 45011, HTTP 502, dropped connections)
//! and a token forced to expire mid-run, every row still ends done, and no change is
//! applied twice.

use std::time::Duration;

use serde_json::json;

use crate::crash::{extra_minis, manifest_with, repeats_after_effect};
use crate::harness::{example_fixture, Sim, Workspace};
use crate::run::{job, results};

#[test]
fn ten_percent_faults_and_a_token_expiry_still_end_every_row_done() {
    let mut fixture = example_fixture();
    let extra = extra_minis(&mut fixture, 12);
    let sim = Sim::with_fixture(fixture, &["--fault-rate", "0.1", "--seed", "7", "--latency-ms", "5"]);
    let ws = Workspace::new();
    job(&ws, &manifest_with(&extra));
    ws.test_on(&sim).args(["tokens", "recover"]).run();

    // Expire a token once the run is under way.
    let url = sim.url.clone();
    let expiry = std::thread::spawn(move || {
        let http = reqwest::blocking::Client::new();
        for _ in 0..3000 {
            let calls: serde_json::Value = http.get(format!("{url}/__sim/calls")).send().unwrap().json().unwrap();
            if calls.as_array().map(|c| c.len()).unwrap_or(0) > 40 {
                http.post(format!("{url}/__sim/expire")).json(&json!({"appid": extra[0]})).send().unwrap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    });
    let first = ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    assert!(expiry.join().unwrap(), "the token was expired mid-run");
    assert!(matches!(first.code, 0 | 4), "no row needs a person: {}", first.all());

    // Audits finish; anything deferred by a fault that outlasted its retries continues.
    let mut code = first.code;
    for _ in 0..4 {
        let state = sim.get("/__sim/state");
        for appid in state["mini_programs"].as_object().unwrap().keys() {
            sim.post("/__sim/audit", json!({"appid": appid, "result": 3}));
        }
        code = ws.test_on(&sim).args(["run", "job.toml"]).status_any().run().code;
        let done =
            results(&ws).iter().skip(1).all(|r| r[3..9].iter().all(|s| s.is_empty() || s == "done" || s == "skipped"));
        if code == 0 && done {
            break;
        }
    }
    assert_eq!(code, 0);
    for row in results(&ws).iter().skip(1) {
        assert!(row[3..9].iter().all(|s| s.is_empty() || s == "done" || s == "skipped"), "{row:?}");
    }
    let calls = sim.calls();
    let faults = calls.iter().filter(|c| !c["fault"].is_null()).count();
    assert!(faults >= 10, "faults were injected ({faults})");
    assert!(calls.iter().any(|c| c["errcode"] == 42001), "the forced expiry was met");
    let repeats = repeats_after_effect(&calls);
    assert!(repeats.is_empty(), "changes applied twice: {repeats:#?}");
}
