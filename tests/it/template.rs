//! The sheet ops staff copy (`examples/template.csv` and `.xlsx`, DESIGN §3 with Chinese
//! headers, one row per kind of work): it validates and plans on the built-in simulator as
//! the guide says, both files plan alike, and the committed `.xlsx` is exactly what
//! `cargo run --example make_template_xlsx` writes from the CSV.

use std::path::{Path, PathBuf};

use crate::harness::Workspace;

#[allow(dead_code)]
#[path = "../../examples/make_template_xlsx.rs"]
mod make_template_xlsx;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// What `plan` shows for the template: one row per kind of work, every one of them valid, the
/// registration row also named and taken live with every go-live column (its steps wait for
/// the registration) — each line marked `[rehearsal] ` on the built-in simulator (see
/// [`rehearsed`]).
const PLAN: &str = r#" line  row                  step          action  detail
    2  wx28f759479ea1e090   register      wait    waiting for the official account's admin to scan the link from `wxprov links`
    2  wx28f759479ea1e090   nickname      wait    after the registration
    2  wx28f759479ea1e090   avatar        wait    after the registration
    2  wx28f759479ea1e090   signature     wait    after the registration
    2  wx28f759479ea1e090   domains       wait    after the registration
    2  wx28f759479ea1e090   code          wait    after the registration
    2  wx28f759479ea1e090   privacy       wait    after the registration
    2  wx28f759479ea1e090   audit         wait    after the registration
    2  wx28f759479ea1e090   release       wait    after the registration
    3  wxa1b2c3d4e5f60101   nickname      set     set the name to "示例花艺工作室"
    4  wxa1b2c3d4e5f60102   signature     set     set the signature (0 of 5 changes used this month)
    5  wxa1b2c3d4e5f60103   avatar        set     set the avatar (0 of 5 changes used this month)
    6  wxa1b2c3d4e5f60104   categories    set     add 8/39 287/614 (5 of 5 changes left this month)
    7  wxa1b2c3d4e5f60105   rebind_admin  wait    waiting for the new admin's scan: send the link from `wxprov links` (serve captures the taskid)

set 4, wait 10

go-live: 1 row
  audit quota: 1 audit submission needed, queryquota shows 20 of 20 left this month
  ICP filing (get_icp_entrance_info; release needs 6, 已备案):
   line  row                  status meaning
      2  wx28f759479ea1e090   -      not registered yet: read once the registration is done
"#;

/// `PLAN` as a rehearsal prints it.
fn rehearsed() -> String {
    PLAN.lines().map(|line| format!("[rehearsal] {line}\n")).collect()
}

#[test]
fn the_template_csv_plans_on_the_simulator_with_every_row_valid() {
    let ws = Workspace::new();
    let template = example("template.csv");
    let ran = ws
        .test()
        .args(["plan", template.to_str().unwrap(), "--api-base", "sim"])
        .arg("--report-dir")
        .arg("reports")
        .run();
    assert_eq!(ran.stdout, rehearsed(), "stderr:\n{}", ran.stderr);
    assert!(!ran.stderr.contains("invalid") && !ran.stderr.contains("ignored"), "{}", ran.stderr);
}

#[test]
fn the_template_xlsx_plans_as_the_csv_does_from_its_data_sheet() {
    let template = example("template.xlsx");
    // The notes sheet comes first and has no header row; `--sheet` names the data sheet.
    for sheet in [None, Some(make_template_xlsx::SHEET)] {
        let ws = Workspace::new();
        let mut test =
            ws.test().args(["plan", template.to_str().unwrap(), "--api-base", "sim", "--report-dir", "reports"]);
        if let Some(name) = sheet {
            test = test.args(["--sheet", name]);
        }
        let ran = test.stderr_has(format!("reading sheet \"{}\" of ", make_template_xlsx::SHEET)).run();
        assert_eq!(ran.stdout, rehearsed(), "stderr:\n{}", ran.stderr);
        assert!(!ran.stderr.contains("invalid") && !ran.stderr.contains("ignored"), "{}", ran.stderr);
    }
}

#[test]
fn the_committed_template_xlsx_is_what_the_example_program_writes() {
    let written = make_template_xlsx::template_xlsx(&example("template.csv")).expect("build the workbook");
    let committed = std::fs::read(example("template.xlsx")).expect("examples/template.xlsx");
    assert!(
        written == committed,
        "examples/template.xlsx is not what examples/template.csv makes: run `cargo run --example make_template_xlsx` and commit the result"
    );
}
