//! Cells that are not data (DESIGN §3): a spreadsheet's error value (a formula that failed)
//! and an identifier Excel turned into `1.23E+31` are validation errors with line and
//! column, and the row gets no call — never sent as a signature or a taskid.

use rust_xlsxwriter::{Formula, Workbook};

use crate::harness::{Ran, Sim, Workspace};
use crate::run::{job, CONFIGURED, FRESH};

/// The log line that reports `problem` (its text after the level), whole.
pub fn logged(ran: &Ran, level: &str, problem: &str) -> bool {
    let marker = format!(" {level} ");
    ran.stderr.lines().any(|l| l.split_once(marker.as_str()).is_some_and(|(_, text)| text == problem))
}

#[test]
fn an_xlsx_signature_whose_formula_failed_is_an_error_and_costs_no_call() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(&ws, "");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("小程序").unwrap();
    sheet.write_string(0, 0, "appid").unwrap();
    sheet.write_string(0, 1, "简介").unwrap();
    sheet.write_string(1, 0, FRESH).unwrap();
    sheet.write_formula(1, 1, Formula::new("=VLOOKUP(A2,简介表!A:B,2,FALSE)").set_result("#N/A")).unwrap();
    sheet.write_string(2, 0, CONFIGURED).unwrap();
    sheet.write_string(2, 1, "一个简单好用的计算器。").unwrap();
    book.save(ws.path().join("manifest.xlsx")).unwrap();
    ws.write(
        "job.toml",
        "manifest = \"manifest.xlsx\"\nreport_dir = \"reports\"\n[limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n",
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert!(
        logged(
            &ran,
            "WARN",
            "line 2, column signature: the cell holds the spreadsheet error #N/A (a formula that failed), not a value; \
             fix the formula or type the value / 单元格是表格的错误值 #N/A（公式出错），不是内容；请修正公式或直接填写内容"
        ),
        "{}",
        ran.stderr
    );
    let touching: Vec<_> = sim.calls().into_iter().filter(|c| c["appid"] == FRESH).collect();
    assert!(touching.is_empty(), "no call for the row: {touching:#?}");
    assert!(sim.calls_to("/cgi-bin/account/modifysignature").is_empty());
    assert_ne!(sim.get("/__sim/state")["mini_programs"][FRESH]["signature"], "#N/A");
    // The good row below it still ran (its signature is already so: skipped).
    let steps = ws.query("SELECT identity, kind, state FROM steps ORDER BY identity");
    assert_eq!(steps, [[CONFIGURED, "signature", "skipped"]]);
}

#[test]
fn a_taskid_excel_turned_into_scientific_notation_says_to_format_the_column_as_text() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,rebind_taskid\n{CONFIGURED},1.23E+31\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(
        logged(
            &ran,
            "WARN",
            "line 2, column rebind_taskid: \"1.23E+31\" is a number Excel shortened to scientific notation, and its \
             digits are lost; format the rebind_taskid column as Text in Excel, paste the original value again and \
             save / “1.23E+31”是被 Excel 改成科学计数法的数字，原来的数字已丢失；请在 Excel 中把 rebind_taskid \
             列设为“文本”格式，重新粘贴原值后保存"
        ),
        "{}",
        ran.stderr
    );
    assert!(sim.calls_to("/cgi-bin/account/componentrebindadmin").is_empty());
    assert!(sim.calls().iter().all(|c| c["appid"] != CONFIGURED), "{:#?}", sim.calls());
}
