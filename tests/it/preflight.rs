//! Failure up front (DESIGN §1, §6): `run` checks the report folder before its first call,
//! and `wxprov check` tells, one line per check, whether a run could proceed.

use crate::harness::{Sim, Workspace};
use crate::run::{job, FRESH};

#[test]
fn run_stops_before_any_call_when_the_report_folder_is_not_writable() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    ws.write("blocker", "a file where the report folder's parent should be");
    let ran = ws.test_on(&sim).args(["run", &job, "--report-dir", "blocker/reports"]).status(1).run();
    assert_eq!(
        ran.stderr.lines().last(),
        Some(
            "error: the report folder blocker/reports is not writable: Not a directory (os error 20); fix it, \
             or give another with --report-dir or the job file's `report_dir`"
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stdout, "");
    assert!(sim.calls().is_empty(), "calls were made: {:?}", sim.calls());
    assert!(!ws.ledger().exists(), "the ledger was created");
}
