//! The sheet's columns (DESIGN §3): the Chinese aliases ops staff write are read; a misspelt
//! header is refused with the suggestion; any other unknown column stops the run (exit 2,
//! no call) unless `ignore_columns` or `--ignore-column` lists it; a sheet that asks for
//! nothing is refused.

use crate::harness::{Sim, Workspace};
use crate::run::{job, state_changing, FRESH};

const SIGNATURE: &str = "提供好用的在线工具。";

/// The job file `run::job` writes, plus `extra` lines.
fn job_with(ws: &Workspace, csv: &str, extra: &str) -> String {
    job(ws, csv);
    ws.write(
        "job.toml",
        format!(
            "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\n{extra}\n\
             [limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n"
        ),
    );
    "job.toml".into()
}

#[test]
fn the_chinese_headers_ops_staff_write_are_read_and_acted_on() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!("小程序AppID,小程序名称,小程序简介,小程序头像,服务类目\n{FRESH},杭州示例工具,{SIGNATURE},images/tiny.png,工具/计算器\n"),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(
        state_changing(&sim.calls()),
        [
            format!("/wxa/setnickname {FRESH}"),
            format!("/cgi-bin/account/modifyheadimage {FRESH}"),
            format!("/cgi-bin/account/modifysignature {FRESH}"),
            format!("/cgi-bin/wxopen/addcategory {FRESH}"),
        ]
    );
    assert_eq!(sim.calls_to("/wxa/setnickname")[0]["body"]["nick_name"], "杭州示例工具");
    assert_eq!(sim.calls_to("/cgi-bin/account/modifysignature")[0]["body"]["signature"], SIGNATURE);
}

#[test]
fn a_misspelt_column_is_refused_with_the_suggestion_before_any_call() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,nicknme,signature\n{FRESH},杭州示例工具,{SIGNATURE}\n"));
    let ran = ws.test_on(&sim).args(["run", &job]).status(2).run();
    assert_eq!(
        ran.stderr,
        "error: manifest manifest.csv, line 1 (the header): columns wxprov does not know / 未知的列:\n  \
         column 2 (B) \"nicknme\": did you mean `nickname`? / 是不是“nickname”？\n\
         rename a misspelt column; list a column wxprov must not read in the job file's ignore_columns or pass \
         --ignore-column NAME / 拼错的列请改名；不需要 wxprov 读取的列请写进任务文件的 ignore_columns，或使用 --ignore-column 列名\n"
    );
    assert!(sim.calls().is_empty(), "no call: {:?}", sim.calls());
    assert!(!ws.ledger().exists(), "a usage error creates no ledger");
    // plan and links read the sheet the same way.
    ws.test_on(&sim).args(["plan", &job]).status(2).stderr_has("did you mean `nickname`?").run();
    ws.test_on(&sim)
        .args(["links", &job, "--redirect-base", "https://ops.example.com"])
        .status(2)
        .stderr_has("did you mean `nickname`?")
        .run();
    assert!(sim.calls().is_empty());
}

#[test]
fn an_unknown_column_stops_the_run_listing_it() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,备注,signature,商户名称\n{FRESH},老客户,{SIGNATURE},杭州示例\n"));
    let ran = ws.test_on(&sim).args(["run", &job]).status(2).run();
    assert_eq!(
        ran.stderr,
        "error: manifest manifest.csv, line 1 (the header): columns wxprov does not know / 未知的列:\n  \
         column 2 (B) \"备注\"\n  column 4 (D) \"商户名称\"\n\
         list a column wxprov must not read in the job file's ignore_columns or pass --ignore-column NAME / \
         不需要 wxprov 读取的列请写进任务文件的 ignore_columns，或使用 --ignore-column 列名\n"
    );
    assert!(sim.calls().is_empty(), "no call: {:?}", sim.calls());
}

#[test]
fn ignore_columns_in_the_job_file_or_on_the_command_line_lets_it_run() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let csv = format!("appid,备注,signature,商户名称\n{FRESH},老客户,{SIGNATURE},杭州示例\n");
    let job = job_with(&ws, &csv, "ignore_columns = [\"备注\", \"商户名称\"]");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim)
        .args(["run", &job])
        .stderr_has("not reading column 2 (B) \"备注\", column 4 (D) \"商户名称\" (ignore_columns")
        .run();
    assert_eq!(state_changing(&sim.calls()), [format!("/cgi-bin/account/modifysignature {FRESH}")]);
    assert_eq!(sim.calls_to("/cgi-bin/account/modifysignature")[0]["body"]["signature"], SIGNATURE);

    // The same with the flag (one from the job file, one from the flag; names matched as
    // headers are, without case or spaces).
    let ws = Workspace::new();
    let job = job_with(&ws, &csv.replace(SIGNATURE, "另一条新的简介。"), "ignore_columns = [\"备注\"]");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(2).stderr_has("column 4 (D) \"商户名称\"").run();
    ws.test_on(&sim).args(["run", &job, "--ignore-column", " 商户 名称 "]).run();
    let sent = sim.calls_to("/cgi-bin/account/modifysignature");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["body"]["signature"], "另一条新的简介。");
}

#[test]
fn a_sheet_that_asks_for_nothing_is_refused() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,备注\n{FRESH},老客户\n"));
    let ran = ws.test_on(&sim).args(["run", &job, "--ignore-column", "备注"]).status(2).run();
    assert_eq!(
        ran.stderr,
        "error: manifest manifest.csv, line 1 (the header): the sheet has no column that asks for anything: it needs \
         at least one of `official_appid`, `nickname`, `signature`, `avatar`, `categories`, `rebind_taskid`, \
         `template_id`, `golive` / 表头中没有任何要办理的列（名称、简介、头像、类目、注册、换绑或上线）\n"
    );
    assert!(sim.calls().is_empty());
}

#[test]
fn data_in_a_column_without_a_header_stops_the_run() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,,signature\n{FRESH},老客户,{SIGNATURE}\n"));
    let ran = ws.test_on(&sim).args(["run", &job]).status(2).run();
    assert_eq!(
        ran.stderr.lines().last().unwrap_or_default(),
        "error: manifest manifest.csv, line 2: column 2 (B) has no header but holds \"老客户\"; name the column (and \
         list it in ignore_columns if wxprov must not read it) or clear it / 第 2 行第 2 (B) 列没有表头却有内容“老客户”：\
         请给该列起名（不需要读取的写进 ignore_columns）或清空"
    );
    assert!(sim.calls().is_empty(), "{:?}", sim.calls());
}
