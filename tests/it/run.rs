//! `wxprov run` against the simulator: resume, input changes, quotas, audits, failures,
//! reports and exit codes (DESIGN §4–§6).

use serde_json::{json, Value};

use crate::harness::{example_fixture, utc8, Sim, Workspace};

pub const FRESH: &str = "wxe5f52902cf4de896";
pub const CONFIGURED: &str = "wxdc685123d9554530";
pub const SPENT: &str = "wx0f1e2d3c4b5a6978";

/// The API paths whose calls change state at WeChat.
pub const STATE_CHANGING: &[&str] = &[
    "/cgi-bin/account/fastregister",
    "/wxa/setnickname",
    "/cgi-bin/account/modifyheadimage",
    "/cgi-bin/account/modifysignature",
    "/cgi-bin/wxopen/addcategory",
    "/cgi-bin/wxopen/deletecategory",
    "/cgi-bin/wxopen/modifycategory",
    "/cgi-bin/account/componentrebindadmin",
    "/cgi-bin/component/api_query_auth",
];

/// Writes `csv` as the manifest, the fixture images beside it, and a job file with limits
/// high enough not to slow the tests.
pub fn job(ws: &Workspace, csv: &str) -> String {
    for name in ["tiny.png", "tiny.jpg", "licence.jpg", "visa.jpg"] {
        let bytes = std::fs::read(format!("{}/tests/fixtures/images/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        ws.write(&format!("images/{name}"), bytes);
    }
    ws.write("manifest.csv", csv);
    ws.write(
        "job.toml",
        "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\nconcurrency = 8\n\
         [limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n[retry]\nmax_attempts = 5\n",
    );
    "job.toml".into()
}

/// The latest run's reports.
pub fn results(ws: &Workspace) -> Vec<Vec<String>> {
    read_csv(&ws.path().join("reports/latest/results.csv"))
}

pub fn read_csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{} has a BOM for Excel", path.display());
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&bytes[3..]);
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// A results.csv row by appid, as column → value.
pub fn result_for(ws: &Workspace, appid: &str) -> std::collections::HashMap<String, String> {
    let rows = results(ws);
    let header = rows[0].clone();
    let row = rows.iter().find(|r| r[1] == appid).unwrap_or_else(|| panic!("no result for {appid}: {rows:?}"));
    header.into_iter().zip(row.iter().cloned()).collect()
}

pub fn state_changing(calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| STATE_CHANGING.contains(&c["path"].as_str().unwrap_or_default()))
        .map(|c| format!("{} {}", c["path"].as_str().unwrap_or_default(), c["appid"].as_str().unwrap_or_default()))
        .collect()
}

const FULL_ROW: &str = "appid,nickname,signature,avatar,avatar_crop,categories,rebind_taskid\n\
    wxe5f52902cf4de896,杭州示例工具,提供好用的在线工具。,images/tiny.png,\"0,0,0.5,0.5\",工具/计算器;287/612,\n\
    wxdc685123d9554530,,一个简单好用的计算器。,,,287/288,b25519093b1e97239eff9d2bfc07e08e\n";

#[test]
fn a_finished_job_makes_no_state_changing_call_when_run_again() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, FULL_ROW);
    ws.write(
        "tokens.csv",
        "wxe5f52902cf4de896,refreshtoken@@@mp-fresh-0001\nwxdc685123d9554530,refreshtoken@@@mp-configured-0002\n",
    );
    ws.test().args(["tokens", "import", "tokens.csv"]).run();

    ws.test_on(&sim).args(["run", &job]).stdout_has("reports in").run();
    let first = result_for(&ws, FRESH);
    assert_eq!((first["signature"].as_str(), first["avatar"].as_str()), ("done", "done"));
    assert_eq!(first["nickname"], "in_review");
    assert_eq!(first["categories"], "done");
    let other = result_for(&ws, CONFIGURED);
    assert_eq!((other["signature"].as_str(), other["categories"].as_str()), ("skipped", "skipped"));
    assert_eq!(other["rebind_admin"], "done");
    let made = state_changing(&sim.calls());
    assert_eq!(made.len(), 5, "{made:?}");

    // Later runs follow the audit with read-only queries until WeChat approves; nothing is
    // sent again.
    let before = sim.calls().len();
    for _ in 0..3 {
        ws.test_on(&sim).args(["run", &job]).run();
        if result_for(&ws, FRESH)["nickname"] == "done" {
            break;
        }
    }
    assert_eq!(result_for(&ws, FRESH)["nickname"], "done");
    let later: Vec<_> = sim.calls().into_iter().skip(before).collect();
    assert!(state_changing(&later).is_empty(), "{later:#?}");

    // Finished: a third run makes no call at all.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(sim.calls().len(), before, "a finished job calls nothing");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["calls"], json!({}));
    assert_eq!(summary["rows"], 2);
}

