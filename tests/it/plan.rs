//! `wxprov plan`: what a run would do, read from live state with read-only calls; and a bad
//! row never costs an API call.

use serde_json::{json, Value};

use crate::harness::{Sim, Workspace};
use crate::run::{job, state_changing, CONFIGURED, FRESH, SPENT};

#[test]
fn plan_shows_set_skip_defer_fail_and_wait_and_changes_nothing() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,official_appid,signature,avatar_crop,avatar\n\
             {FRESH},,提供好用的在线工具。,,\n\
             {CONFIGURED},,一个简单好用的计算器。,,\n\
             {SPENT},,新的功能介绍文字,,\n\
             wx1a2b3c4d5e6f7080,,另一条简介内容,\"0,0,1.5,1\",images/tiny.png\n\
             ,wx28f759479ea1e090,,,\n"
        ),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // A row would fail: plan exits 3, as run would.
    let ran = ws.test_on(&sim).args(["plan", &job]).stdout_has("set 1, skip 1, wait 1").status(3).run();
    let line = |n: &str| ran.stdout.lines().find(|l| l.trim_start().starts_with(n)).unwrap_or_default().to_string();
    assert!(line("2 ").contains("signature") && line("2 ").contains("set"), "{}", ran.stdout);
    assert!(line("3 ").contains("skip"), "{}", ran.stdout);
    assert!(line("4 ").contains("defer") && line("4 ").contains("5/5"), "{}", ran.stdout);
    assert!(line("5 ").contains("fail") && line("5 ").contains("avatar_crop"), "{}", ran.stdout);
    assert!(line("6 ").contains("register") && line("6 ").contains("wait"), "{}", ran.stdout);
    assert!(ran.stdout.contains("defer 1") && ran.stdout.contains("fail 1"), "{}", ran.stdout);

    assert!(state_changing(&sim.calls()).is_empty(), "plan changes nothing at WeChat");
    assert!(ws.query("SELECT * FROM steps").is_empty(), "plan changes no step state");
    // No go-live row: no go-live section, and its calls are not made.
    assert!(!ran.stdout.contains("go-live") && sim.calls_to("/wxa/queryquota").is_empty(), "{}", ran.stdout);

    let json = ws.test_on(&sim).args(["plan", &job, "--format", "json"]).status(3).run();
    let planned: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(planned.as_array().unwrap().len(), 5);
    let csv = ws.test_on(&sim).args(["plan", &job, "--format", "csv"]).status(3).run();
    assert!(csv.stdout.starts_with("line,row,step,action,detail\n"));
}

#[test]
fn bad_rows_cost_no_api_call_and_do_not_stop_good_ones() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,signature,avatar,avatar_crop,nickname\n\
             {CONFIGURED},一段足够长的简介,images/tiny.png,\"0,0,1.5,1\",\n\
             {SPENT},好的,,,\n\
             wx1a2b3c4d5e6f7080,,,,我的小程序\n\
             {FRESH},提供好用的在线工具。,,,\n"
        ),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(ran.stderr.contains("line 2, column avatar_crop"), "{}", ran.stderr);
    assert!(ran.stderr.contains("line 3, column signature"), "{}", ran.stderr);
    assert!(ran.stderr.contains("line 4, column nickname"), "{}", ran.stderr);
    for bad in [CONFIGURED, SPENT, "wx1a2b3c4d5e6f7080"] {
        let calls: Vec<_> = sim.calls().into_iter().filter(|c| c["appid"] == bad).collect();
        assert!(calls.is_empty(), "no call for the bad row of {bad}: {calls:#?}");
    }
    let good: Vec<_> = sim.calls().into_iter().filter(|c| c["appid"] == FRESH).collect();
    assert!(good.iter().any(|c| c["path"] == "/cgi-bin/account/modifysignature"), "the good row ran");
}

