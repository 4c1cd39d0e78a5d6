//! `wxprov plan`: what a run would do, read from live state with read-only calls; and a bad
//! row never costs an API call.

use serde_json::Value;

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
