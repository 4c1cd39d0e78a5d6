//! Go-live's input (DESIGN §2 `[golive]`, §9): which rows go live, the go-live cells checked
//! with their line and column by `check` and the job's section when it is read, and the
//! go-live steps waiting for the row's earlier steps.

use crate::harness::{Sim, Workspace};
use crate::run::{results, CONFIGURED, FRESH};

const EXT: &str = r#"{"extAppid":"${appid}","ext":{"shop":"${column:门店编号}"}}"#;
const GUIDE: &str = "[owner_setting]\ncontact_email = \"privacy@example.cn\"\nnotice_method = \"小程序首页公告\"\n\n\
    [[setting_list]]\nprivacy_key = \"PhoneNumber\"\nprivacy_text = \"联系订单\"\n";

const JOB: &str = "manifest = \"sheets/manifest.csv\"\nreport_dir = \"reports\"\nignore_columns = [\"门店编号\"]\n\
    [golive]\ntemplate_id = 128\nuser_version = \"2.4.0\"\nuser_desc = \"门店版\"\next_json = \"golive/ext.json\"\n\
    privacy = \"golive/privacy.toml\"\n";

/// Line 2 registers and goes live on the job's defaults; line 3 is live on its merchant's own
/// code (no switch: untouched); line 4 gives its own template but a domain without https;
/// line 5 gives a version without going live; line 6 asks with `上线` but its shop is empty.
const SHEET: &str = "appid,official_appid,nickname,模板ID,版本号,服务器域名,上线,门店编号\n\
    ,wx28f759479ea1e090,杭州示例门店,,,,,S1\n\
    wxe5f52902cf4de896,,杭州示例工具,,,,,S2\n\
    wxdc685123d9554530,,,77,,request=http://api.example.cn,,S3\n\
    wx0f1e2d3c4b5a6978,,,,3.0.0,,,S4\n\
    wx1a2b3c4d5e6f7081,,,,,,1,\n";

fn workspace(job: &str, sheet: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("job.toml", job);
    ws.write("sheets/manifest.csv", sheet);
    ws.write("golive/ext.json", EXT);
    ws.write("golive/privacy.toml", GUIDE);
    ws
}

#[test]
fn check_names_the_rows_that_go_live_and_every_bad_go_live_cell() {
    let sim = Sim::start();
    let ws = workspace(JOB, SHEET);
    let ran = ws.test_on(&sim).args(["check", "job.toml"]).status(1).run();
    let golive: Vec<&str> = ran.stdout.lines().skip_while(|l| !l.starts_with("skip  sheet")).take(6).collect();
    assert_eq!(
        golive.join("\n"),
        "skip  sheet: 3 of 5 rows are invalid and not checked here (`wxprov plan JOB` says why)\n\
         FAIL  go-live: 1 row goes live (line 2)\n      \
         line 4, column server_domains: \"http://api.example.cn\" must start with https:// / “http://api.example.cn”应以 https:// 开头\n      \
         line 5, column user_version: the row does not go live, so its user_version would not be used: give a template_id in the row, or set golive to 1 with the job's [golive] template_id / 该行不上线，“user_version”不会被使用：请在该行填写模板ID，或把“上线”设为 1 并在任务文件 [golive] 中设置 template_id\n      \
         line 6, column ext_json: ext_json uses ${column:门店编号} but this row's 门店编号 is empty / ext_json 使用了 ${column:门店编号}，但该行的“门店编号”为空\n      \
         to fix: fix these cells (or the job's [golive] values they fall back to)"
    );
}

#[test]
fn go_live_waits_for_the_rows_earlier_steps() {
    let sim = Sim::start();
    // FRESH's new name goes into WeChat's audit; CONFIGURED asks for nothing but go-live, with
    // a template the platform's library does not have.
    let sheet = format!("appid,nickname,模板ID,门店编号\n{FRESH},杭州示例新名称,77,S1\n{CONFIGURED},,77,S2\n");
    let ws = workspace(JOB, &sheet);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    let header = "line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,domains,code,privacy,audit,release,step,errcode,message,hint";
    let rows: Vec<String> = results(&ws).iter().map(|r| r.join(",")).collect();
    assert_eq!(
        rows,
        [
            header.to_string(),
            format!("2,{FRESH},,,in_review,,,,,,pending,pending,pending,pending,nickname,,in WeChat's audit (audit 410000001),"),
            format!("3,{CONFIGURED},,,,,,,,,failed,pending,pending,pending,code,85014,/wxa/commit: errcode 85014 (无效的模板编号): invalid template id,template_id is not a template of the platform's library: check the template_id cell (or [golive] template_id) against gettemplatelist, then run again."),
        ],
        "{}",
        ran.stderr
    );
    let golive_paths = [
        "/wxa/commit",
        "/wxa/submit_audit",
        "/wxa/release",
        "/wxa/modify_domain",
        "/cgi-bin/component/setprivacysetting",
    ];
    let golive: Vec<(String, String)> = sim
        .calls()
        .iter()
        .filter(|c| golive_paths.contains(&c["path"].as_str().unwrap_or_default()))
        .map(|c| {
            (c["appid"].as_str().unwrap_or_default().to_string(), c["path"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    assert_eq!(
        golive,
        [(CONFIGURED.to_string(), "/wxa/commit".to_string())],
        "no go-live call for the row whose name is in review; CONFIGURED's one commit was refused"
    );
}

#[test]
fn the_golive_section_is_checked_when_the_job_is_read() {
    let sim = Sim::start();
    let sheet = "appid,nickname\nwxe5f52902cf4de896,杭州示例工具\n";
    let cases = [
        ("templat_id = 1\n", "unknown field `templat_id`"),
        (
            "webview_domains = [\"https://h5.example.cn:8443\"]\n",
            "[golive] webview_domains: \"https://h5.example.cn:8443\" may not have a port",
        ),
        ("privacy = \"golive/none.toml\"\n", "[golive] privacy: cannot read the privacy guide"),
        (
            "server_domains = { socket = [\"wss://a.cn\"] }\n",
            "\"socket\" is not a domain type (one of request, ws, upload, download, udp, tcp)",
        ),
    ];
    for (section, message) in cases {
        let ws = workspace(&format!("manifest = \"sheets/manifest.csv\"\n[golive]\n{section}"), sheet);
        let ran = ws.test_on(&sim).args(["check", "job.toml"]).status(2).run();
        assert!(ran.stderr.contains(message) && ran.stderr.contains("job.toml"), "{section}: {}", ran.stderr);
    }
    assert_eq!(sim.calls().len(), 0);
}

#[test]
fn a_job_default_never_touches_a_mini_program_that_already_exists() {
    let sim = Sim::start();
    // FRESH exists (live on its merchant's own code, as far as wxprov knows): the job's
    // [golive] template_id must not reach it without its golive cell set to 1.
    let ws = workspace(JOB, &format!("appid,signature\n{FRESH},一家示例门店的新功能介绍。\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    let rows: Vec<String> = results(&ws).iter().skip(1).map(|r| r.join(",")).collect();
    assert_eq!(rows, [format!("2,{FRESH},,,,,done,,,,,,,,,,,")]);
    let sent: Vec<String> = sim
        .calls()
        .iter()
        .map(|c| c["path"].as_str().unwrap_or_default().to_string())
        .filter(|p| p.starts_with("/wxa/") || p.contains("privacy"))
        .collect();
    assert_eq!(sent, Vec::<String>::new(), "no go-live call, not even a read");
}