/// A sheet that goes live: 4 rows (one still to register) against a pool of 2 of 10, and the
/// filing of each as the simulator has it (fixture: FRESH 6, SPENT 1024; CONFIGURED set to 4).
#[test]
fn plan_shows_the_audit_submissions_against_the_quota_and_each_rows_icp_filing() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(
        &ws,
        &format!(
            "appid,official_appid,golive,signature\n\
             {FRESH},,1,\n\
             {CONFIGURED},,1,\n\
             {SPENT},,1,\n\
             ,wx28f759479ea1e090,,\n\
             wx1a2b3c4d5e6f7080,,0,另一条简介内容\n"
        ),
    );
    ws.write("ext.json", r#"{"extAppid":"${appid}"}"#);
    ws.write(
        "job.toml",
        "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\n[limits]\ncalls_per_second = 2000\n\
         per_appid_per_second = 1000\n[golive]\ntemplate_id = 128\nuser_version = \"2.4.0\"\n\
         user_desc = \"门店版\"\next_json = \"ext.json\"\n",
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    sim.post("/__sim/audit_quota", json!({"limit": 10, "rest": 2}));
    sim.post("/__sim/icp", json!({"appid": CONFIGURED, "status": 4}));
    let before = sim.calls().len();

    // What the go-live steps decide changes as they land; the section does not.
    let ran = ws.test_on(&sim).args(["plan", "job.toml"]).status_any().run();
    let section = ran.stdout.find("\ngo-live:").map(|at| &ran.stdout[at..]).unwrap_or_default();
    assert_eq!(
        section,
        "\ngo-live: 4 rows\n  \
         audit quota: 4 audit submissions needed, queryquota shows 2 of 10 left this month: the first 2 in sheet \
         order would be submitted, the other 2 deferred until the quota is raised or the month turns (exit 4)\n  \
         ICP filing (get_icp_entrance_info; release needs 6, 已备案):\n   \
            line  row                  status meaning\n      \
               2  wxe5f52902cf4de896   6      已备案 (filed)\n      \
               3  wxdc685123d9554530   4      管局审核中 (in the bureau's review)\n      \
               4  wx0f1e2d3c4b5a6978   1024   未备案 (not filed)\n      \
               5  wx28f759479ea1e090   -      not registered yet: read once the registration is done\n",
        "{}",
        ran.stdout
    );
    // One queryquota for the sheet, one filing query per go-live row that has its mini-program.
    let calls = sim.calls()[before..].to_vec();
    let asked = |path: &str| -> Vec<String> {
        calls
            .iter()
            .filter(|c| c["path"] == path)
            .map(|c| c["appid"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(asked("/wxa/queryquota").len(), 1, "{calls:#?}");
    let mut icp = asked("/wxa/icp/get_icp_entrance_info");
    icp.sort();
    assert_eq!(icp, [SPENT, CONFIGURED, FRESH]);
    assert!(state_changing(&calls).is_empty(), "plan changes nothing at WeChat");
    assert!(ws.query("SELECT * FROM steps").is_empty(), "plan changes no step state");

    // Scripts read the same as `info` lines; the quota raised, the sheet fits.
    sim.post("/__sim/audit_quota", json!({"rest": 9}));
    let json_out = ws.test_on(&sim).args(["plan", "job.toml", "--format", "json"]).status_any().run();
    let planned: Value = serde_json::from_str(&json_out.stdout).unwrap();
    let info: Vec<&Value> = planned.as_array().unwrap().iter().filter(|l| l["action"] == "info").collect();
    assert_eq!(
        Value::from(info.into_iter().cloned().collect::<Vec<_>>()),
        json!([
            {"line": 2, "identity": FRESH, "step": "icp", "action": "info", "detail": "6 已备案 (filed)", "icp_status": 6},
            {"line": 3, "identity": CONFIGURED, "step": "icp", "action": "info", "detail": "4 管局审核中 (in the bureau's review)", "icp_status": 4},
            {"line": 4, "identity": SPENT, "step": "icp", "action": "info", "detail": "1024 未备案 (not filed)", "icp_status": 1024},
            {"line": 5, "identity": "wx28f759479ea1e090", "step": "icp", "action": "info", "detail": "not registered yet: read once the registration is done"},
            {"line": null, "identity": "", "step": "audit_quota", "action": "info",
             "detail": "4 audit submissions needed, queryquota shows 9 of 10 left this month", "needed": 4, "rest": 9, "limit": 10},
        ])
    );
    let csv = ws.test_on(&sim).args(["plan", "job.toml", "--format", "csv"]).status_any().run();
    let info: Vec<&str> = csv.stdout.lines().filter(|l| l.contains(",info,")).collect();
    assert_eq!(
        info,
        [
            format!("2,{FRESH},icp,info,6 已备案 (filed)"),
            format!("3,{CONFIGURED},icp,info,4 管局审核中 (in the bureau's review)"),
            format!("4,{SPENT},icp,info,1024 未备案 (not filed)"),
            "5,wx28f759479ea1e090,icp,info,not registered yet: read once the registration is done".into(),
            ",,audit_quota,info,\"4 audit submissions needed, queryquota shows 9 of 10 left this month\"".into(),
        ]
    );
}

/// A reading that fails is shown as not read, with WeChat's answer; plan goes on. The row's
/// signature waits for its quota, so its go-live waits behind it and no step of its own asks
/// either question.
#[test]
fn a_go_live_reading_that_fails_is_shown_not_read() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(
        &ws,
        &format!("appid,signature,template_id,user_version,user_desc,ext_json\n{SPENT},新的功能介绍文字,128,2.4.0,门店版,ext.json\n"),
    );
    ws.write("ext.json", "{}");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // Every reading fails: the row's own audit decision reads queryquota too, now that the
    // code and privacy steps before it decide in plan.
    for path in ["/wxa/queryquota", "/wxa/icp/get_icp_entrance_info"] {
        sim.post("/__sim/faults", json!({"path": path, "kind": "errcode", "errcode": 61007, "times": 100}));
    }
    let ran = ws.test_on(&sim).args(["plan", "job.toml", "--format", "json"]).status_any().run();
    let planned: Value = serde_json::from_str(&ran.stdout).unwrap();
    let info: Vec<String> = planned
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "info")
        .map(|l| format!("{} {}", l["step"].as_str().unwrap(), l["detail"].as_str().unwrap()))
        .collect();
    let not_read = "errcode 61007 (该接口的权限集未授权给第三方平台)";
    assert_eq!(info.len(), 2, "{info:?}");
    assert!(info[0].starts_with(&format!("icp not read: /wxa/icp/get_icp_entrance_info: {not_read}")), "{info:?}");
    assert!(
        info[1].starts_with(&format!(
            "audit_quota 1 audit submission needed; queryquota not read: /wxa/queryquota: {not_read}"
        )),
        "{info:?}"
    );
    assert!(planned.as_array().unwrap().iter().all(|l| l.get("rest").is_none() && l.get("icp_status").is_none()));
}

/// `plan` streams its rows as `run` does (#13): at concurrency 16 they finish out of line
/// order (a new name takes more calls than a signature), yet every format shows them in line
/// order, a row's steps in run order, the same as at concurrency 1.
#[test]
fn plans_at_concurrency_1_and_16_are_equal_line_for_line() {
    let mut fixture = crate::harness::example_fixture();
    let csv = crate::streaming::mixed(&mut fixture, 240);
    let sim = Sim::with_fixture(fixture, &["--seed", "13", "--latency-ms", "2"]);
    let ws = Workspace::new();
    let job = job(&ws, &csv);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let plan = |concurrency: usize, format: &str| {
        let ran = ws.test_on(&sim).env("WXPROV_CONCURRENCY", concurrency.to_string());
        ran.args(["plan", &job, "--format", format]).status(3).run().stdout
    };
    for format in ["table", "json"] {
        assert_eq!(plan(1, format), plan(16, format), "{format}");
    }
    let csv_1 = plan(1, "csv");
    assert_eq!(csv_1, plan(16, "csv"));
    // A line per row (the invalid one's `row`, every other's step), in line order.
    let planned: Vec<(u64, String)> = csv_1
        .lines()
        .skip(1)
        .map(|l| {
            let mut cells = l.split(',');
            (cells.next().unwrap().parse().unwrap(), cells.nth(1).unwrap().to_string())
        })
        .collect();
    let lines: Vec<u64> = planned.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, (2..=242).collect::<Vec<u64>>());
    assert_eq!(planned[121], (123, "row".to_string()));
    let steps: std::collections::BTreeSet<&str> = planned.iter().map(|(_, step)| step.as_str()).collect();
    assert_eq!(steps, ["nickname", "row", "signature"].into_iter().collect());
}
