//! `failed.csv` and `failed.toml` (DESIGN §6): the rows whose sheet must change, in the
//! manifest's own columns plus `error`, and the job to feed them back with —
//! `wxprov run REPORT_DIR/RUN_ID/failed.toml` — after fixing them.
//!
//! Fed back, failed.csv must mean what the row meant in the manifest, from its new folder:
//! - file paths (images and certificates) are rewritten to resolve from the report folder;
//! - the `appid` a registration row got since is filled in (a column added when the sheet
//!   had none), so the row is that mini-program's and never registers again;
//! - an `error` column the manifest already had (itself a failed.csv) is replaced, not
//!   added again.
//!
//! failed.toml is the run's job with `failed.csv` as its manifest and the ledger and report
//! folder the run used, so the fed-back run continues the same ledger whatever folder it is
//! started from.

use std::path::{Path, PathBuf};

use crate::config::{relative_to, JobFile};
use crate::ledger::StepState;
use crate::manifest::categories::{parse_cell, write_cell};
use crate::manifest::columns::{normalize_header, OWN_COLUMNS};
use crate::manifest::Column;

/// failed.csv's own column: what went wrong. The manifest reader knows it as one of
/// wxprov's own columns and reads past it.
const ERROR: &str = OWN_COLUMNS[0];
use crate::runner::RowResult;
use wechat_open::secret::redact;

/// What failed.toml is made of besides the job file: where this run's ledger and report
/// folder were (flags and environment included) and the API base it used.
#[derive(Debug, Clone, Copy)]
pub struct FeedBack<'a> {
    pub job: &'a JobFile,
    pub ledger: &'a Path,
    pub report_dir: &'a Path,
    pub api_base: Option<&'a str>,
    /// The job's `ignore_columns` and `--ignore-column`.
    pub ignore_columns: &'a [String],
}

/// Writes failed.toml into `dir`, the run's report folder (failed.csv is [`FailedCsv`]'s).
pub fn write_toml(dir: &Path, run_id: &str, feed: &FeedBack) -> anyhow::Result<()> {
    let job = feed.job.for_failed(dir, feed.ledger, feed.report_dir, feed.api_base, feed.ignore_columns);
    let toml = toml::to_string(&job)?;
    let path = dir.join("failed.toml");
    let text = format!(
        "# The job of run {run_id} for the rows in failed.csv beside this file: fix them there, then\n\
         #   wxprov run {}\n\
         # Paths are relative to this file's folder.\n\n{toml}",
        path.display()
    );
    std::fs::write(&path, text).map_err(|e| crate::exit::fail(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// Rewrites a path written in the manifest so that it resolves from the report folder.
struct Paths {
    manifest_dir: PathBuf,
    report_dir: PathBuf,
}

impl Paths {
    fn rebase(&self, written: &str) -> String {
        let written = written.trim();
        if written.is_empty() {
            return String::new();
        }
        // As validation reads it: sheets made on Windows write `certs\visa.jpg`.
        let written = if cfg!(windows) { written.to_string() } else { written.replace('\\', "/") };
        let path = Path::new(&written);
        let target = if path.is_absolute() { path.to_path_buf() } else { self.manifest_dir.join(path) };
        relative_to(&self.report_dir, &target).display().to_string()
    }

    /// A cell of `column` with every path in it rebased; other columns as they are.
    fn cell(&self, column: Option<Column>, cell: &str) -> String {
        match column {
            Some(Column::Avatar | Column::License | Column::IdCard) => self.rebase(cell),
            Some(Column::NamingMaterials) => {
                let cell = cell.replace('；', ";");
                let paths: Vec<String> =
                    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(|p| self.rebase(p)).collect();
                paths.join(";")
            }
            // A cell that does not parse is left as written: its row was rejected for it.
            Some(Column::Categories) => match parse_cell(cell) {
                Ok(items) => write_cell(&items, |p| self.rebase(p)),
                Err(_) => cell.to_string(),
            },
            _ => cell.to_string(),
        }
    }
}

/// failed.csv's rows and header for a manifest's header, one row at a time.
pub struct FailedCsv {
    header: Vec<String>,
    columns: Vec<Option<Column>>,
    error_at: Option<usize>,
    appid_at: Option<usize>,
    from: Paths,
}

impl FailedCsv {
    /// For a manifest at `manifest` with `header`, whose failed.csv is written into `dir`.
    pub fn new(manifest: &Path, header: &[String], dir: &Path) -> FailedCsv {
        let manifest_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        FailedCsv {
            header: header.to_vec(),
            columns: header.iter().map(|h| Column::from_header(h)).collect(),
            error_at: header.iter().position(|h| normalize_header(h) == ERROR),
            appid_at: header.iter().position(|h| Column::from_header(h) == Some(Column::Appid)),
            from: Paths { manifest_dir, report_dir: dir.to_path_buf() },
        }
    }

    /// failed.csv's header. A registration sheet has no appid column; when a row registered
    /// since is in failed.csv (`add_appid`, [`FailedCsv::adds_appid`]), it gets one first.
    pub fn head(&self, add_appid: bool) -> Vec<String> {
        let mut head: Vec<String> = Vec::with_capacity(self.header.len() + 2);
        if add_appid {
            head.push(Column::Appid.name().into());
        }
        head.extend(self.header.iter().cloned());
        if self.error_at.is_none() {
            head.push(ERROR.into());
        }
        head
    }

    /// Whether `row`, in failed.csv, makes it need the appid column the sheet lacks.
    pub fn adds_appid(&self, row: &RowResult) -> bool {
        self.appid_at.is_none() && !row.appid.is_empty()
    }

    /// The row's failed.csv cells after the added appid column (which, when there is one, is
    /// `row.appid`); `None` for a row that is not in failed.csv.
    pub fn record(&self, row: &RowResult) -> Option<Vec<String>> {
        if !row.needs_person() {
            return None;
        }
        let mut cells = row.cells.clone();
        cells.resize(self.header.len(), String::new());
        let mut record: Vec<String> = Vec::with_capacity(self.header.len() + 1);
        for (i, cell) in cells.iter().enumerate() {
            let value = match self.columns[i] {
                _ if Some(i) == self.error_at => error_text(row),
                Some(Column::Appid) if cell.trim().is_empty() => row.appid.clone(),
                column => self.from.cell(column, cell),
            };
            record.push(value);
        }
        if self.error_at.is_none() {
            record.push(error_text(row));
        }
        Some(record)
    }
}

/// The `error` cell: the failed steps, the errcode, the message and the hint.
fn error_text(row: &RowResult) -> String {
    let failed: Vec<&str> =
        row.steps.iter().filter(|(_, s)| **s == StepState::Failed).map(|(k, _)| k.as_str()).collect();
    let mut error = String::new();
    if !failed.is_empty() {
        error.push_str(&format!("[{}] ", failed.join(", ")));
    }
    if let Some(code) = row.errcode {
        error.push_str(&format!("errcode {code}: "));
    }
    error.push_str(&redact(&row.message));
    if !row.hint.is_empty() {
        error.push_str(&format!(" — {}", row.hint));
    }
    error
}
