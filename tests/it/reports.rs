//! Reports (DESIGN §6): results.csv's columns and the step that most needs attention, run ids
//! that sort by start time to the millisecond, `reports/latest`, and `plan` exiting as `run`
//! would.

use serde_json::{json, Value};

use crate::harness::{example_fixture, Sim, Workspace};
use crate::run::{job, read_csv, results, CONFIGURED, FRESH, SPENT};

/// SPENT with its signature changes left but its avatar changes spent: a new avatar is
/// deferred (the avatar step comes first) and a signature with a blacklisted word fails.
fn spent_avatar_only() -> Value {
    let mut fixture = example_fixture();
    let spent = fixture["mini_programs"].as_array_mut().unwrap().iter_mut().find(|m| m["appid"] == SPENT).unwrap();
    spent["signature_used"] = json!(0);
    fixture
}

const HEADER: &str = "line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,\
                      domains,code,privacy,audit,release,step,errcode,message,hint";

#[test]
fn results_csv_names_the_step_that_most_needs_attention() {
    let sim = Sim::with_fixture(spent_avatar_only(), &[]);
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,avatar,signature\n\
             {SPENT},images/tiny.png,这里有赌博的内容\n\
             {CONFIGURED},,一个简单好用的计算器。\n\
             wx-bad,,一条简介\n"
        ),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(3).run();

    let rows = results(&ws);
    let header = rows[0].join(",");
    assert_eq!(header, HEADER.replace(' ', ""));
    let blacklisted = wxprov::wechat::errcode::lookup(53201).unwrap();
    let message = format!(
        "/cgi-bin/account/modifysignature: errcode 53201 ({}): signature hits a blacklisted word",
        blacklisted.zh
    );
    let expected: Vec<Vec<String>> = [
        vec![
            "2",
            SPENT,
            "",
            "",
            "",
            "deferred",
            "failed",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "signature",
            "53201",
            &message,
            blacklisted.hint,
        ],
        vec!["3", CONFIGURED, "", "", "", "", "skipped", "", "", "", "", "", "", "", "", "", "", ""],
        vec![
            "4",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "row",
            "",
            "line 4, column appid: \"wx-bad\" is not an appid (wx followed by 16 hex digits) / “wx-bad”不是有效的 appid（wx 加 16 位十六进制数字）",
            "Fix the cell the message names and feed the row again.",
        ],
    ]
    .into_iter()
    .map(|r| r.into_iter().map(str::to_string).collect())
    .collect();
    assert_eq!(rows[1..], expected[..], "results.csv, whole");
}

/// Reads `reports/latest`'s target.
fn latest(ws: &Workspace) -> String {
    std::fs::read_link(ws.path().join("reports/latest")).unwrap().to_string_lossy().into_owned()
}

#[test]
fn run_ids_sort_by_start_to_the_millisecond_and_latest_is_the_newest() {
    let sim = Sim::start();
    let ws = Workspace::new();
    // A row that is already as asked: each run is quick, so several start in one second.
    let job = job(&ws, &format!("appid,signature\n{CONFIGURED},一个简单好用的计算器。\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let mut ids: Vec<String> = Vec::new();
    let same_second = |ids: &[String]| ids.windows(2).any(|w| w[0][..15] == w[1][..15]);
    while ids.len() < 2 || (!same_second(&ids) && ids.len() < 12) {
        ws.test_on(&sim).args(["run", &job]).run();
        let id = latest(&ws);
        // 20261121-111500.123-1a2b: Beijing time to the millisecond, a random suffix.
        let shape = id.len() == 24
            && id.char_indices().all(|(i, c)| match i {
                8 => c == '-',
                15 => c == '.',
                19 => c == '-',
                _ => c.is_ascii_hexdigit(),
            });
        assert!(shape, "run id {id:?}");
        let summary: Value =
            serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap();
        assert_eq!(summary["run_id"], json!(id));
        // The id is the start on Beijing's clock: summary.json's started_at says the same.
        let started = summary["started_at"].as_str().unwrap();
        let stamp = format!("{}-{}", started[..10].replace('-', ""), started[11..23].replace(':', ""));
        assert_eq!((stamp.as_str(), &started[23..]), (&id[..19], "+08:00"), "{summary}");
        ids.push(id);
    }
    assert!(same_second(&ids), "two of {} quick runs started in the same second: {ids:?}", ids.len());
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "run ids sort in the order the runs started");
    assert_eq!(latest(&ws), *ids.last().unwrap());
    let listed = ws.query("SELECT id FROM runs WHERE command = 'run' ORDER BY id");
    assert_eq!(listed.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>(), ids);
}

#[test]
fn plan_exits_with_the_code_run_exits_with_on_the_same_sheet() {
    let sim = Sim::with_fixture(spent_avatar_only(), &[]);
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let sheets = [
        // Nothing needs a person: 0.
        (format!("appid,signature\n{CONFIGURED},一个简单好用的计算器。\n"), 0),
        // A spent quota: 4.
        (format!("appid,avatar\n{SPENT},images/tiny.png\n"), 4),
        // WeChat's name check refuses a taken name (and another row is deferred): 3.
        (format!("appid,nickname,avatar\n{FRESH},腾讯,\n{SPENT},,images/tiny.png\n"), 3),
        // A rejected row: 3.
        (format!("appid,signature\n{CONFIGURED},短\n"), 3),
    ];
    for (csv, code) in sheets {
        let job = job(&ws, &csv);
        let planned = ws.test_on(&sim).args(["plan", &job]).status_any().run().code;
        let ran = ws.test_on(&sim).args(["run", &job]).status_any().run().code;
        assert_eq!((planned, ran), (code, code), "plan and run on\n{csv}");
    }
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed.len(), 2, "{failed:?}");
}
