//! The go-live steps `domains`, `code` and `privacy` (DESIGN §9) against `wxprov sim`: what
//! each sends, what it leaves in results.csv and the ledger, and that a rerun or a lost
//! answer never sends a change twice.

use serde_json::{json, Value};

use crate::harness::{Sim, Workspace};
use crate::run::{results, CONFIGURED};

const HEADER: &str = "line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,domains,code,privacy,audit,release,step,errcode,message,hint";

const EXT: &str = r#"{"extAppid":"${appid}","ext":{"shop":"${column:门店编号}","quote":"a\"b"}}"#;
const GUIDE: &str = "[owner_setting]\ncontact_email = \"privacy@example.cn\"\nnotice_method = \"小程序首页公告\"\n\n\
    [[setting_list]]\nprivacy_key = \"PhoneNumber\"\nprivacy_text = \"联系订单\"\n\n\
    [[setting_list]]\nprivacy_key = \"Location\"\nprivacy_text = \"推荐最近的门店\"\n";

/// A job whose `[golive]` gives the code and the guide; the sheet gives what each test needs.
fn workspace(sheet: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write(
        "job.toml",
        "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\nignore_columns = [\"门店编号\"]\n\
         [limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n\
         [golive]\ntemplate_id = 128\nuser_version = \"2.4.0\"\nuser_desc = \"门店版\"\next_json = \"ext.json\"\n\
         privacy = \"privacy.toml\"\n",
    );
    ws.write("manifest.csv", sheet);
    ws.write("ext.json", EXT);
    ws.write("privacy.toml", GUIDE);
    ws
}

fn rows(ws: &Workspace) -> Vec<String> {
    results(ws).iter().map(|r| r.join(",")).collect()
}

fn bodies(sim: &Sim, path: &str) -> Vec<Value> {
    sim.calls_to(path).into_iter().map(|c| c["body"].clone()).collect()
}

#[test]
fn domains_set_the_named_types_and_keep_the_others() {
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!(
        "appid,上线,服务器域名,业务域名,门店编号\n{CONFIGURED},1,request=https://api.example.cn;upload=https://up.example.cn;download=https://cdn.example.cn,https://h5.example.cn,S1\n"
    ));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    assert_eq!(results(&ws)[1][9], "done", "{:?}", rows(&ws));
    // The sheet now names request alone (two domains): upload and download keep theirs.
    ws.write(
        "manifest.csv",
        format!("appid,上线,服务器域名,门店编号\n{CONFIGURED},1,\"request=https://api.example.cn,https://api2.example.cn\",S1\n"),
    );
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    assert_eq!(results(&ws)[1][9], "done", "{:?}", rows(&ws));
    let sets: Vec<Value> = bodies(&sim, "/wxa/modify_domain").into_iter().filter(|b| b["action"] == "set").collect();
    assert_eq!(
        sets,
        [
            json!({"action": "set", "requestdomain": ["https://api.example.cn"], "wsrequestdomain": [],
                   "uploaddomain": ["https://up.example.cn"], "downloaddomain": ["https://cdn.example.cn"],
                   "udpdomain": [], "tcpdomain": []}),
            json!({"action": "set", "requestdomain": ["https://api.example.cn", "https://api2.example.cn"],
                   "wsrequestdomain": [], "uploaddomain": ["https://up.example.cn"],
                   "downloaddomain": ["https://cdn.example.cn"], "udpdomain": [], "tcpdomain": []}),
        ]
    );
    assert_eq!(
        bodies(&sim, "/wxa/setwebviewdomain").into_iter().filter(|b| b["action"] == "set").collect::<Vec<_>>(),
        [json!({"action": "set", "webviewdomain": ["https://h5.example.cn"]})]
    );
    // The account has them now: a sheet asking the same again (another input) sends no set.
    ws.write(
        "manifest.csv",
        format!("appid,上线,服务器域名,门店编号\n{CONFIGURED},1,\"request=https://api2.example.cn,https://api.example.cn\",S1\n"),
    );
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    let row = &results(&ws)[1];
    assert_eq!(row[9], "skipped", "{row:?}");
    let sets = bodies(&sim, "/wxa/modify_domain").into_iter().filter(|b| b["action"] == "set").count();
    assert_eq!(sets, 2, "already so: no third set");
    let state = ws.query("SELECT state, message FROM steps WHERE kind = 'domains'");
    assert_eq!(state, [["skipped".to_string(), "the domains are already as asked".to_string()]]);
}

