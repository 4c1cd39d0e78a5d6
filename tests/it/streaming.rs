//! Streaming the sheet (#13 items 1 and 2): rows flow from the reader through the steps to
//! the reports, which are written as rows finish and come out in line order whatever the
//! concurrency; a rerun of a finished job writes no row or step record and makes no call;
//! duplicate identities are still found across a large sheet, with line and column.

use serde_json::{json, Value};

use crate::harness::{example_fixture, Sim, Workspace};
use crate::run::{job, read_csv, results};

/// A fast-registered mini-program of these tests.
fn appid(i: usize) -> String {
    format!("wx00000000005e{i:04x}")
}

/// The signature the sheet gives row `i`.
fn signature(i: usize) -> String {
    format!("第{i}家门店的新简介。")
}

/// What row `i` meets: its mini-program in the fixture, and the sheet's cells for it.
/// 0 done, 1 skipped (already so), 2 deferred (the month's signature changes spent),
/// 3 failed (a blacklisted word), 4 in review (a new name).
pub fn mixed(fixture: &mut Value, rows: usize) -> String {
    let minis = fixture["mini_programs"].as_array_mut().unwrap();
    let mut csv = String::from("appid,nickname,signature\n");
    for i in 0..rows {
        let mut mini = json!({"appid": appid(i), "refresh_token": format!("refreshtoken@@@stream-{i}")});
        let (nickname, signature) = match i % 5 {
            1 => {
                mini["signature"] = json!(signature(i));
                (String::new(), signature(i))
            }
            2 => {
                mini["signature_used"] = json!(5);
                (String::new(), signature(i))
            }
            3 => (String::new(), format!("第{i}家门店提供赌博服务。")),
            4 => (format!("流式门店{i:02}号"), String::new()),
            _ => (String::new(), signature(i)),
        };
        minis.push(mini);
        csv.push_str(&format!("{},{nickname},{signature}\n", appid(i)));
        // An invalid row among them.
        if i == rows / 2 {
            csv.push_str("wx-not-an-appid,,一条简介。\n");
        }
    }
    csv
}

/// The reports of one run of the mixed sheet at `concurrency`: results.csv and failed.csv.
fn reports_at(concurrency: usize) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut fixture = example_fixture();
    let csv = mixed(&mut fixture, 60);
    let sim = Sim::with_fixture(fixture, &["--seed", "13", "--latency-ms", "2"]);
    let ws = Workspace::new();
    let job = job(&ws, &csv);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).env("WXPROV_CONCURRENCY", concurrency.to_string()).args(["run", &job]).status(3).run();
    (without_audit_ids(results(&ws)), read_csv(&ws.path().join("reports/latest/failed.csv")))
}

/// The reports with each `(audit N)` as `(audit …)`: the simulator numbers the audits in the
/// order the names reach it, which at concurrency 16 is not the sheet's.
fn without_audit_ids(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mask = |cell: String| match cell.split_once("(audit ") {
        Some((head, tail)) if tail.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{head}(audit …{}", tail.trim_start_matches(|c: char| c.is_ascii_digit()))
        }
        _ => cell,
    };
    rows.into_iter().map(|row| row.into_iter().map(mask).collect()).collect()
}

#[test]
fn reports_at_concurrency_1_and_16_are_equal_line_for_line() {
    let (results_1, failed_1) = reports_at(1);
    let (results_16, failed_16) = reports_at(16);
    assert_eq!(results_1, results_16);
    assert_eq!(failed_1, failed_16);

    // Every row, in line order, with every outcome the sheet was made to have.
    let lines: Vec<u64> = results_16.iter().skip(1).map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(lines, (2..=62).collect::<Vec<u64>>());
    let outcomes: std::collections::BTreeSet<&str> =
        results_16.iter().skip(1).flat_map(|r| [r[4].as_str(), r[6].as_str()]).filter(|s| !s.is_empty()).collect();
    assert_eq!(outcomes, ["deferred", "done", "failed", "in_review", "skipped"].into_iter().collect());
    let invalid: Vec<&Vec<String>> = results_16.iter().filter(|r| r[14] == "row").collect();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0][0], "33");
    // failed.csv: the invalid row and the blacklisted signatures, in line order.
    let failed: Vec<&str> = failed_16.iter().skip(1).map(|r| r[0].as_str()).collect();
    let mut expected: Vec<String> = (0..60).filter(|i| i % 5 == 3).map(appid).collect();
    expected.insert(6, "wx-not-an-appid".into());
    assert_eq!(failed, expected);
}

/// Triggers that note every write to `rows` and `steps` in a table of their own.
fn watch_rows_and_steps(ws: &Workspace) {
    let conn = rusqlite::Connection::open(ws.ledger()).unwrap();
    let mut sql = String::from("CREATE TABLE test_writes (what TEXT NOT NULL);");
    for table in ["rows", "steps"] {
        for change in ["INSERT", "UPDATE", "DELETE"] {
            sql.push_str(&format!(
                "CREATE TRIGGER test_{table}_{change} AFTER {change} ON {table}
                 BEGIN INSERT INTO test_writes (what) VALUES ('{table} {change}'); END;"
            ));
        }
    }
    conn.execute_batch(&sql).unwrap();
}

