//! `wxprov check JOB` (DESIGN §1, §6): one line per check, exit 0 when none failed, 1 when
//! one did, 2 for usage. Each broken set-up is made for real — a wrong secret, a simulator
//! that refuses this machine's IP (61004), a row without a refresh token, an account that
//! lacks a permission set, a report folder that cannot be made — and the whole output is
//! checked, with what the simulator received.

use serde_json::json;

use crate::harness::{example_fixture, Sim, Workspace};
use crate::run::{job, state_changing, CONFIGURED, FRESH};

/// The official account whose qualification the registration row reuses.
const OA: &str = "wx28f759479ea1e090";

/// Three rows, three kinds of work: a mini-program's name, signature and categories; another
/// one's admin rebind; a registration from an official account.
const SHEET: &str = "appid,official_appid,nickname,signature,categories,rebind_taskid\n\
    wxe5f52902cf4de896,,杭州示例工具,提供好用的在线工具。,287/612,\n\
    wxdc685123d9554530,,,,,b25519093b1e97239eff9d2bfc07e08e\n\
    ,wx28f759479ea1e090,杭州示例门店,一家示例门店的功能介绍。,,\n";

/// The three accounts' refresh tokens (as the example fixture has them), each with the
/// permission sets the sheet needs of it.
const TOKENS: &str = "appid,refresh_token,func_info\n\
    wxe5f52902cf4de896,refreshtoken@@@mp-fresh-0001,17;18;30;31\n\
    wxdc685123d9554530,refreshtoken@@@mp-configured-0002,17;18\n\
    wx28f759479ea1e090,refreshtoken@@@oa-hangzhou-0001,1;2;3\n";

const TOKEN_PATH: &str = "/cgi-bin/component/api_component_token";

fn workspace(tokens: &str) -> (Workspace, String) {
    let ws = Workspace::new();
    let job = job(&ws, SHEET);
    ws.write("tokens.csv", tokens);
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    (ws, job)
}

/// The lines every set-up here shares before the component's three.
fn head(ws: &Workspace) -> String {
    format!(
        "ok    ledger: {} is writable\n\
         ok    report folder: reports does not exist yet; `run` creates it (its parent is writable)\n",
        ws.ledger().display()
    )
}

/// `check`'s first three lines when the platform's credentials, ticket and whitelist are good.
const PLATFORM_OK: &str = "ok    component credentials: WeChat issued a component token for the appid and app secret\n\
    ok    verify ticket: WeChat accepted WXPROV_COMPONENT_VERIFY_TICKET\n\
    ok    IP whitelist: WeChat answered api_component_token from this machine\n";

const SHEET_AND_ACCOUNTS_OK: &str = "ok    sheet: 3 rows, all valid\n\
    ok    refresh tokens: each of the 3 accounts the rows act on has one\n\
    ok    permission sets: each of the 3 accounts granted the sets its steps need (3, 17, 30, 31)\n";

#[test]
fn a_good_set_up_passes_and_the_next_check_uses_the_cached_component_token() {
    let sim = Sim::start();
    let (ws, job) = workspace(TOKENS);
    let first = ws.test_on(&sim).args(["check", &job]).run();
    assert_eq!(
        first.stdout,
        format!(
            "{}{PLATFORM_OK}\
             {SHEET_AND_ACCOUNTS_OK}\n8 checks: 8 ok, 0 failed, 0 not checked\n",
            head(&ws)
        )
    );
    assert_eq!(sim.calls_to(TOKEN_PATH).len(), 1);

    // The token is cached now: the next check uses it, asks WeChat whether it still takes
    // it, and says what it did not check because of it.
    let second = ws.test_on(&sim).args(["check", &job]).run();
    assert_eq!(
        second.stdout,
        format!(
            "{}ok    component credentials: WeChat accepted the cached component token (the app secret is not \
             sent while it is valid, so it was not checked)\n\
             skip  verify ticket: not checked: the cached component token is still valid; \
             WXPROV_COMPONENT_VERIFY_TICKET is sent when it is renewed (`serve` stored none in the last 12 hours)\n\
             skip  IP whitelist: not checked: the cached component token is still valid, so api_component_token \
             (where WeChat checks the whitelist) was not called\n\
             {SHEET_AND_ACCOUNTS_OK}\n8 checks: 6 ok, 0 failed, 2 not checked\n",
            head(&ws)
        )
    );
    assert_eq!(sim.calls_to(TOKEN_PATH).len(), 1, "a new component token was forced");
    assert_eq!(sim.calls_to("/cgi-bin/component/api_get_authorizer_list").len(), 1);
    assert_eq!(state_changing(&sim.calls()), Vec::<String>::new());
    let printed = format!("{}{}", first.all(), second.all());
    crate::harness::assert_no_secret("check's output", &printed, &sim.secrets());
}

