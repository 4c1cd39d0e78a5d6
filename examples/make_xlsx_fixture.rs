//! Writes `tests/fixtures/manifests/onboarding.xlsx` from `onboarding.csv`, the way Excel
//! would store it: text as text, but the `复用认证` (copy_wx_verify) column as numbers, so
//! the reader's whole-float handling is exercised. Run: `cargo run --example make_xlsx_fixture`.

use rust_xlsxwriter::Workbook;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/manifests");
    let mut csv = csv::ReaderBuilder::new().has_headers(false).from_path(format!("{dir}/onboarding.csv"))?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, record) in csv.records().enumerate() {
        let record = record?;
        for (c, cell) in record.iter().enumerate() {
            let (row, col) = (u32::try_from(r)?, u16::try_from(c)?);
            match cell.parse::<f64>() {
                Ok(n) if r > 0 && c == 2 => sheet.write_number(row, col, n)?,
                _ if cell.is_empty() => sheet,
                _ => sheet.write_string(row, col, cell)?,
            };
        }
    }
    // A second sheet, which the reader must ignore.
    workbook.add_worksheet().write_string(0, 0, "ignored")?;
    workbook.save(format!("{dir}/onboarding.xlsx"))?;
    Ok(())
}