#[test]
fn editing_one_cell_reruns_exactly_that_step_of_that_row() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, FULL_ROW);
    ws.test_on(&sim).env("WXPROV_API_BASE", &sim.url).args(["tokens", "recover"]).run();
    for _ in 0..3 {
        ws.test_on(&sim).args(["run", &job]).run();
    }
    assert_eq!(result_for(&ws, FRESH)["nickname"], "done");

    ws.write("manifest.csv", FULL_ROW.replace("提供好用的在线工具。", "提供更好用的在线工具。"));
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).run();
    let after: Vec<_> = sim.calls().into_iter().skip(before).collect();
    assert_eq!(state_changing(&after), [format!("/cgi-bin/account/modifysignature {FRESH}")]);
    let row = result_for(&ws, FRESH);
    assert_eq!((row["signature"].as_str(), row["avatar"].as_str(), row["nickname"].as_str()), ("done", "done", "done"));
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][FRESH]["signature"], "提供更好用的在线工具。");
}

#[test]
fn a_spent_monthly_quota_defers_to_the_first_of_next_month() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{SPENT},新的功能介绍文字\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    assert!(sim.calls_to("/cgi-bin/account/modifysignature").is_empty(), "a spent quota is never called");
    let step = ws.query(&format!(
        "SELECT state, not_before, errcode, tried_at, updated_at FROM steps WHERE identity = '{SPENT}'"
    ));
    assert_eq!((step[0][0].as_str(), step[0][2].as_str()), ("deferred", "53200"));
    // The month after the one the step was taken in, as the ledger recorded it (not the test's
    // clock, nor the code's own Beijing functions).
    let next_month = utc8::during(utc8::next_month, &step[0][3], &step[0][4]);
    assert!(next_month.iter().any(|t| t.timestamp().to_string() == step[0][1]), "{step:?} {next_month:?}");
    let row = result_for(&ws, SPENT);
    assert_eq!(row["signature"], "deferred");
    assert!(row["message"].contains("5/5"), "{row:?}");
    // Before not_before, the next run leaves it alone.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    assert_eq!(sim.calls().len(), before);
}

/// The simulator's quota for a listed path is one for every account: each account meets
/// 45009 once, is deferred to the next Beijing day, and is not called again for it in the run
/// (an account's 45009 binds that account only: `quota_per_account.rs` shows others go on).
#[test]
fn a_daily_quota_defers_each_account_that_meets_it_and_calls_none_twice() {
    let mut fixture = example_fixture();
    fixture["quotas"]["/cgi-bin/account/modifysignature"] = json!({"daily_limit": 12, "used": 12});
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,signature\n{FRESH},第一条新的简介\n{CONFIGURED},第二条新的简介\nwx1a2b3c4d5e6f7080,第三条新的简介\n"
        ),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job, "--concurrency", "1"]).status(4).run();
    let calls = sim.calls_to("/cgi-bin/account/modifysignature");
    let mut called: Vec<_> = calls.iter().map(|c| (c["appid"].as_str().unwrap(), c["errcode"].as_i64())).collect();
    called.sort();
    let mut want = vec![(FRESH, Some(45009)), (CONFIGURED, Some(45009)), ("wx1a2b3c4d5e6f7080", Some(45009))];
    want.sort();
    assert_eq!(called, want, "each account once: {calls:#?}");
    let steps = ws.query("SELECT state, not_before, tried_at, updated_at FROM steps WHERE kind = 'signature'");
    assert_eq!(steps.len(), 3);
    // The day after the one each step was taken on, as the ledger recorded it (not the test's
    // clock, nor the code's own Beijing functions).
    let next_day =
        |s: &[String]| utc8::during(utc8::next_day, &s[2], &s[3]).iter().any(|t| t.timestamp().to_string() == s[1]);
    assert!(steps.iter().all(|s| s[0] == "deferred" && next_day(s)), "{steps:?}");
}