#[test]
fn a_wrong_secret_fails_the_credentials_and_nothing_else_is_blamed() {
    let sim = Sim::start();
    let (ws, job) = workspace(TOKENS);
    let ran = ws.test_on(&sim).env("WXPROV_COMPONENT_SECRET", "not-the-secret").args(["check", &job]).status(1).run();
    assert_eq!(
        ran.stdout,
        format!(
            "{}FAIL  component credentials: /cgi-bin/component/api_component_token: errcode 40125 (无效的 AppSecret): \
             invalid appsecret\n      to fix: The component secret is wrong: check WXPROV_COMPONENT_SECRET (or the \
             file named by WXPROV_COMPONENT_SECRET_FILE) against open.weixin.qq.com (管理中心 → 第三方平台 → \
             AppSecret), then run again. No row needs changing.\n\
             skip  verify ticket: not checked: WeChat refused the credentials first\n\
             ok    IP whitelist: WeChat answered api_component_token from this machine (errcode 40125, not 61004)\n\
             {SHEET_AND_ACCOUNTS_OK}\n8 checks: 6 ok, 1 failed, 1 not checked\n",
            head(&ws)
        )
    );
    assert!(!ran.all().contains("not-the-secret"), "the secret was printed");
    assert_eq!(ws.query("SELECT count(*) FROM tokens WHERE kind = 'component'"), [["0"]]);
}

#[test]
fn an_ip_off_the_whitelist_is_named_with_the_ip_wechat_saw() {
    let mut fixture = example_fixture();
    fixture["ip_whitelisted"] = json!(false);
    fixture["request_ip"] = json!("198.51.100.23");
    let sim = Sim::with_fixture(fixture, &[]);
    let (ws, job) = workspace(TOKENS);
    let ran = ws.test_on(&sim).args(["check", &job]).status(1).run();
    assert_eq!(
        ran.stdout,
        format!(
            "{}skip  component credentials: not checked: WeChat refused this machine's IP first\n\
             skip  verify ticket: not checked: WeChat refused this machine's IP first\n\
             FAIL  IP whitelist: WeChat sees this machine as 198.51.100.23, which is not on the platform's IP \
             whitelist (/cgi-bin/component/api_component_token: errcode 61004 (access clientip is not registered\
             （调用接口的 IP 未在第三方平台的 IP 白名单中）): access clientip is not registered requestIP: \
             198.51.100.23 rid: 6571a2b3-1c2d3e4f)\n      to fix: Add 198.51.100.23 to the platform's IP whitelist \
             on open.weixin.qq.com (开发资料 → 白名单), then run again. No row needs changing.\n\
             {SHEET_AND_ACCOUNTS_OK}\n8 checks: 5 ok, 1 failed, 2 not checked\n",
            head(&ws)
        )
    );
    // Whitelisted again, the same set-up passes.
    sim.post("/__sim/ip_whitelist", json!({"whitelisted": true}));
    ws.test_on(&sim).args(["check", &job]).stdout_has("8 checks: 8 ok, 0 failed, 0 not checked\n").run();
}

#[test]
fn a_row_without_a_refresh_token_fails_and_unknown_permission_sets_are_not_passed() {
    let sim = Sim::start();
    // No func_info column, and no token for the official account of the registration row.
    let (ws, job) =
        workspace(&format!("{FRESH},refreshtoken@@@mp-fresh-0001\n{CONFIGURED},refreshtoken@@@mp-configured-0002\n"));
    let ran = ws.test_on(&sim).args(["check", &job]).status(1).run();
    assert_eq!(
        ran.stdout,
        format!(
            "{}{PLATFORM_OK}\
             ok    sheet: 3 rows, all valid\n\
             FAIL  refresh tokens: 1 of 3 accounts have none: {OA} (line 4, official account)\n      to fix: wxprov \
             holds no refresh token for this account. Run `wxprov tokens recover` (it lists every authorizer of the \
             platform), import one with `wxprov tokens import FILE`, or have the merchant authorize the platform \
             (`wxprov serve` stores the token from WeChat's push); the next run continues the row with no sheet \
             change.\n\
             FAIL  permission sets: not known for 2 of 2 accounts: {FRESH} (line 2); {CONFIGURED} (line 3) (1 \
             without a refresh token not checked)\n      to fix: run `wxprov tokens recover`: it reads every \
             account's permission sets (api_get_authorizer_info)\n\
             \n8 checks: 6 ok, 2 failed, 0 not checked\n",
            head(&ws)
        )
    );
}

