//! Run reports (DESIGN §6), in `REPORT_DIR/RUN_ID/`: `results.csv` (a line per manifest
//! row), `failed.csv` (the rows that need a person, in the manifest's own columns plus
//! `error`, ready to be fixed and fed back) and `summary.json`. CSVs are UTF-8 with a BOM so
//! Excel shows the Chinese right. `REPORT_DIR/latest` points at the newest run.

pub mod failed;
pub mod spool;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use spool::{LineSpool, WINDOW};

use serde::Serialize;

use crate::ledger::StepState;
use crate::manifest::StepKind;
use crate::runner::{RowResult, RunResult};
use wechat_open::secret::redact;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub rows: usize,
    pub steps: BTreeMap<&'static str, usize>,
    pub calls: BTreeMap<String, u64>,
    pub exit_code: u8,
    /// A rehearsal on the built-in simulator (`--api-base sim`), not a real run.
    pub rehearsal: bool,
    /// Why a `stop`-class error ended the run early (null when it did not).
    pub stopped: Option<String>,
    /// Ended by SIGINT/SIGTERM: some rows were not finished.
    pub interrupted: bool,
    /// The platform's audit quota as the run counted it — how many rows were submitted and
    /// how many deferred because it was spent (DESIGN §9); absent when no row asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_quota: Option<crate::wechat::audit_pool::PoolSummary>,
}

/// A new run id for a run starting at `started`: its start on Beijing's clock to the
/// millisecond and a random suffix, `20261121-111500.123-1a2b`, so that ids sort by start
/// time even for runs in the same second.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-{:04x}", wechat_open::beijing::run_stamp(started), rand::random::<u16>())
}

/// The reports of a run being written: `results.csv` and `failed.csv` take each row as it
/// finishes, so a million rows are never held for them; each has a [`LineSpool`] in the
/// run's folder that gives its rows back in line order (rows finish out of order: they run
/// concurrently), removed if the run ends without reports.
pub struct Reports {
    dir: PathBuf,
    report_dir: PathBuf,
    run_id: String,
    failed: failed::FailedCsv,
    /// results.csv's records, without the BOM and header.
    results_part: LineSpool,
    /// failed.csv's records, each led by its line and the row's appid (its header, which
    /// has an appid column only when a registered row is among them, is known at the end).
    failed_part: LineSpool,
    add_appid: bool,
    /// Written out ([`Reports::finish`]); otherwise dropping them leaves no folder behind.
    finished: bool,
}

impl Reports {
    /// Starts the reports of run `run_id` in `REPORT_DIR/RUN_ID/`, for a manifest at
    /// `manifest` with `header`.
    pub fn create(report_dir: &Path, run_id: &str, manifest: &Path, header: &[String]) -> anyhow::Result<Reports> {
        Reports::with_window(report_dir, run_id, manifest, header, WINDOW)
    }

    /// [`Reports::create`] with a window of `window` rows.
    fn with_window(
        report_dir: &Path,
        run_id: &str,
        manifest: &Path,
        header: &[String],
        window: usize,
    ) -> anyhow::Result<Reports> {
        let dir = report_dir.join(run_id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| crate::exit::fail(format!("cannot create the report folder {}: {e}", dir.display())))?;
        Ok(Reports {
            failed: failed::FailedCsv::new(manifest, header, &dir),
            results_part: LineSpool::create(dir.join(".results.csv.part"), window)?,
            failed_part: LineSpool::create(dir.join(".failed.csv.part"), window)?,
            dir,
            report_dir: report_dir.to_path_buf(),
            run_id: run_id.to_string(),
            add_appid: false,
            finished: false,
        })
    }

    /// Takes a finished row.
    pub fn row(&mut self, row: &RowResult) -> anyhow::Result<()> {
        if let Some(cells) = self.failed.record(row) {
            self.add_appid |= self.failed.adds_appid(row);
            let mut record = Vec::with_capacity(cells.len() + 2);
            record.push(row.line.to_string());
            record.push(row.appid.clone());
            record.extend(cells);
            self.failed_part.push(row.line, vec![record])?;
        }
        self.results_part.push(row.line, vec![results_record(row)])
    }

