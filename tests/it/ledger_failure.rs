//! A ledger failure mid-run: the ledger is what keeps a resume from spending a quota twice, so
//! at the first write it cannot make the run stops sending — no row starts, no step starts,
//! the calls in flight finish — and ends with exit 1 (DESIGN §6: the run could not proceed,
//! the ledger) and one sentence naming the ledger and SQLite's cause; no row is blamed, and
//! the rows it did not get to are left as they were. The failure is a real one: the test
//! holds the ledger's write lock from a connection of its own (`BEGIN EXCLUSIVE`, as a
//! `sqlite3` session could) until the writer's busy timeout (10 s) runs out. Once the lock
//! is released the next run finishes every row, and no change already made reaches WeChat
//! again.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crash::{repeats_after_effect, run_command};
use crate::harness::assert_no_secret;
use crate::interrupt::slow_job;
use crate::run::results;

const HEADIMAGE: &str = "/cgi-bin/account/modifyheadimage";
const SIGNATURE: &str = "/cgi-bin/account/modifysignature";
const UPLOAD: &str = "/cgi-bin/media/upload";

/// The line of stderr without its log timestamp, and that timestamp (Unix ms) if it had one.
fn untimed(line: &str) -> (Option<i64>, String) {
    match line.split_once(' ').map(|(t, rest)| (chrono::DateTime::parse_from_rfc3339(t), rest)) {
        Some((Ok(at), rest)) => (Some(at.timestamp_millis()), rest.trim_start().to_string()),
        _ => (None, line.to_string()),
    }
}