#[test]
fn an_account_that_lacks_a_permission_set_is_named_with_the_steps_that_need_it() {
    let mut fixture = example_fixture();
    let mini = fixture["mini_programs"].as_array_mut().unwrap().iter_mut().find(|m| m["appid"] == FRESH).unwrap();
    mini["func_info"] = json!([17, 18, 19, 31]);
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = job(&ws, SHEET);
    // Recovered tokens come with the permission sets WeChat lists for each account.
    ws.test_on(&sim)
        .args(["tokens", "recover"])
        .stdout_has("13 authorizers listed by WeChat; stored 13 refresh tokens; read the permission sets of 13\n")
        .run();
    assert_eq!(sim.calls_to("/cgi-bin/component/api_get_authorizer_info").len(), 13);
    assert_eq!(
        ws.query(&format!("SELECT func_ids, source FROM permissions WHERE appid = '{FRESH}'")),
        [["17,18,19,31", "recover"]]
    );
    let ran = ws.test_on(&sim).args(["check", &job]).status(1).run();
    assert_eq!(
        ran.stdout,
        format!(
            "{}ok    component credentials: WeChat accepted the cached component token (the app secret is not \
             sent while it is valid, so it was not checked)\n\
             skip  verify ticket: not checked: the cached component token is still valid; \
             WXPROV_COMPONENT_VERIFY_TICKET is sent when it is renewed (`serve` stored none in the last 12 hours)\n\
             skip  IP whitelist: not checked: the cached component token is still valid, so api_component_token \
             (where WeChat checks the whitelist) was not called\n\
             ok    sheet: 3 rows, all valid\n\
             ok    refresh tokens: each of the 3 accounts the rows act on has one\n\
             FAIL  permission sets: {FRESH} (line 2) lacks 30 小程序基本信息设置权限 for nickname, signature, \
             categories\n      to fix: have the account's admin authorize the platform again with these \
             permission sets (the platform must request them: open.weixin.qq.com, 第三方平台 → 权限集); `wxprov \
             serve` stores the new ones from WeChat's push, or run `wxprov tokens recover --all`\n\
             \n8 checks: 5 ok, 1 failed, 2 not checked\n",
            head(&ws)
        )
    );
}

#[test]
fn a_report_folder_that_cannot_be_made_fails_and_creates_nothing() {
    let sim = Sim::start();
    let (ws, job) = workspace(TOKENS);
    ws.write("blocker", "a file where the report folder's parent should be");
    let ran = ws.test_on(&sim).args(["check", &job, "--report-dir", "blocker/reports"]).status(1).run();
    assert_eq!(
        ran.stdout,
        format!(
            "ok    ledger: {} is writable\n\
             FAIL  report folder: blocker/reports cannot be created: blocker is not a folder\n      to fix: fix it, \
             or give another with --report-dir or the job file's `report_dir`\n\
             {PLATFORM_OK}\
             {SHEET_AND_ACCOUNTS_OK}\n8 checks: 7 ok, 1 failed, 0 not checked\n",
            ws.ledger().display()
        )
    );
    // Nothing was created: neither the report folder of the job nor a probe file.
    assert!(!ws.path().join("reports").exists());
    assert_eq!(
        std::fs::read_to_string(ws.path().join("blocker")).unwrap(),
        "a file where the report folder's parent should be"
    );
}

#[test]
fn a_missing_ledger_is_not_created_and_a_bad_job_is_usage() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, SHEET);
    let ran = ws.test_on(&sim).args(["check", &job]).status(1).run();
    assert!(
        ran.stdout.starts_with(&format!(
            "ok    ledger: {} does not exist yet; `run` creates it (its folder is writable)\n",
            ws.ledger().display()
        )),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("FAIL  refresh tokens: 3 of 3 accounts have none: "), "{}", ran.stdout);
    assert!(!ws.ledger().exists(), "check created the ledger");
    ws.test_on(&sim).args(["check", "no-such-job.toml"]).status(2).run();
    assert!(!ws.ledger().exists());
}

