//! failed.csv fed back through its failed.toml (DESIGN §6): the image paths resolve from the
//! report folder, one `error` column, the appid a registration row got filled in (and the
//! row never registers again), the job's ledger and settings used — twice over.

use std::path::Path;

use serde_json::json;

use crate::harness::{Sim, Test, Workspace};
use crate::run::{read_csv, state_changing};

const OA: &str = "wx28f759479ea1e090";
const OTHER_OA: &str = "wx3a1b2c3d4e5f6071";
const BLACKLISTED: &str = "这里有赌博的内容";

/// `wxprov` in `dir` against `sim`, with the platform's credentials and nothing else: no
/// ledger or report folder from the environment, so the job's own are the ones used.
fn wx(sim: &Sim, dir: &Path) -> Test {
    Test::new()
        .current_dir(dir)
        .env("WXPROV_API_BASE", &sim.url)
        .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
        .env("WXPROV_COMPONENT_SECRET", &sim.component_secret)
        .env("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket)
}

/// The run folder `reports/latest` points at.
fn latest(ws: &Workspace) -> std::path::PathBuf {
    let id = std::fs::read_link(ws.path().join("reports/latest")).unwrap();
    ws.path().join("reports").join(id)
}

fn ledger(ws: &Workspace, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(ws.path().join("state/wxprov.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let text = |v: rusqlite::types::Value| match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t,
        other => format!("{other:?}"),
    };
    stmt.query_map([], |r| Ok((0..n).map(|i| text(r.get(i).unwrap())).collect())).unwrap().map(Result::unwrap).collect()
}

/// Every `.db` file under `dir`.
fn ledgers_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(ledgers_under(&path));
        } else if path.extension().is_some_and(|e| e == "db") {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn failed_csv_fed_back_twice_through_failed_toml_keeps_paths_ledger_and_registration() {
    let sim = Sim::start();
    let ws = Workspace::new();
    for name in ["tiny.png", "tiny.jpg", "tiny.gif", "licence.jpg", "visa.jpg"] {
        let bytes = std::fs::read(format!("{}/tests/fixtures/images/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        ws.write(&format!("sheets/img/{name}"), bytes);
    }
    std::fs::create_dir_all(ws.path().join("state")).unwrap();
    std::fs::create_dir_all(ws.path().join("elsewhere")).unwrap();
    let ticket = sim.post("/__sim/scan", json!({"official_appid": OA}))["ticket"].as_str().unwrap().to_string();
    // A registration sheet (no appid column): one row registers and then fails on its
    // signature; the other is rejected (too short a signature, an image that is not there).
    ws.write(
        "sheets/onboarding.csv",
        format!(
            "official_appid,ticket,nickname,license,naming_materials,signature,avatar,categories,备注\n\
             {OA},{ticket},杭州示例门店,img/licence.jpg,img/tiny.jpg；img/tiny.gif,{BLACKLISTED},img/tiny.png,\
             教育/出国移民[《因私出入境中介机构经营许可证》=img/visa.jpg],杭州店\n\
             {OTHER_OA},,,,,短,img/missing.png,,深圳店\n"
        ),
    );
    ws.write(
        "jobs/onboard.toml",
        "manifest = \"../sheets/onboarding.csv\"\nignore_columns = [\"备注\"]\nledger = \"../state/wxprov.db\"\nreport_dir = \"../reports\"\n\
         concurrency = 4\n[limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n\
         [limits.per_minute]\n\"/cgi-bin/wxverify/checkwxverifynickname\" = 600\n[retry]\nmax_attempts = 3\n",
    );
    wx(&sim, ws.path()).args(["--ledger", "state/wxprov.db", "tokens", "recover"]).run();

    wx(&sim, ws.path()).args(["run", "jobs/onboard.toml"]).status(3).run();
    let first = latest(&ws);
    let registered: Vec<String> = sim
        .calls_to("/cgi-bin/account/fastregister")
        .iter()
        .map(|c| c["appid"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(registered, [OA]);
    let appid = ledger(&ws, &format!("SELECT appid FROM rows WHERE identity = '{OA}'"))[0][0].clone();
    assert!(appid.starts_with("wx") && appid != OA, "{appid}");

    // failed.csv: the appid filled in (a column added), paths from the report folder, error last.
    let hint = wxprov::wechat::errcode::lookup(53201).unwrap();
    let error = format!(
        "[signature] errcode 53201: /cgi-bin/account/modifysignature: errcode 53201 ({}): signature hits a \
         blacklisted word — {}",
        hint.zh, hint.hint
    );
    let rejected = |written: &str| {
        format!(
            "line 3, column signature: the signature is 1 characters; it must be 4 to 120 / 简介为 1 个字，应为 4 到 \
             120 个字; line 3, column avatar: file \"{written}\" does not exist"
        )
    };
    let img = "../../sheets/img";
    let header = [
        "appid",
        "official_appid",
        "ticket",
        "nickname",
        "license",
        "naming_materials",
        "signature",
        "avatar",
        "categories",
        "备注",
        "error",
    ];
    let expect = |error: &str| {
        vec![
            header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            vec![
                appid.clone(),
                OA.into(),
                ticket.clone(),
                "杭州示例门店".into(),
                format!("{img}/licence.jpg"),
                format!("{img}/tiny.jpg;{img}/tiny.gif"),
                BLACKLISTED.into(),
                format!("{img}/tiny.png"),
                format!("教育/出国移民[《因私出入境中介机构经营许可证》={img}/visa.jpg]"),
                "杭州店".into(),
                error.to_string(),
            ],
        ]
    };
    let failed = read_csv(&first.join("failed.csv"));
    assert_eq!(failed[..2], expect(&error)[..], "failed.csv of the first run");
    assert_eq!(failed.len(), 3, "{failed:?}");
    let other = &failed[2];
    assert_eq!(other[..8], ["", OTHER_OA, "", "", "", "", "短", &format!("{img}/missing.png")]);
    assert_eq!(other[9], "深圳店");
    assert!(other[10].starts_with(&rejected("img/missing.png")), "{other:?}");

    // failed.toml: the job's settings, for failed.csv, with its paths from the report folder.
    let toml = std::fs::read_to_string(first.join("failed.toml")).unwrap();
    let settings: Vec<&str> = toml.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(
        settings,
        [
            "manifest = \"failed.csv\"",
            "ignore_columns = [\"备注\"]",
            "ledger = \"../../state/wxprov.db\"",
            "report_dir = \"..\"",
            "concurrency = 4",
            "[limits]",
            "calls_per_second = 2000",
            "per_appid_per_second = 1000",
            "[limits.per_minute]",
            "\"/cgi-bin/wxverify/checkwxverifynickname\" = 600",
            "[retry]",
            "max_attempts = 3",
        ],
        "{toml}"
    );

    // Fed back unchanged from another folder: nothing registers again, the failed step is
    // not retried (its input did not change), the rejected row is rejected again.
    let before = sim.calls().len();
    let fed = first.join("failed.toml");
    wx(&sim, &ws.path().join("elsewhere")).args(["run", fed.to_str().unwrap()]).status(3).run();
    let second = latest(&ws);
    assert_ne!(second, first);
    let again = &sim.calls()[before..];
    assert!(state_changing(again).is_empty(), "{again:#?}");
    let failed = read_csv(&second.join("failed.csv"));
    assert_eq!(failed[..2], expect(&error)[..], "failed.csv of a fed-back failed.csv");
    assert_eq!(failed[2][..10], other[..10]);
    // The message names the cell as the fed-back sheet has it.
    assert!(failed[2][10].starts_with(&rejected(&format!("{img}/missing.png"))), "{failed:?}");

    // Fixed there and fed back again: the signature is set on the registered mini-program.
    let csv = std::fs::read_to_string(second.join("failed.csv")).unwrap();
    std::fs::write(second.join("failed.csv"), csv.replace(BLACKLISTED, "一家示例门店的功能介绍。")).unwrap();
    let fed = second.join("failed.toml");
    wx(&sim, &ws.path().join("elsewhere")).args(["run", fed.to_str().unwrap()]).status(3).run();
    let third = latest(&ws);
    let set = sim.calls_to("/cgi-bin/account/modifysignature");
    let set_for: Vec<&str> = set.iter().map(|c| c["appid"].as_str().unwrap_or_default()).collect();
    assert_eq!(set_for, [appid.as_str(), appid.as_str()], "refused once, then set");
    assert_eq!(sim.get("/__sim/state")["mini_programs"][&appid]["signature"], "一家示例门店的功能介绍。");
    assert_eq!(sim.calls_to("/cgi-bin/account/fastregister").len(), 1, "registered once in all");
    let failed = read_csv(&third.join("failed.csv"));
    assert_eq!(failed.len(), 2, "only the rejected row is left: {failed:?}");
    assert_eq!(failed[0], header);
    assert_eq!(failed[1][..10], other[..10]);

    // One ledger, the job's: three runs in it, the row under its registration's identity.
    assert_eq!(ledgers_under(&ws.path().join("reports")), Vec::<String>::new());
    assert_eq!(ledger(&ws, "SELECT count(*) FROM runs WHERE command = 'run'"), [["3"]]);
    let steps = ledger(&ws, &format!("SELECT kind, state FROM steps WHERE identity = '{OA}' ORDER BY kind"));
    assert!(steps.contains(&vec!["signature".to_string(), "done".to_string()]), "{steps:?}");
    assert_eq!(ledger(&ws, &format!("SELECT count(*) FROM rows WHERE identity = '{appid}'")), [["0"]]);
}