#[test]
fn a_ledger_locked_past_the_busy_timeout_stops_the_run_and_the_next_run_resumes_without_a_repeat() {
    let (sim, ws, minis) = slow_job(12, 200);
    sim.http_delete("/__sim/calls");

    // Run 1, until three rows have their avatar set (the second and last step of a row).
    let (out, err) = (ws.path().join("run.out"), ws.path().join("run.err"));
    let mut child = run_command(&ws, &sim)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn wxprov run");
    // Not timing assumptions: bounds so that a broken run cannot hang the test.
    let give_up = Instant::now() + Duration::from_secs(120);
    while sim.calls_to(HEADIMAGE).len() < 3 {
        assert!(Instant::now() < give_up, "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the ledger was locked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lock = rusqlite::Connection::open(ws.ledger()).unwrap();
    // Long enough to wait out the writer's own (short) transactions.
    lock.busy_timeout(Duration::from_secs(30)).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < give_up, "the run did not end while its ledger was locked");
        std::thread::sleep(Duration::from_millis(50));
    };
    let calls = sim.calls();
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);

    let stdout = std::fs::read_to_string(&out).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    let shown = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(1), "{shown}");
    assert_eq!(stdout, "", "no summary table: the run's reports could not be made");
    assert_no_secret("stderr", &stderr, &sim.secrets());

    // Stderr, whole: the run's start, the failure when it happened, the one sentence at the
    // end — and the progress line logged every 10 s while the writer waited for the lock.
    let ledger = ws.ledger().display().to_string();
    let run_id = ws.query("SELECT id FROM runs WHERE command = 'run'");
    assert_eq!(run_id.len(), 1, "{run_id:?}");
    let run_id = &run_id[0][0];
    let failed = format!("the ledger {ledger} failed: database is locked (SQLITE_BUSY)");
    let lines: Vec<(Option<i64>, String)> = stderr.lines().map(untimed).collect();
    let progress = |l: &&str| l.starts_with("INFO progress: ") && l.ends_with("s)");
    let told: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).filter(|l| !progress(l)).collect();
    assert_eq!(
        told,
        [
            "INFO reading manifest.csv as UTF-8, header on line 1".to_string(),
            format!("INFO run {run_id}: 12 rows"),
            // The simulator's stated limit, read (quota/get) before the first signature change.
            "INFO WeChat limits /cgi-bin/account/modifysignature to 6000 calls per 60 s (on an account's behalf \
             3000 calls per 60 s): at most one call every 20 ms"
                .to_string(),
            format!("WARN {failed}: nothing more is written to it, and no new call is sent in this run"),
            format!(
                "error: the run stopped: {failed} — another connection held its write lock longer than wxprov \
                 waits (10 s). No call was sent after it and no row is at fault: end that connection (a `sqlite3` \
                 session, a backup), then run again; it goes on from where the ledger stands"
            ),
        ],
        "{shown}"
    );
    let failed_at = lines.iter().find(|(_, l)| l.starts_with("WARN the ledger")).and_then(|(at, _)| *at).unwrap();

    // The calls stop at the failure. By then every row at work had been waiting on the
    // ledger for its busy timeout (the record of a change, made before the change is sent),
    // so no call was in flight: none reached the simulator after it.
    let late: Vec<&Value> = calls.iter().filter(|c| c["at_ms"].as_i64().unwrap() > failed_at).collect();
    assert!(late.is_empty(), "calls after the ledger failed at {failed_at}: {late:#?}");
    assert!(sim.calls().len() == calls.len(), "no call after the run ended");

    // No row is the sheet's fault: no step failed or blocked, and no report was written (the
    // run's folder is gone, `latest` never pointed anywhere). The rows the run did not get
    // to have no record, as before the run.
    let states = ws.query("SELECT DISTINCT state FROM steps ORDER BY state");
    assert!(states.iter().all(|s| ["done", "pending"].contains(&s[0].as_str())), "{states:?}");
    let reports: Vec<_> = std::fs::read_dir(ws.path().join("reports")).unwrap().collect();
    assert!(reports.is_empty(), "{reports:?}");
    let called: BTreeSet<String> = calls.iter().filter_map(|c| c["appid"].as_str().map(str::to_string)).collect();
    let recorded: BTreeSet<String> =
        ws.query("SELECT DISTINCT identity FROM steps").into_iter().map(|r| r[0].clone()).collect();
    assert!(recorded.is_subset(&called), "rows with records but no call: {recorded:?} {called:?}");
    let untouched: Vec<&String> = minis.iter().filter(|m| !called.contains(*m)).collect();
    assert!(!untouched.is_empty(), "the run got to every row before the lock: {called:?}");
    // What the ledger says was done: the rerun must send none of it again.
    let done: Vec<(String, String)> = ws
        .query("SELECT identity, kind FROM steps WHERE state = 'done'")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert!(done.len() >= 2, "{done:?}");
    let status_line = ws.test().args(["status"]).run();
    assert!(
        status_line.stdout.contains(&format!("  {run_id}  run  ended without finishing  ")),
        "{}",
        status_line.stdout
    );

    // The lock is released: the next run finishes every row.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    let results = results(&ws);
    let column = |name: &str| results[0].iter().position(|h| h == name).unwrap();
    let (signature, avatar) = (column("signature"), column("avatar"));
    assert_eq!(results.len(), 1 + minis.len());
    for row in &results[1..] {
        assert_eq!((row[signature].as_str(), row[avatar].as_str()), ("done", "done"), "{row:?}");
    }
    let state = sim.get("/__sim/state");
    for (i, appid) in minis.iter().enumerate() {
        assert_eq!(state["mini_programs"][appid]["signature"], format!("第{i}家门店的功能介绍。"), "{appid}");
    }
    // A step the ledger had as done makes no change again; no change at all is repeated.
    let rerun: Vec<Value> = sim.calls().into_iter().skip(before).collect();
    for (appid, kind) in &done {
        let changes: &[&str] = if kind == "signature" { &[SIGNATURE] } else { &[UPLOAD, HEADIMAGE] };
        let again: Vec<&Value> = rerun
            .iter()
            .filter(|c| c["appid"] == appid.as_str() && changes.contains(&c["path"].as_str().unwrap()))
            .collect();
        assert!(again.is_empty(), "{kind} of {appid} was done, and sent again: {again:#?}");
    }
    let repeats = repeats_after_effect(&sim.calls());
    assert!(repeats.is_empty(), "sent again after it took effect: {repeats:#?}");
}