/// The component lines of a check, without the ones every test here shares.
fn component_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().skip(2).take_while(|l| !l.starts_with("ok    sheet")).collect()
}

#[test]
fn the_verify_ticket_serve_stored_is_used_and_a_missing_one_fails() {
    let sim = Sim::start();
    let (ws, job) = workspace(TOKENS);
    let no_env_ticket = || ws.test_on(&sim).env("WXPROV_COMPONENT_VERIFY_TICKET", "").args(["check", &job]);
    // No ticket anywhere: nothing is sent to WeChat.
    let ran = no_env_ticket().status(1).run();
    assert_eq!(
        component_lines(&ran.stdout),
        [
            "skip  component credentials: not checked: there is no verify ticket to send with them",
            "FAIL  verify ticket: no component_verify_ticket: run `wxprov serve` so WeChat can push one (it does every \
             10 minutes), or set WXPROV_COMPONENT_VERIFY_TICKET",
            "skip  IP whitelist: not checked: nothing was sent",
        ]
    );
    assert!(sim.calls_to(TOKEN_PATH).is_empty());

    // The ticket `serve` stored (as its callback does) is the one sent.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    rusqlite::Connection::open(ws.ledger())
        .unwrap()
        .execute(
            "INSERT INTO tickets (kind, account, value, received_at) VALUES ('component_verify_ticket', ?1, ?2, ?3)",
            rusqlite::params![sim.component_appid, sim.verify_ticket, now],
        )
        .unwrap();
    let ran = no_env_ticket().run();
    assert_eq!(
        component_lines(&ran.stdout),
        [
            "ok    component credentials: WeChat issued a component token for the appid and app secret",
            "ok    verify ticket: WeChat accepted the one `serve` stored in the last 12 hours",
            "ok    IP whitelist: WeChat answered api_component_token from this machine",
        ]
    );
    assert_eq!(sim.calls_to(TOKEN_PATH).len(), 1);
    // With the token cached, the stored ticket is at hand for its renewal.
    let ran = no_env_ticket().run();
    assert_eq!(
        component_lines(&ran.stdout)[1],
        "ok    verify ticket: the one `serve` stored in the last 12 hours is at hand for the renewal (not sent now)"
    );
    // With the token cached and no ticket at all, it cannot be renewed: that fails now.
    rusqlite::Connection::open(ws.ledger()).unwrap().execute("DELETE FROM tickets", []).unwrap();
    let ran = no_env_ticket().status(1).run();
    assert_eq!(
        component_lines(&ran.stdout)[1..3],
        [
            "FAIL  verify ticket: none at hand: the cached component token cannot be renewed when it expires",
            "      to fix: The component_verify_ticket is stale (WeChat pushes one every 10 minutes; it lives 12 h). \
             Make sure `wxprov serve` is running and reachable at the platform's authorization-event URL, or set \
             WXPROV_COMPONENT_VERIFY_TICKET; then run again. No row needs changing.",
        ]
    );
    assert_eq!(sim.calls_to(TOKEN_PATH).len(), 1);
}

#[test]
fn a_rehearsal_checks_on_the_simulator_with_its_own_world() {
    let ws = Workspace::new();
    let template = format!("{}/examples/template.csv", env!("CARGO_MANIFEST_DIR"));
    let ran = ws.test().args(["check", &template, "--api-base", "sim"]).run();
    assert_eq!(
        ran.stdout,
        format!(
            "[rehearsal] ok    ledger: {}.sim.db does not exist yet; `run` creates it (its folder is writable)\n\
             [rehearsal] ok    report folder: reports/rehearsal does not exist yet; `run` creates it (its parent is \
             writable)\n\
             [rehearsal] ok    component credentials: WeChat issued a component token for the appid and app secret\n\
             [rehearsal] ok    verify ticket: WeChat accepted the simulator's own ticket\n\
             [rehearsal] ok    IP whitelist: WeChat answered api_component_token from this machine\n\
             [rehearsal] ok    sheet: 6 rows, all valid\n\
             [rehearsal] ok    go-live: 1 row goes live (line 2)\n\
             [rehearsal] ok    refresh tokens: each of the 6 accounts the rows act on has one\n\
             [rehearsal] ok    permission sets: each of the 6 accounts granted the sets its steps need (3, 17, 30, 31)\n\
             [rehearsal] \n\
             [rehearsal] 9 checks: 9 ok, 0 failed, 0 not checked\n",
            ws.ledger().display()
        )
    );
    assert!(!ws.ledger().exists() && !ws.path().join("wxprov.db.sim.db").exists(), "a ledger was created");
}