fn writes(ws: &Workspace) -> Vec<String> {
    let writes = ws.query("SELECT what FROM test_writes ORDER BY rowid");
    ws.query("DELETE FROM test_writes");
    writes.into_iter().map(|w| w[0].clone()).collect()
}

#[test]
fn a_rerun_of_a_finished_job_writes_no_row_or_step_and_makes_no_call() {
    let mut fixture = example_fixture();
    let rows = 40;
    let minis = fixture["mini_programs"].as_array_mut().unwrap();
    let mut csv = String::from("appid,signature\n");
    for i in 0..rows {
        minis.push(json!({"appid": appid(i), "refresh_token": format!("refreshtoken@@@stream-{i}")}));
        csv.push_str(&format!("{},{}\n", appid(i), signature(i)));
    }
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = job(&ws, &csv);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let _ = sim.http_delete("/__sim/calls");
    ws.test_on(&sim).args(["run", &job]).status(0).run();
    let first_calls = sim.calls().len().to_string();
    let steps_before = ws.query("SELECT * FROM steps ORDER BY identity, kind");
    let rows_before = ws.query("SELECT * FROM rows ORDER BY identity");
    assert_eq!(steps_before.len(), rows);

    watch_rows_and_steps(&ws);
    let _ = sim.http_delete("/__sim/calls");
    ws.test_on(&sim).args(["run", &job]).status(0).run();
    assert_eq!(writes(&ws), Vec::<String>::new(), "the rerun wrote rows or steps");
    assert_eq!(sim.calls(), Vec::<Value>::new());
    assert_eq!(ws.query("SELECT * FROM steps ORDER BY identity, kind"), steps_before);
    assert_eq!(ws.query("SELECT * FROM rows ORDER BY identity"), rows_before);
    // The run keeps its counts, not a snapshot of the rows.
    let runs = ws.query("SELECT rows, steps, calls, exit_code FROM runs ORDER BY started_at, id");
    let done = format!("{{\"done\":{rows}}}");
    assert_eq!(runs, [["40", &done, &first_calls, "0"], ["40", &done, "0", "0"]]);

    // Two rows trade places: their records (the line) change, and nothing else.
    let mut lines: Vec<&str> = csv.lines().collect();
    lines.swap(3, 7);
    ws.write("manifest.csv", lines.join("\n") + "\n");
    ws.test_on(&sim).args(["run", &job]).status(0).run();
    assert_eq!(writes(&ws), ["rows UPDATE", "rows UPDATE"]);
    let moved = ws.query(&format!(
        "SELECT identity, line FROM rows WHERE identity IN ('{}', '{}') ORDER BY line",
        appid(2),
        appid(6)
    ));
    assert_eq!(moved, [[appid(6), "4".to_string()], [appid(2), "8".to_string()]]);
    assert_eq!(sim.calls(), Vec::<Value>::new());
}

#[test]
fn duplicate_identities_in_a_large_sheet_are_rejected_with_line_and_column() {
    let rows = 20_000;
    let mut csv = String::from("appid,signature\n");
    for i in 0..rows {
        let id = format!("wx{:016x}", 0x5ca1_e000_0000_0000u64 + i as u64);
        csv.push_str(&format!("{id},{}\n", signature(i)));
    }
    // Line 3's appid again on line 19,999, in upper case, and line 10's on line 20,002.
    let first = format!("wx{:016x}", 0x5ca1_e000_0000_0001u64);
    let second = format!("wx{:016x}", 0x5ca1_e000_0000_0008u64);
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[19_998] = format!("{},另一条简介。", first.to_uppercase());
    lines.push(format!("{second},又一条简介。"));
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &(lines.join("\n") + "\n"));
    // The platform's secret is wrong: the run stops before any row's call, and its reports
    // still say which rows the sheet rejected.
    ws.test_on(&sim).env("WXPROV_COMPONENT_SECRET", "not-the-secret").args(["run", &job]).status(1).run();
    let results = results(&ws);
    assert_eq!(results.len(), 1 + rows + 1);
    let rejected: Vec<(String, String)> =
        results.iter().filter(|r| r[14] == "row").map(|r| (r[0].clone(), r[16].clone())).collect();
    let message = |line: u64, id: &str, other: u64| {
        format!(
            "line {line}, column appid: {id} is also on line {other}; both rows are rejected / {id} 与第 {other} 行重复，这些行都不处理"
        )
    };
    assert_eq!(
        rejected,
        [
            ("3".to_string(), message(3, &first, 19_999)),
            ("10".to_string(), message(10, &second, 20_002)),
            ("19999".to_string(), message(19_999, &first, 3)),
            ("20002".to_string(), message(20_002, &second, 10)),
        ]
    );
    let calls: Vec<Value> =
        sim.calls().into_iter().filter(|c| c["path"] != "/cgi-bin/component/api_component_token").collect();
    assert_eq!(calls, Vec::<Value>::new());
}