    /// Writes results.csv, failed.csv, failed.toml (from `feed`) and summary.json, and
    /// points `latest` at them; returns their folder.
    pub fn finish(mut self, summary: &Summary, feed: &failed::FeedBack) -> anyhow::Result<PathBuf> {
        self.write_csvs()?;
        failed::write_toml(&self.dir, &self.run_id, feed)?;
        std::fs::write(self.dir.join("summary.json"), serde_json::to_vec_pretty(summary)?)?;
        point_latest(&self.report_dir, &self.run_id);
        self.finished = true;
        Ok(self.dir.clone())
    }

    /// Writes results.csv and failed.csv from the rows taken, in line order.
    fn write_csvs(&mut self) -> anyhow::Result<()> {
        self.results_part.finish()?;
        self.failed_part.finish()?;
        let path = self.dir.join("results.csv");
        let mut w = writer(&path)?;
        w.write_record(results_header())?;
        let mut out = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        std::io::copy(&mut self.results_part.open()?, &mut out)?;
        let path = self.dir.join("failed.csv");
        let mut w = writer(&path)?;
        w.write_record(self.failed.head(self.add_appid))?;
        // Each record is led by its line and appid: the appid is failed.csv's first column
        // when it has one it added.
        let skip = if self.add_appid { 1 } else { 2 };
        for record in self.failed_part.records()?.byte_records() {
            w.write_record(record?.iter().skip(skip))?;
        }
        w.flush()?;
        Ok(())
    }
}