#[test]
fn with_a_token_command_the_token_it_gives_is_what_is_checked() {
    let sim = Sim::start();
    let (ws, job) = workspace(TOKENS);
    // A token service that asks the simulator the way a platform's would, and one that makes
    // a token up.
    let body = format!(
        "{{\"component_appid\":\"{}\",\"component_appsecret\":\"{}\",\"component_verify_ticket\":\"{}\"}}",
        sim.component_appid, sim.component_secret, sim.verify_ticket
    );
    let real = ws.write(
        "real-helper.sh",
        format!(
            "#!/bin/sh\ncurl -s -X POST '{}{TOKEN_PATH}' -d '{body}' | sed 's/.*\"component_access_token\":\"\\([^\"]*\\)\".*/{{\"access_token\": \"\\1\", \"expires_in\": 7200}}/'\n",
            sim.url
        ),
    );
    let made_up =
        ws.write("made-up-helper.sh", "#!/bin/sh\necho '{\"access_token\": \"made-up\", \"expires_in\": 7200}'\n");
    let not_ours = "not checked: the token service (WXPROV_TOKEN_COMMAND) gets the component token";
    let check = |script: &std::path::Path, code| {
        ws.test_on(&sim)
            .env("WXPROV_TOKEN_COMMAND", format!("sh {}", script.display()))
            .args(["check", &job])
            .status(code)
            .run()
    };
    let ran = check(&real, 0);
    assert_eq!(
        component_lines(&ran.stdout),
        [
            "ok    component credentials: WeChat accepted the component token WXPROV_TOKEN_COMMAND gave".to_string(),
            format!("skip  verify ticket: {not_ours}"),
            format!("skip  IP whitelist: {not_ours}"),
        ]
    );
    crate::harness::assert_no_secret("check's output", &ran.all(), &sim.secrets());
    let ran = check(&made_up, 1);
    assert_eq!(
        component_lines(&ran.stdout),
        [
            "FAIL  component credentials: WeChat refused the component token WXPROV_TOKEN_COMMAND gave: \
             /cgi-bin/component/api_get_authorizer_list: errcode 40001 (获取 access_token 时 AppSecret 错误，或者 \
             access_token 无效): invalid credential, access_token is invalid or not latest"
                .to_string(),
            "      to fix: check the token service behind WXPROV_TOKEN_COMMAND: the component token it gives must be \
             the platform's current one"
                .to_string(),
            format!("skip  verify ticket: {not_ours}"),
            format!("skip  IP whitelist: {not_ours}"),
        ][..],
        "{}",
        ran.stdout
    );
}

#[test]
fn a_ledger_that_cannot_be_opened_fails_and_its_tokens_are_not_blamed() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, SHEET);
    std::fs::create_dir(ws.path().join("folder.db")).unwrap();
    let ran = ws.test_on(&sim).args(["check", &job, "--ledger", "folder.db"]).status(1).run();
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "FAIL  ledger: folder.db cannot be opened for writing: Is a directory (os error 21)",
            "      to fix: make it a writable file in a writable folder, or give another with --ledger or the job file's `ledger`",
            "ok    report folder: reports does not exist yet; `run` creates it (its parent is writable)",
        ],
        "{}",
        ran.stdout
    );
    assert_eq!(
        lines[7..],
        [
            "skip  refresh tokens: not checked: the ledger could not be opened",
            "skip  permission sets: not checked: the ledger could not be opened",
            "",
            "8 checks: 5 ok, 1 failed, 2 not checked",
        ],
        "{}",
        ran.stdout
    );
}