#[test]
fn a_domain_without_an_icp_filing_fails_the_step_naming_it() {
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!(
        "appid,上线,服务器域名,门店编号\n{CONFIGURED},1,\"request=https://api.example.cn,https://noicp.example.cn\",S1\n"
    ));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    let rows = rows(&ws);
    assert_eq!(
        rows,
        [
            HEADER.to_string(),
            format!(
                "2,{CONFIGURED},,,,,,,,failed,pending,pending,pending,pending,domains,85302,\
                 WeChat set no server domain: a domain has no ICP filing: no change (no_icp_domain: https://noicp.example.cn),\
                 A domain in server_domains has no ICP filing: file it (备案), or remove it from the cell, then run \
                 again. WeChat changed nothing."
            ),
        ]
    );
    assert!(sim.calls_to("/wxa/commit").is_empty(), "code waits for the domains");
}

/// The state-changing go-live calls the simulator received (a `get` of the domains is none).
fn changes(sim: &Sim) -> Vec<String> {
    const PATHS: &[&str] = &[
        "/wxa/modify_domain",
        "/wxa/setwebviewdomain",
        "/wxa/commit",
        "/cgi-bin/component/setprivacysetting",
        "/wxa/submit_audit",
    ];
    sim.calls()
        .iter()
        .filter(|c| PATHS.contains(&c["path"].as_str().unwrap_or_default()) && c["body"]["action"] != "get")
        .map(|c| c["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The scan answers no 61039 (the tests that are not about it need not wait a minute).
fn scan_done_at_once(sim: &Sim) {
    sim.post("/__sim/golive", json!({"privacy_scan": {"secs": 0, "calls": 0}}));
}

/// The first audit the simulator opens, which the `audit` step follows after the guide is set.
const IN_REVIEW: &str = "submitted; in WeChat's audit (audit 552341087),";

#[test]
fn code_commits_the_rendered_ext_json_as_a_string_and_privacy_sets_the_guide() {
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!("appid,上线,门店编号\n{CONFIGURED},1,S1\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(
        rows(&ws),
        [HEADER.to_string(), format!("2,{CONFIGURED},,,,,,,,,done,done,in_review,pending,audit,,{IN_REVIEW}")]
    );
    assert_eq!(
        bodies(&sim, "/wxa/commit"),
        [json!({
            "template_id": 128,
            "ext_json": format!(r#"{{"ext":{{"quote":"a\"b","shop":"S1"}},"extAppid":"{CONFIGURED}"}}"#),
            "user_version": "2.4.0",
            "user_desc": "门店版"
        })]
    );
    assert_eq!(
        bodies(&sim, "/cgi-bin/component/setprivacysetting"),
        [json!({
            "privacy_ver": 2,
            "owner_setting": {"contact_email": "privacy@example.cn", "notice_method": "小程序首页公告"},
            "setting_list": [
                {"privacy_key": "PhoneNumber", "privacy_text": "联系订单"},
                {"privacy_key": "Location", "privacy_text": "推荐最近的门店"}
            ]
        })]
    );
    assert_eq!(
        ws.query("SELECT kind, state, message FROM steps WHERE kind IN ('code', 'privacy') ORDER BY kind"),
        [
            ["code", "done", "committed template 128 as 2.4.0; WeChat's privacy scan follows"],
            ["privacy", "done", "privacy guide set (PhoneNumber, Location)"],
        ]
    );
    // A rerun of the finished steps sends no change (the audit is followed, not resubmitted).
    let before = changes(&sim).len();
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    assert_eq!(changes(&sim).len(), before, "{:?}", changes(&sim));
    assert_eq!(changes(&sim), ["/wxa/commit", "/cgi-bin/component/setprivacysetting", "/wxa/submit_audit"]);
}

#[test]
fn the_privacy_step_waits_for_the_scan_and_never_commits_again() {
    // The example fixture's scan answers 61039 once after each commit.
    let sim = Sim::start();
    let ws = workspace(&format!("appid,上线,门店编号\n{CONFIGURED},1,S1\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(
        rows(&ws),
        [HEADER.to_string(), format!("2,{CONFIGURED},,,,,,,,,done,done,in_review,pending,audit,,{IN_REVIEW}")]
    );
    let asked: Vec<(i64, u64)> = sim
        .calls_to("/cgi-bin/component/getprivacysetting")
        .iter()
        .map(|c| (c["errcode"].as_i64().unwrap(), c["at_ms"].as_u64().unwrap()))
        .collect();
    assert_eq!(asked.iter().map(|(code, _)| *code).collect::<Vec<_>>(), [61039, 0], "{asked:?}");
    assert!(asked[1].1 - asked[0].1 >= 60_000, "asked again a minute later: {asked:?}");
    assert_eq!(
        changes(&sim),
        ["/wxa/commit", "/cgi-bin/component/setprivacysetting", "/wxa/submit_audit"],
        "one commit"
    );
}

#[test]
fn a_guide_missing_a_key_the_scan_found_fails_naming_it() {
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!("appid,上线,门店编号\n{CONFIGURED},1,S1\n"));
    ws.write("privacy.toml", GUIDE.split("\n\n[[setting_list]]\nprivacy_key = \"Location\"").next().unwrap());
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert_eq!(
        rows(&ws),
        [
            HEADER.to_string(),
            format!(
                "2,{CONFIGURED},,,,,,,,,done,failed,pending,pending,privacy,,the code uses privacy keys the guide does \
                 not cover: Location,Add Location to the privacy file's setting_list (privacy_key and the purpose as \
                 privacy_text), then run again."
            ),
        ]
    );
    assert_eq!(changes(&sim), ["/wxa/commit"], "no guide is set");
}

#[test]
fn a_commit_whose_answer_was_lost_is_found_by_getversioninfo_and_never_sent_twice() {
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!("appid,上线,门店编号\n{CONFIGURED},1,S1\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // The commit takes effect and its answer is lost; getversioninfo cannot be read after it.
    sim.post(
        "/__sim/faults",
        json!([
            {"path": "/wxa/commit", "kind": "effect_then_drop"},
            {"path": "/wxa/getversioninfo", "kind": "http", "status": 502, "skip": 1, "times": 100}
        ]),
    );
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    let row = &results(&ws)[1];
    assert_eq!((row[10].as_str(), row[11].as_str(), row[14].as_str()), ("pending", "pending", "code"), "{row:?}");
    assert!(row[16].starts_with("the commit's answer was lost"), "{row:?}");
    assert_eq!(
        ws.query("SELECT state, started_api FROM steps WHERE kind = 'code'"),
        [["pending", "/wxa/commit"]],
        "the commit stays marked as out"
    );
    // The next run reads getversioninfo before anything: the commit took effect.
    sim.http_delete("/__sim/faults");
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(
        ws.query("SELECT state, message FROM steps WHERE kind = 'code'"),
        [["done", "template 128 committed as 2.4.0 (getversioninfo shows it; the earlier call's answer was lost)"]]
    );
    assert_eq!(
        changes(&sim),
        ["/wxa/commit", "/cgi-bin/component/setprivacysetting", "/wxa/submit_audit"],
        "one commit"
    );

    // Lost within one run, with getversioninfo readable: reconciled at once.
    let sim = Sim::start();
    scan_done_at_once(&sim);
    let ws = workspace(&format!("appid,上线,门店编号\n{CONFIGURED},1,S1\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    sim.post("/__sim/faults", json!({"path": "/wxa/commit", "kind": "effect_then_drop"}));
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(results(&ws)[1][10], "done");
    assert_eq!(
        changes(&sim),
        ["/wxa/commit", "/cgi-bin/component/setprivacysetting", "/wxa/submit_audit"],
        "one commit"
    );
}