impl Drop for Reports {
    fn drop(&mut self) {
        if !self.finished {
            self.results_part.remove();
            self.failed_part.remove();
            // Only when empty: a folder with anything else in it is left alone.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

fn writer(path: &Path) -> anyhow::Result<csv::Writer<std::fs::File>> {
    let mut file =
        std::fs::File::create(path).map_err(|e| crate::exit::fail(format!("cannot write {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, BOM)?;
    Ok(csv::Writer::from_writer(file))
}

/// results.csv's header (DESIGN §6): a column per step, in run order, between the row's
/// identity and the step that most needs attention.
fn results_header() -> Vec<&'static str> {
    let mut header = vec!["line", "appid", "official_appid"];
    header.extend(StepKind::ALL.map(StepKind::as_str));
    header.extend(["step", "errcode", "message", "hint"]);
    header
}

/// A row's line in results.csv.
fn results_record(row: &RowResult) -> Vec<String> {
    let mut record = vec![row.line.to_string(), row.appid.clone(), row.official_appid.clone()];
    record.extend(StepKind::ALL.map(|kind| row.steps.get(&kind).map(|s| s.as_str()).unwrap_or("").to_string()));
    let step = match row.step {
        Some(kind) => kind.as_str(),
        None if row.invalid => "row",
        None => "",
    };
    record.push(step.to_string());
    record.push(row.errcode.map(|c| c.to_string()).unwrap_or_default());
    record.push(redact(&row.message));
    record.push(row.hint.clone());
    record
}

/// Points `REPORT_DIR/latest` at the newest run (a symlink; a plain file naming it where
/// links are not possible). Run ids sort by start time, so a run that started earlier but
/// ended later (another ledger's, writing to the same folder) leaves `latest` alone.
fn point_latest(report_dir: &Path, run_id: &str) {
    let latest = report_dir.join("latest");
    let current = std::fs::read_link(&latest)
        .map(|p| p.to_string_lossy().into_owned())
        .or_else(|_| std::fs::read_to_string(&latest).map(|s| s.trim().to_string()));
    if current.is_ok_and(|c| c.as_str() > run_id && report_dir.join(&c).is_dir()) {
        return;
    }
    let _ = std::fs::remove_file(&latest);
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(run_id, &latest).is_ok();
    #[cfg(not(unix))]
    let linked = false;
    if !linked {
        let _ = std::fs::write(&latest, run_id);
    }
}

/// The end-of-run table: steps per state, per step kind.
pub fn table(result: &RunResult) -> String {
    let counts = &result.tally.steps;
    let mut out = format!("{:<13}", "step");
    for state in StepState::ALL {
        out.push_str(&format!("{:>10}", state.as_str()));
    }
    out.push('\n');
    for kind in StepKind::ALL {
        if !counts.keys().any(|(k, _)| *k == kind) {
            continue;
        }
        out.push_str(&format!("{:<13}", kind.as_str()));
        for state in StepState::ALL {
            out.push_str(&format!("{:>10}", counts.get(&(kind, state)).copied().unwrap_or(0)));
        }
        out.push('\n');
    }
    let invalid = result.tally.invalid;
    if invalid > 0 {
        out.push_str(&format!("{invalid} rows were invalid (see failed.csv)\n"));
    }
    out
}

/// Checks that reports can be written to `report_dir` (creating it if need be), so that a
/// run stops before its first call rather than after its work (DESIGN §6). The error says
/// which folder and why, for `run` (exit 1) and `check`.
pub fn ensure_writable(report_dir: &Path) -> Result<(), String> {
    let probe = report_dir.join(format!(".wxprov-write-check-{}", std::process::id()));
    std::fs::create_dir_all(report_dir)
        .and_then(|()| std::fs::OpenOptions::new().write(true).create_new(true).open(&probe))
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| format!("the report folder {} is not writable: {e}", report_dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, state: StepState) -> RowResult {
        let mut row = RowResult { line, appid: format!("wx{line:016x}"), ..RowResult::default() };
        row.steps.insert(StepKind::Signature, state);
        row.cells = vec![row.appid.clone(), format!("简介 {line}")];
        row
    }

    fn lines_of(path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').next().unwrap().to_string()).collect()
    }

    /// Rows that come back later than the window allows are still written in line order
    /// (sorted from disk at the end); rows within it are put in order as they come.
    #[test]
    fn rows_finished_in_any_order_are_written_in_line_order() {
        for window in [2, WINDOW] {
            let dir = tempfile::tempdir().unwrap();
            let header = vec!["appid".to_string(), "signature".to_string()];
            let manifest = dir.path().join("manifest.csv");
            let mut reports = Reports::with_window(dir.path(), "run", &manifest, &header, window).unwrap();
            // Line 2 is the slow row: it comes back after every other.
            let mut order: Vec<u64> = (3..40).collect();
            order.swap(4, 20);
            order.push(2);
            for line in order {
                let state = if line % 3 == 0 { StepState::Failed } else { StepState::Done };
                reports.row(&row(line, state)).unwrap();
            }
            assert_eq!(reports.results_part.in_order(), window == WINDOW, "window {window}");
            reports.write_csvs().unwrap();
            let run = dir.path().join("run");
            let expected: Vec<String> =
                std::iter::once("line".to_string()).chain((2..40).map(|l| l.to_string())).collect();
            assert_eq!(lines_of(&run.join("results.csv")), expected);
            let failed: Vec<String> = lines_of(&run.join("failed.csv"));
            let expected: Vec<String> = std::iter::once("appid".to_string())
                .chain((2..40).filter(|l| l % 3 == 0).map(|l| format!("wx{l:016x}")))
                .collect();
            assert_eq!(failed, expected);
        }
    }

    /// Reports never finished (the run failed) leave nothing behind.
    #[test]
    fn reports_not_finished_leave_no_folder() {
        let dir = tempfile::tempdir().unwrap();
        let header = vec!["appid".to_string()];
        let mut reports = Reports::create(dir.path(), "run", &dir.path().join("m.csv"), &header).unwrap();
        reports.row(&row(2, StepState::Failed)).unwrap();
        assert!(dir.path().join("run").is_dir());
        drop(reports);
        assert!(!dir.path().join("run").exists());
    }

    #[test]
    fn results_csv_has_designs_columns() {
        assert_eq!(
            results_header().join(","),
            "line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,\
             domains,code,privacy,audit,release,step,errcode,message,hint"
        );
    }
}
