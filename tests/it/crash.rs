//! Crash safety: `wxprov run` killed with SIGKILL at twenty points — while a call is in
//! flight, after the simulator applied a change but before the answer arrived
//! (effect-then-drop), between steps — and run again each time. Every row ends done, and the
//! simulator never receives a state-changing call again for a change it already applied.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{example_fixture, Sim, Workspace, BIN};
use crate::run::{job, results, state_changing, CONFIGURED, FRESH, STATE_CHANGING};

const LEGACY: &str = "wx1a2b3c4d5e6f7080";

pub const MANIFEST: &str = "appid,nickname,signature,avatar,categories,rebind_taskid\n\
    wxe5f52902cf4de896,杭州示例工具,提供好用的在线工具。,images/tiny.png,工具/计算器;287/612,\n\
    wxdc685123d9554530,,换一条新的简介。,images/tiny.jpg,-287/288;150/151,b25519093b1e97239eff9d2bfc07e08e\n\
    wx1a2b3c4d5e6f7080,,老账号的新简介。,images/tiny.png,287/613,\n";

/// `n` more fast-registered mini-programs, `wx00000000000c0de0`…, for runs with more work.
pub fn extra_minis(fixture: &mut Value, n: usize) -> Vec<String> {
    let minis = fixture["mini_programs"].as_array_mut().unwrap();
    (0..n)
        .map(|i| {
            let appid = format!("wx00000000000c{i:04x}");
            minis.push(json!({"appid": appid, "refresh_token": format!("refreshtoken@@@mp-extra-{i}")}));
            appid
        })
        .collect()
}

/// The three-row manifest plus a row per extra mini-program.
pub fn manifest_with(extra: &[String]) -> String {
    let mut csv = MANIFEST.to_string();
    for (i, appid) in extra.iter().enumerate() {
        csv.push_str(&format!("{appid},示例门店{i:02}号,第{i}家门店的功能介绍。,images/tiny.png,287/612;150/151,\n"));
    }
    csv
}

/// `wxprov run job.toml` against `sim`, for a test that starts it and then kills or signals
/// it (the fluent harness waits for the end); stdin is closed, stdout and stderr are the
/// caller's to set.
pub fn run_command(ws: &Workspace, sim: &Sim) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["run", "job.toml"])
        .current_dir(ws.path())
        .env("WXPROV_LEDGER", ws.ledger())
        .env("WXPROV_API_BASE", &sim.url)
        .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
        .env("WXPROV_COMPONENT_SECRET", &sim.component_secret)
        .env("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket)
        .stdin(Stdio::null());
    command
}

/// Spawns `wxprov run` against `sim`, its output discarded.
fn spawn_run(ws: &Workspace, sim: &Sim) -> std::process::Child {
    run_command(ws, sim).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn wxprov run")
}

/// Plays WeChat's reviewers: approves every running name audit.
fn approve_audits(sim: &Sim) {
    let state = sim.get("/__sim/state");
    for appid in state["mini_programs"].as_object().unwrap().keys() {
        sim.post("/__sim/audit", json!({"appid": appid, "result": 3}));
    }
}

/// The refusals by which the runner learns that a call whose answer was lost took effect:
/// it sends the call again, WeChat refuses it, nothing changes. A repeated `setnickname`
/// meets 91019 (an audit is already running); a repeated `componentrebindadmin` meets 85060
/// (the taskid was consumed: WeChat has no read-only call that shows the admin changed).
const PROBES: &[(&str, i64)] = &[("/wxa/setnickname", 91019), ("/cgi-bin/account/componentrebindadmin", 85060)];

/// For each change, the calls that reached the simulator after it had applied that change,
/// the [`PROBES`] apart.
pub fn repeats_after_effect(calls: &[Value]) -> Vec<String> {
    let mut applied: HashMap<String, u64> = HashMap::new();
    let mut repeats = Vec::new();
    for call in calls {
        let path = call["path"].as_str().unwrap_or_default();
        if !STATE_CHANGING.contains(&path) {
            continue;
        }
        // Category calls are changes per category; the others, one change per account.
        let key = if path.contains("category") {
            format!("{path} {} {}", call["appid"], call["body"])
        } else {
            format!("{path} {}", call["appid"])
        };
        if let Some(seq) = applied.get(&key) {
            let probe = call["effect"] == false && PROBES.iter().any(|&(p, code)| path == p && call["errcode"] == code);
            if !probe {
                repeats.push(format!("{key} (seq {} after seq {seq})", call["seq"]));
            }
        } else if call["effect"] == true {
            applied.insert(key, call["seq"].as_u64().unwrap_or_default());
        }
    }
    repeats
}

