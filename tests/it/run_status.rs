//! `status` tells runs apart by how they ended (#11 item 5): a run going on, one stopped by
//! the platform's setup (failed, with the reason), one killed before it could write anything
//! (ended without finishing). Interrupted and finished runs are in interrupt.rs.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crash::{extra_minis, run_command};
use crate::harness::{example_fixture, utc8, Sim, Workspace};
use crate::run::{job, FRESH};

const WRONG_SECRET: &str = "the run could not proceed: /cgi-bin/component/api_component_token: errcode 40125 \
    (无效的 AppSecret): invalid appsecret — The component secret is wrong: check WXPROV_COMPONENT_SECRET (or the file \
    named by WXPROV_COMPONENT_SECRET_FILE) against open.weixin.qq.com (管理中心 → 第三方平台 → AppSecret), then run \
    again. No row needs changing.";

/// A Unix time (seconds) as `status` shows it, worked out by the tests' own UTC+8 helper.
fn beijing(secs: &str) -> String {
    utc8::shown(utc8::secs(secs))
}

/// The lines of `status` under "recent runs:".
fn recent_runs(ws: &Workspace) -> Vec<String> {
    let status = ws.test().args(["status"]).run().stdout;
    status.lines().skip_while(|l| *l != "recent runs:").skip(1).map(str::to_string).collect()
}

#[test]
fn a_run_stopped_by_a_wrong_secret_is_shown_failed_with_its_reason() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    ws.write("tokens.csv", format!("{FRESH},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    ws.test_on(&sim).env("WXPROV_COMPONENT_SECRET", "not-the-secret").args(["run", &job]).status(1).run();

    let run = ws.query(
        "SELECT id, status, reason, started_at, finished_at, rows, calls, exit_code FROM runs WHERE command = 'run'",
    );
    let [id, state, reason, started, finished, rows, calls, exit] = &run[0][..] else { panic!("{run:?}") };
    assert_eq!((state.as_str(), exit.as_str(), rows.as_str(), calls.as_str()), ("failed", "1", "1", "1"));
    let summary: Value =
        serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stopped"].as_str(), Some(reason.as_str()), "the ledger keeps the reason the reports give");
    assert_eq!(reason, WRONG_SECRET);
    assert_eq!(
        recent_runs(&ws)[0],
        format!(
            "  {id}  run  failed  started {}  ended {}  rows 1  calls 1  exit 1  — {reason}",
            beijing(started),
            beijing(finished)
        )
    );
}

#[test]
fn a_run_is_shown_running_while_it_goes_and_ended_without_finishing_once_killed() {
    let mut fixture = example_fixture();
    let minis = extra_minis(&mut fixture, 24);
    let sim = Sim::with_fixture(fixture, &["--latency-ms", "300"]);
    let ws = Workspace::new();
    let csv: String = minis.iter().enumerate().map(|(i, a)| format!("{a},第{i}家门店的新简介。\n")).collect();
    job(&ws, &format!("appid,signature\n{csv}"));
    // Two rows at a time, every call 300 ms: the run lasts seconds, and is killed long before.
    let job_file = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write("job.toml", job_file.replace("concurrency = 8", "concurrency = 2"));
    // The fixture's refresh tokens, imported (no call: the simulator answers slowly).
    let tokens: String =
        minis.iter().enumerate().map(|(i, appid)| format!("{appid},refreshtoken@@@mp-extra-{i}\n")).collect();
    ws.write("tokens.csv", tokens);
    ws.test().args(["tokens", "import", "tokens.csv"]).run();

    let before = sim.calls().len();
    let mut child = run_command(&ws, &sim).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn");
    // Not a timing assumption: a bound so that a broken run cannot hang the test.
    let give_up = Instant::now() + Duration::from_secs(120);
    while sim.calls().len() < before + 3 {
        assert!(Instant::now() < give_up, "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it was looked at");
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = ws.query("SELECT id, started_at FROM runs WHERE command = 'run'");
    let (id, started) = (&run[0][0], beijing(&run[0][1]));
    let going = recent_runs(&ws);
    assert!(child.try_wait().unwrap().is_none(), "still going when status looked");
    assert_eq!(going[0], format!("  {id}  run  running  started {started}"));

    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(recent_runs(&ws)[0], format!("  {id}  run  ended without finishing  started {started}"));
}
