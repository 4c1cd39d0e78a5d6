//! Commands that only read never create a ledger (DESIGN §1): `status` and `tokens list` on
//! a missing ledger are an error naming the path; `plan` reads a missing ledger as empty;
//! `status JOB` reads the job's own ledger.

use crate::harness::{Sim, Test, Workspace};
use crate::run::{job, FRESH};

/// The files in the workspace's top folder, by name.
fn files(ws: &Workspace) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(ws.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn status_on_a_missing_ledger_is_an_error_naming_it_and_creates_nothing() {
    let ws = Workspace::new();
    let ran = Test::new().current_dir(ws.path()).args(["status", "--ledger", "typo.db"]).status(1).run();
    assert_eq!(
        ran.stderr,
        "error: the ledger typo.db does not exist (check --ledger, WXPROV_LEDGER or the job file's `ledger`)\n"
    );
    assert_eq!(ran.stdout, "");
    let ran = Test::new().current_dir(ws.path()).args(["tokens", "list", "--ledger", "typo.db"]).status(1).run();
    assert!(ran.stderr.starts_with("error: the ledger typo.db does not exist"), "{}", ran.stderr);
    assert!(files(&ws).is_empty(), "{:?}", files(&ws));
}

#[test]
fn plan_reads_a_missing_ledger_as_empty_without_creating_it() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    let before = files(&ws);
    // Without a refresh token the row's token is missing: plan still plans, and creates nothing.
    ws.test_on(&sim).args(["plan", &job]).status_any().run();
    assert_eq!(files(&ws), before);
    assert!(!ws.ledger().exists());
    ws.test_on(&sim).args(["quota", FRESH]).status_any().run();
    ws.test_on(&sim).args(["categories", "--appid", FRESH]).status_any().run();
    assert_eq!(files(&ws), before, "quota and categories created files");
}

#[test]
fn status_of_a_job_reads_the_jobs_ledger() {
    let ws = Workspace::new();
    ws.write("m.csv", "appid,signature\nwxe5f52902cf4de896,提供好用的在线工具。\n");
    ws.write("job.toml", "manifest = \"m.csv\"\nledger = \"data/job.db\"\n");
    ws.write("tokens.csv", "wxe5f52902cf4de896,refreshtoken@@@mp-fresh-0001\n");
    let t = || Test::new().current_dir(ws.path());
    t().args(["tokens", "import", "tokens.csv", "--ledger", "data/job.db"]).run();
    let ran = t().args(["status", "job.toml"]).run();
    assert_eq!(ran.stdout.lines().next(), Some("ledger data/job.db — 0 rows"), "{}", ran.stdout);
    // Without the job, the default ledger, which does not exist.
    t().args(["status"]).status(1).stderr_has("the ledger wxprov.db does not exist").run();
    assert!(!ws.path().join("wxprov.db").exists());
}