/// `check` takes the sheet row by row as `run` does (#13), keeping what grows with it on
/// disk: on a sheet of 12,000 rows the go-live rows and the problems of go-live cells come in
/// line order, an appid repeated 11,998 lines further down rejects both rows (the log names
/// each with the other's line, in line order), and of the accounts without a refresh token or
/// lacking a set the first by line are named, the others counted.
#[test]
fn a_large_sheet_is_checked_row_by_row_and_its_problems_come_in_line_order() {
    let id = |line: usize| format!("wx{:016x}", 0xc4ec_0000_0000_0000u64 + line as u64);
    let (last, go_live, versions) = (12_001, [2, 6_000, 11_990], [5, 7_777, 11_999]);
    let no_token = [4, 100, 4_000, 8_000, 9_000, 10_000, 12_000];
    let no_basic_info = [3_001, 11_000];
    let mut sheet = String::from("appid,signature,上线,版本号\n");
    let mut tokens = String::from("appid,refresh_token,func_info\n");
    for line in 2..=last {
        let live = if go_live.contains(&line) { "1" } else { "" };
        let version = if versions.contains(&line) { "3.0.0" } else { "" };
        // The last row repeats line 3's appid, in upper case.
        let appid = if line == last { id(3).to_uppercase() } else { id(line) };
        sheet.push_str(&format!("{appid},第{line}行门店的功能介绍。,{live},{version}\n"));
        if !no_token.contains(&line) {
            let sets = if no_basic_info.contains(&line) { "18" } else { "18;30" };
            tokens.push_str(&format!("{},refreshtoken@@@large-{line},{sets}\n", id(line)));
        }
    }
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.write("manifest.csv", &sheet);
    ws.write(
        "job.toml",
        "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\n\
         [golive]\ntemplate_id = 128\nuser_version = \"2.4.0\"\nuser_desc = \"门店版\"\next_json = \"ext.json\"\n",
    );
    ws.write("ext.json", r#"{"extAppid":"${appid}"}"#);
    ws.write("tokens.csv", &tokens);
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    let ran = ws.test_on(&sim).args(["check", "job.toml"]).status(1).run();
    let version_unused = |line: usize| {
        format!(
            "line {line}, column user_version: the row does not go live, so its user_version would not be used: \
             give a template_id in the row, or set golive to 1 with the job's [golive] template_id / 该行不上线，\
             “user_version”不会被使用：请在该行填写模板ID，或把“上线”设为 1 并在任务文件 [golive] 中设置 template_id"
        )
    };
    let named = |lines: &[usize]| lines.iter().map(|l| format!("{} (line {l})", id(*l))).collect::<Vec<_>>();
    let lacks = |line: usize| format!("{} (line {line}) lacks 30 小程序基本信息设置权限 for signature", id(line));
    assert_eq!(
        ran.stdout,
        format!(
            "{}{PLATFORM_OK}\
             skip  sheet: 5 of 12000 rows are invalid and not checked here (`wxprov plan JOB` says why)\n\
             FAIL  go-live: 3 rows go live (lines 2, 6000, 11990)\n      {}\n      {}\n      {}\n      \
             to fix: fix these cells (or the job's [golive] values they fall back to)\n\
             FAIL  refresh tokens: 7 of 11995 accounts have none: {}; and 2 more\n      to fix: wxprov holds no \
             refresh token for this account. Run `wxprov tokens recover` (it lists every authorizer of the \
             platform), import one with `wxprov tokens import FILE`, or have the merchant authorize the platform \
             (`wxprov serve` stores the token from WeChat's push); the next run continues the row with no sheet \
             change.\n\
             FAIL  permission sets: {}; {} (7 without a refresh token not checked)\n      to fix: have the \
             account's admin authorize the platform again with these permission sets (the platform must request \
             them: open.weixin.qq.com, 第三方平台 → 权限集); `wxprov serve` stores the new ones from WeChat's push, \
             or run `wxprov tokens recover --all`\n\
             \n9 checks: 5 ok, 3 failed, 1 not checked\n",
            head(&ws),
            version_unused(5),
            version_unused(7_777),
            version_unused(11_999),
            named(&no_token[..5]).join("; "),
            lacks(3_001),
            lacks(11_000),
        )
    );
    // The log warns of every rejected row, in line order; the repeated appid names the
    // other line on both.
    let warned: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.contains(", column "))
        .filter_map(|l| l.split_once("line ").map(|(_, warning)| warning))
        .collect();
    let repeated = |line: usize, other: usize| {
        format!(
            "{line}, column appid: {0} is also on line {other}; both rows are rejected / {0} 与第 {other} 行重复，\
             这些行都不处理",
            id(3)
        )
    };
    let unused = |line: usize| version_unused(line).trim_start_matches("line ").to_string();
    assert_eq!(warned, [repeated(3, last), unused(5), unused(7_777), unused(11_999), repeated(last, 3)]);
    // Nothing but the component's own calls reached WeChat.
    assert_eq!(state_changing(&sim.calls()), Vec::<String>::new());
}