#[test]
fn kill_9_at_twenty_points_then_every_row_ends_done_and_nothing_is_applied_twice() {
    let mut fixture = example_fixture();
    let extra = extra_minis(&mut fixture, 16);
    let sim = Sim::with_fixture(fixture, &["--latency-ms", "20"]);
    let ws = Workspace::new();
    job(&ws, &manifest_with(&extra));
    // Two rows at a time, so each kill interrupts a few calls, not a whole batch.
    let job_file = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write("job.toml", job_file.replace("concurrency = 8", "concurrency = 2"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();

    let mut kills = 0;
    for point in 0..20usize {
        // Every third point, the next state-changing call takes effect and then the
        // connection drops: the run cannot know it worked.
        if point % 3 == 1 {
            let path = STATE_CHANGING[1 + point % 7];
            sim.post("/__sim/faults", json!({"path": path, "kind": "effect_then_drop"}));
        }
        let before = sim.calls().len();
        let mut child = spawn_run(&ws, &sim);
        // Kill once the simulator has seen a few state-changing calls of this run, after a
        // delay that varies the point: during a call, just after it, between steps.
        let target = 1 + point % 3;
        let delay = Duration::from_millis(((point * 7) % 30) as u64);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            let changes = state_changing(&sim.calls()[before..]).len();
            if changes >= target || Instant::now() > deadline {
                std::thread::sleep(delay);
                child.kill().unwrap();
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.wait().unwrap();
        approve_audits(&sim);
    }
    assert!(kills >= 18, "the points should kill runs mid-way ({kills} of 20 did)");
    sim.post("/__sim/faults", json!([]));
    let _ = sim.http_delete("/__sim/faults");

    let mut code = -1;
    for _ in 0..4 {
        code = ws.test_on(&sim).args(["run", "job.toml"]).status_any().run().code;
        approve_audits(&sim);
        if code == 0
            && results(&ws)
                .iter()
                .skip(1)
                .all(|r| r[3..9].iter().all(|s| s.is_empty() || s == "done" || s == "skipped"))
        {
            break;
        }
    }
    assert_eq!(code, 0);
    let rows = results(&ws);
    for row in rows.iter().skip(1) {
        assert!(
            row[3..9].iter().all(|s| s.is_empty() || s == "done" || s == "skipped"),
            "every step ends done: {row:?}"
        );
    }
    let calls = sim.calls();
    let dropped_after_effect = calls.iter().filter(|c| c["fault"] == "effect_then_drop" && c["effect"] == true).count();
    assert!(dropped_after_effect >= 3, "effect-then-drop faults hit state-changing calls ({dropped_after_effect})");
    let repeats = repeats_after_effect(&calls);
    assert!(repeats.is_empty(), "state-changing calls repeated after they took effect: {repeats:#?}");
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][FRESH]["nickname"], "杭州示例工具");
    assert_eq!(state["mini_programs"][CONFIGURED]["signature"], "换一条新的简介。");
    assert_eq!(state["mini_programs"][LEGACY]["signature"], "老账号的新简介。");
    assert!(!state_changing(&calls).is_empty());
}

/// A `componentrebindadmin` that took effect but whose answer was lost is sent again (the
/// step's only way to find out) and refused as consumed: the step ends done, the admin was
/// rebound once, and that refusal is no repeat. (Found by the kill-9 test when a kill landed
/// between the rebind and the record of its outcome.)
#[test]
fn a_rebind_whose_answer_was_lost_is_probed_once_and_that_is_no_repeat() {
    let sim = Sim::with_fixture(example_fixture(), &[]);
    let ws = Workspace::new();
    job(&ws, MANIFEST);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let rebind = "/cgi-bin/account/componentrebindadmin";
    sim.post("/__sim/faults", json!({"path": rebind, "kind": "effect_then_drop"}));
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();

    let calls = sim.calls_to(rebind);
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!((&calls[0]["fault"], &calls[0]["effect"]), (&json!("effect_then_drop"), &json!(true)));
    assert_eq!((&calls[1]["errcode"], &calls[1]["effect"]), (&json!(85060), &json!(false)));
    assert_eq!(sim.get("/__sim/state")["mini_programs"][CONFIGURED]["admin_rebinds"], 1);
    assert_eq!(crate::run::result_for(&ws, CONFIGURED)["rebind_admin"], "done");
    assert_eq!(repeats_after_effect(&sim.calls()), Vec::<String>::new());
}
