//! What users and scripts read, checked whole as snapshots (`insta`): the demo job's
//! `results.csv` and `summary.json`, then `status` and `plan` on its ledger. A change to a
//! column, a field, a heading or a line's layout fails here until the snapshot under
//! `tests/it/snapshots/` is reviewed and updated (`INSTA_UPDATE=always cargo test --test it
//! formats::`, then read the diff). What changes from run to run is redacted: the run id, the
//! times, the simulator's port and the appid the simulator gives the registered mini-program.

use crate::rehearsal::DemoCopy;

/// Filters for what changes from run to run; `registered` is the appid the simulator chose.
fn redactions(registered: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // The run id: its Beijing start stamp and four random hex digits (report::new_run_id).
    settings.add_filter(r"\d{8}-\d{6}\.\d{3}-[0-9a-f]{4}", "[RUN_ID]");
    // summary.json's RFC 3339 times, Beijing offset.
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00", "[TIME]");
    // status's times to the minute.
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} Beijing time", "[TIME] Beijing time");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(registered, "[REGISTERED_APPID]");
    settings
}

#[test]
fn the_demos_reports_status_and_plan_read_as_their_snapshots() {
    let demo = DemoCopy::new();
    demo.test().args(["run", "jobs/demo.toml", "--api-base", "sim"]).status(4).run();
    let report = demo.reports().join("rehearsal/latest");
    let results = std::fs::read_to_string(report.join("results.csv")).unwrap();
    // The appid the simulator registered (row 2, the register step done) is its choice.
    let registered = results.lines().nth(1).and_then(|l| l.split(',').nth(1)).unwrap_or_default().to_string();
    assert!(wechat_open::Appid::parse(&registered).is_ok(), "{results}");
    let _redacted = redactions(&registered).bind_to_scope();

    // A BOM so that Excel opens it as UTF-8; a snapshot would not show it.
    let results = results.strip_prefix('\u{feff}').expect("results.csv starts with a BOM");
    assert!(results.ends_with('\n'), "{results:?}");
    insta::assert_snapshot!("demo_results_csv", results);
    let summary = std::fs::read_to_string(report.join("summary.json")).unwrap();
    insta::assert_snapshot!("demo_summary_json", summary);

    let status = demo.test().args(["status", "jobs/demo.toml", "--api-base", "sim"]).run();
    insta::assert_snapshot!("demo_status", status.stdout);
    let plan = demo.test().args(["plan", "jobs/demo.toml", "--api-base", "sim"]).run();
    insta::assert_snapshot!("demo_plan", plan.stdout);
}