#[test]
fn a_rejected_audit_fails_with_wechats_reason() {
    let mut fixture = example_fixture();
    fixture["nickname_audit"] = json!("reject");
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,nickname\n{FRESH},杭州示例工具\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["nickname"], "in_review");
    let mut code = 0;
    for _ in 0..3 {
        code = ws.test_on(&sim).args(["run", &job]).status_any().run().code;
        if code != 0 {
            break;
        }
    }
    assert_eq!(code, 3);
    let row = result_for(&ws, FRESH);
    assert_eq!(row["nickname"], "failed");
    assert!(row["message"].contains("名称涉嫌侵权"), "WeChat's reason: {row:?}");
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert!(failed[1].last().unwrap().contains("名称涉嫌侵权"));
}

#[test]
fn rows_needing_a_person_go_to_failed_csv_which_reads_back_as_a_manifest() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!("appid,signature\n{FRESH},这里有赌博的内容\nwx-not-an-appid,好的简介内容\n{CONFIGURED},一个简单好用的计算器。\n"),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    let row = result_for(&ws, FRESH);
    assert_eq!((row["signature"].as_str(), row["errcode"].as_str()), ("failed", "53201"));
    assert!(!row["hint"].is_empty());
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed[0], ["appid", "signature", "error"]);
    assert_eq!(failed.len(), 3, "two rows need a person: {failed:?}");
    assert!(failed[2][2].contains("line 3") && failed[2][2].contains("appid"), "{failed:?}");
    // Fixed or not, failed.csv is a manifest wxprov reads, its `error` column included.
    std::fs::copy(ws.path().join("reports/latest/failed.csv"), ws.path().join("again.csv")).unwrap();
    ws.test_on(&sim)
        .args(["run", "again.csv", "--report-dir", "reports"])
        .status(3)
        .stderr_has("not reading column 3 (C) \"error\"")
        .run();
    assert_eq!(results(&ws).len(), 3);
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed[0], ["appid", "signature", "error"], "the error column is replaced, not added again");
}

#[test]
fn another_run_holding_the_ledger_exits_5() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    let lock = std::fs::File::create(ws.path().join("wxprov.db.lock")).unwrap();
    lock.lock().unwrap();
    ws.test_on(&sim).args(["run", &job]).status(5).stderr_has("another wxprov run holds the ledger").run();
    drop(lock);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
}

#[test]
fn missing_component_credentials_exit_1_with_a_sentence() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    ws.test()
        .env("WXPROV_API_BASE", &sim.url)
        .args(["run", &job])
        .status(1)
        .stderr_has("the run could not proceed")
        .stderr_has("WXPROV_COMPONENT_APPID")
        .run();
    assert!(sim.calls().is_empty());
}

#[test]
fn a_bad_manifest_header_is_a_usage_error() {
    let ws = Workspace::new();
    let job = job(&ws, "名字,简介\nx,y\n");
    ws.test().args(["run", &job]).status(2).stderr_has("appid").run();
}

#[test]
fn status_shows_states_waiting_steps_and_runs() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,official_appid,signature\n{SPENT},,新的功能介绍文字\n,wx28f759479ea1e090,\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    ws.test()
        .args(["status"])
        .stdout_has("2 rows")
        .stdout_has("deferred (may go again at)")
        .stdout_has(SPENT)
        .stdout_has("waiting for a merchant's scan")
        .stdout_has("recent runs")
        .stdout_has("exit 4")
        .run();
}

#[test]
fn every_call_is_in_the_event_log_and_counts_toward_quota_use() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).run();
    let calls = sim.calls().len() - before;
    let run_id = std::fs::read_link(ws.path().join("reports/latest")).unwrap();
    let logged = ws.query(&format!("SELECT count(*) FROM events WHERE run_id = '{}'", run_id.display()));
    assert_eq!(logged[0][0], calls.to_string());
    let used = ws.query(&format!(
        "SELECT calls FROM quota_use WHERE appid = '{FRESH}' AND api = '/cgi-bin/account/modifysignature'"
    ));
    assert_eq!(used, [["1"]]);
}
