//! Which sheet and which row of an `.xlsx` are read (DESIGN §3): `--sheet` or `sheet =`,
//! otherwise the first sheet with a header row; title rows above the header (a merged title,
//! notes) skipped and reported; the sheet and row logged; line numbers the sheet's own.

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::harness::{Sim, Workspace};
use crate::run::{job, results, state_changing, CONFIGURED, FRESH};
use crate::sheet_values::logged;

fn write_rows(sheet: &mut Worksheet, first: u32, rows: &[&[&str]]) {
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(first + r as u32, c as u16, *cell).unwrap();
            }
        }
    }
}

fn job_file(ws: &Workspace, extra: &str) {
    ws.write(
        "job.toml",
        format!(
            "manifest = \"manifest.xlsx\"\nreport_dir = \"reports\"\n{extra}\n\
             [limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n"
        ),
    );
}

#[test]
fn a_blank_sheet_and_an_instructions_sheet_first_and_a_merged_title_row_are_passed_over() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(&ws, "");
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Sheet1").unwrap();
    let notes = book.add_worksheet().set_name("填表说明").unwrap();
    write_rows(notes, 0, &[&["请在“小程序”表中每行填写一个小程序"], &["简介：4 到 120 个字"]]);
    let sheet = book.add_worksheet().set_name("小程序").unwrap();
    sheet.merge_range(0, 0, 0, 2, "2026年12月 小程序资料修改", &Format::new().set_bold()).unwrap();
    write_rows(
        sheet,
        1,
        &[
            &["小程序appid", "小程序简介", "小程序名称"],
            &[FRESH, "提供好用的在线工具。", ""],
            &["wx-typo", "另一条简介内容", ""],
        ],
    );
    book.save(ws.path().join("manifest.xlsx")).unwrap();
    job_file(&ws, "");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    for expected in [
        "passing over sheet \"Sheet1\" of manifest.xlsx (empty)",
        "passing over sheet \"填表说明\" of manifest.xlsx (no header row)",
        "reading sheet \"小程序\" of manifest.xlsx, header on line 2",
        "skipped the rows above the header (a title or notes): line 1 \"2026年12月 小程序资料修改\"",
        "line 4, column appid: \"wx-typo\" is not an appid (wx followed by 16 hex digits) / \
         “wx-typo”不是有效的 appid（wx 加 16 位十六进制数字）",
    ] {
        let level = if expected.starts_with("line 4") { "WARN" } else { "INFO" };
        assert!(logged(&ran, level, expected), "{expected}\n--- stderr\n{}", ran.stderr);
    }
    assert_eq!(state_changing(&sim.calls()), [format!("/cgi-bin/account/modifysignature {FRESH}")]);
    let lines: Vec<(String, String)> = results(&ws).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let expected = [("line", "appid"), ("3", FRESH), ("4", "")];
    assert_eq!(lines, expected.map(|(l, a)| (l.to_string(), a.to_string())), "the sheet's own row numbers");
}

#[test]
fn the_sheet_named_on_the_command_line_or_in_the_job_file_is_read() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(&ws, "");
    let mut book = Workbook::new();
    let first = book.add_worksheet().set_name("第一批").unwrap();
    write_rows(first, 0, &[&["appid", "signature"], &[FRESH, "第一批的新简介。"]]);
    let second = book.add_worksheet().set_name("第二批").unwrap();
    write_rows(second, 0, &[&["appid", "signature"], &[CONFIGURED, "第二批的新简介。"]]);
    book.save(ws.path().join("manifest.xlsx")).unwrap();
    ws.test_on(&sim).args(["tokens", "recover"]).run();

    job_file(&ws, "sheet = \"第二批\"");
    let ran = ws.test_on(&sim).args(["plan", "job.toml"]).run();
    assert!(logged(&ran, "INFO", "reading sheet \"第二批\" of manifest.xlsx, header on line 1"), "{}", ran.stderr);
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    assert_eq!(state_changing(&sim.calls()), [format!("/cgi-bin/account/modifysignature {CONFIGURED}")]);

    // --sheet wins over the job file.
    ws.test_on(&sim).args(["run", "job.toml", "--sheet", "第一批"]).run();
    assert_eq!(
        state_changing(&sim.calls()),
        [format!("/cgi-bin/account/modifysignature {CONFIGURED}"), format!("/cgi-bin/account/modifysignature {FRESH}")]
    );

    let ran = ws.test_on(&sim).args(["run", "job.toml", "--sheet", "第三批"]).status(2).run();
    assert_eq!(
        ran.stderr,
        "error: manifest manifest.xlsx: there is no sheet \"第三批\"; the workbook has \"第一批\", \"第二批\" / \
         Excel 文件中没有名为“第三批”的工作表\n"
    );
}
