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
