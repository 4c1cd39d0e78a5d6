//! Writes `examples/template.xlsx`, the sheet ops staff copy, from `examples/template.csv`:
//! the same cells, all stored as text (so Excel never turns an appid or a taskid into a
//! number), the header row bold and frozen, and a sheet `说明` (notes) that points at the
//! guide. The output is byte for byte the same on every run (a fixed creation date; the zip
//! entries carry no time), so `tests/it/template.rs` can check that the committed file is
//! what this program writes. The notes sheet comes first, as in the templates ops staff are
//! used to; wxprov passes over it because it has no header row. Run:
//! `cargo run --example make_template_xlsx`.

use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

/// The data sheet's name (the notes sheet before it has no header row, so wxprov skips it).
pub const SHEET: &str = "小程序";

/// The workbook for the CSV at `csv_path`, as bytes.
pub fn template_xlsx(csv_path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut csv = csv::ReaderBuilder::new().has_headers(false).from_path(csv_path)?;
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>()?;

    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 12, 1)?;
    workbook.set_properties(&DocProperties::new().set_title("wxprov 小程序表格模板").set_creation_datetime(&created));
    let header = Format::new().set_bold().set_num_format("@");
    let text = Format::new().set_num_format("@");

    let notes = workbook.add_worksheet();
    notes.set_name("说明")?;
    for (r, line) in [
        "每行一个小程序，填写在“小程序”工作表中；wxprov 读取第一张有表头行的工作表（本表没有表头行，会被跳过），也可以用 --sheet 小程序 指定。",
        "各列的含义、中英文列名和填写规则见 docs/guide.zh.md（英文版 docs/guide.en.md）。",
        "图片列填写相对于本表格所在文件夹的路径，例如 images/licence.jpg。",
        "先用 wxprov plan 表格.xlsx --api-base sim 演练，确认无误后再正式运行。",
    ]
    .iter()
    .enumerate()
    {
        notes.write_string(u32::try_from(r)?, 0, *line)?;
    }
    notes.set_column_width(0, 90)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET)?;
    for (r, record) in rows.iter().enumerate() {
        let row = u32::try_from(r)?;
        for (c, cell) in record.iter().enumerate() {
            // The CSV's BOM belongs to the file, not to the first header cell.
            let cell = cell.trim_start_matches('\u{FEFF}');
            let col = u16::try_from(c)?;
            if cell.is_empty() {
                continue;
            }
            sheet.write_string_with_format(row, col, cell, if r == 0 { &header } else { &text })?;
        }
    }
    let width = rows.first().map_or(0, |h| h.len());
    for c in 0..width {
        let col = u16::try_from(c)?;
        let widest = rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(8);
        sheet.set_column_width(col, (widest.clamp(8, 60) + 2) as f64)?;
        sheet.set_column_format(col, &text)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    Ok(workbook.save_to_buffer()?)
}

#[allow(dead_code)] // the integration test includes this file for `template_xlsx` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let bytes = template_xlsx(&dir.join("template.csv"))?;
    std::fs::write(dir.join("template.xlsx"), bytes)?;
    println!("wrote {}", dir.join("template.xlsx").display());
    Ok(())
}
