//! SIGTERM and SIGINT during a run (DESIGN §6): no new call starts, the calls in flight
//! finish, the reports are written and say the run was interrupted, the exit code is 143 or
//! 130, `status` tells the interrupted run with its reason — and the next run finishes the
//! work without sending any state-changing call twice.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crash::{extra_minis, repeats_after_effect, run_command};
use crate::harness::{example_fixture, utc8, Sim, Workspace};
use crate::run::{job, read_csv};

const NOT_FINISHED: &str = "not finished: the run was interrupted; the next run continues from here";

/// A slow run: `n` rows of signature and avatar changes, two at a time, every call
/// `latency_ms` long; the accounts' tokens recovered, the call log not cleared.
pub fn slow_job(n: usize, latency_ms: u64) -> (Sim, Workspace, Vec<String>) {
    let mut fixture = example_fixture();
    let minis = extra_minis(&mut fixture, n);
    let sim = Sim::with_fixture(fixture, &["--latency-ms", &latency_ms.to_string()]);
    let ws = Workspace::new();
    let mut csv = "appid,signature,avatar\n".to_string();
    for (i, appid) in minis.iter().enumerate() {
        csv.push_str(&format!("{appid},第{i}家门店的功能介绍。,images/tiny.png\n"));
    }
    job(&ws, &csv);
    let job_file = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write("job.toml", job_file.replace("concurrency = 8", "concurrency = 2"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    (sim, ws, minis)
}

/// Calls the simulator has had, not counting the `quota/get` reads a run makes once per API
/// path and day before its first call to the path (they finish no row).
fn work_calls(sim: &Sim) -> usize {
    sim.calls().iter().filter(|c| c["path"] != "/cgi-bin/openapi/quota/get").count()
}

/// Starts `wxprov run job.toml`, waits until the simulator has `calls` calls more (quota
/// reads aside), sends `signal`, and returns the exit code, the time of the signal (ms) and
/// the output.
fn interrupt_run(ws: &Workspace, sim: &Sim, calls: usize, signal: i32) -> (i32, i64, String) {
    let before = work_calls(sim);
    let out = ws.path().join("run.out");
    let mut child = run_command(ws, sim)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(ws.path().join("run.err")).unwrap())
        .spawn()
        .expect("spawn wxprov run");
    // Not a timing assumption: a bound so that a broken run cannot hang the test.
    let give_up = Instant::now() + Duration::from_secs(120);
    while work_calls(sim) < before + calls {
        assert!(Instant::now() < give_up, "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    let at_ms = chrono::Utc::now().timestamp_millis();
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill");
    let status = child.wait().unwrap();
    let output = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(ws.path().join("run.err")).unwrap_or_default()
    );
    assert!(!output.contains("panicked"), "{output}");
    (status.code().unwrap_or(-1), at_ms, output)
}

fn summary(ws: &Workspace) -> Value {
    serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap()
}

/// A Unix time (seconds) as `status` shows it, worked out by the tests' own UTC+8 helper.
fn beijing(secs: &str) -> String {
    utc8::shown(utc8::secs(secs))
}

#[test]
fn sigterm_mid_run_writes_interrupted_reports_exits_143_and_the_rerun_loses_and_doubles_nothing() {
    let (sim, ws, minis) = slow_job(12, 300);
    let (code, at_ms, output) = interrupt_run(&ws, &sim, 12, libc::SIGTERM);
    assert_eq!(code, 143, "{output}");

    // No new call after the signal: at most the two rows at work had one in flight each.
    let late: Vec<Value> =
        sim.calls().into_iter().filter(|c| c["at_ms"].as_i64().unwrap_or_default() > at_ms).collect();
    assert!(late.len() <= 2, "calls that reached WeChat after SIGTERM: {late:#?}");

    // The reports are written and say so; every row has its line.
    let summary = summary(&ws);
    assert_eq!((&summary["interrupted"], &summary["exit_code"]), (&Value::Bool(true), &Value::from(143)), "{summary}");
    let results = read_csv(&ws.path().join("reports/latest/results.csv"));
    assert_eq!(results.len(), 1 + minis.len());
    let message = results[0].iter().position(|h| h == "message").unwrap();
    let step = results[0].iter().position(|h| h == "step").unwrap();
    let unfinished: Vec<&Vec<String>> = results[1..].iter().filter(|r| r[message] == NOT_FINISHED).collect();
    assert!(!unfinished.is_empty() && unfinished.len() < minis.len(), "{results:?}");
    assert!(unfinished.iter().all(|r| r[step] == "signature" || r[step] == "avatar"), "{unfinished:?}");

    // The ledger and `status` say how the run ended, and why.
    let run_id = std::fs::read_link(ws.path().join("reports/latest")).unwrap().display().to_string();
    let run = ws.query(&format!(
        "SELECT status, reason, started_at, finished_at, rows, calls, exit_code FROM runs WHERE id = '{run_id}'"
    ));
    let reason = format!("SIGTERM: stopped with {} of {} rows not finished", unfinished.len(), minis.len());
    assert_eq!((run[0][0].as_str(), run[0][1].as_str(), run[0][6].as_str()), ("interrupted", reason.as_str(), "143"));
    let status = ws.test().args(["status"]).run();
    let expected = format!(
        "  {run_id}  run  interrupted  started {}  ended {}  rows {}  calls {}  exit 143  — {reason}",
        beijing(&run[0][2]),
        beijing(&run[0][3]),
        run[0][4],
        run[0][5]
    );
    assert!(status.stdout.lines().any(|l| l == expected), "want line\n{expected}\nin\n{}", status.stdout);

    // The next run finishes everything, and no change reaches WeChat twice.
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    let results = read_csv(&ws.path().join("reports/latest/results.csv"));
    let (signature, avatar) = (
        results[0].iter().position(|h| h == "signature").unwrap(),
        results[0].iter().position(|h| h == "avatar").unwrap(),
    );
    for row in &results[1..] {
        assert!(
            ["done", "skipped"].contains(&row[signature].as_str())
                && ["done", "skipped"].contains(&row[avatar].as_str()),
            "{row:?}"
        );
    }
    let state = sim.get("/__sim/state");
    for (i, appid) in minis.iter().enumerate() {
        assert_eq!(state["mini_programs"][appid]["signature"], format!("第{i}家门店的功能介绍。"), "{appid}");
    }
    let repeats = repeats_after_effect(&sim.calls());
    assert!(repeats.is_empty(), "sent again after it took effect: {repeats:#?}");
    let newest = ws.test().args(["status"]).run();
    let line = newest.stdout.lines().find(|l| l.contains("  run  ")).unwrap_or_default().to_string();
    assert!(line.contains("  run  finished  ") && line.ends_with("exit 0"), "{}", newest.stdout);
}

#[test]
fn sigint_mid_run_exits_130_with_interrupted_reports() {
    let (sim, ws, minis) = slow_job(6, 300);
    let (code, _, output) = interrupt_run(&ws, &sim, 6, libc::SIGINT);
    assert_eq!(code, 130, "{output}");
    let summary = summary(&ws);
    assert_eq!((&summary["interrupted"], &summary["exit_code"]), (&Value::Bool(true), &Value::from(130)), "{summary}");
    let results = read_csv(&ws.path().join("reports/latest/results.csv"));
    assert_eq!(results.len(), 1 + minis.len());
    let reason = ws.query("SELECT status, substr(reason, 1, 7) FROM runs WHERE command = 'run'");
    assert_eq!(reason, [["interrupted", "SIGINT:"]]);
}
