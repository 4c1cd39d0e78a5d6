//! Run reports (DESIGN §6), in `REPORT_DIR/RUN_ID/`: `results.csv` (a line per manifest
//! row), `failed.csv` (the rows that need a person, in the manifest's own columns plus
//! `error`, ready to be fixed and fed back) and `summary.json`. CSVs are UTF-8 with a BOM so
//! Excel shows the Chinese right. `REPORT_DIR/latest` points at the newest run.

pub mod failed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
}

/// A new run id for a run starting at `started`: its start on Beijing's clock to the
/// millisecond and a random suffix, `20261121-111500.123-1a2b`, so that ids sort by start
/// time even for runs in the same second.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-{:04x}", wechat_open::beijing::run_stamp(started), rand::random::<u16>())
}

/// Writes the reports (failed.toml from `feed`) and points `latest` at them; returns their
/// folder.
pub fn write(
    report_dir: &Path,
    result: &RunResult,
    summary: &Summary,
    feed: &failed::FeedBack,
) -> anyhow::Result<PathBuf> {
    let dir = report_dir.join(&summary.run_id);
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::exit::fail(format!("cannot create the report folder {}: {e}", dir.display())))?;
    write_results(&dir.join("results.csv"), &result.rows)?;
    failed::write(&dir, &summary.run_id, result, feed)?;
    std::fs::write(dir.join("summary.json"), serde_json::to_vec_pretty(summary)?)?;
    point_latest(report_dir, &summary.run_id);
    Ok(dir)
}

fn writer(path: &Path) -> anyhow::Result<csv::Writer<std::fs::File>> {
    let mut file =
        std::fs::File::create(path).map_err(|e| crate::exit::fail(format!("cannot write {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, BOM)?;
    Ok(csv::Writer::from_writer(file))
}

/// results.csv's step columns, in run order (DESIGN §6). The go-live steps (§9) have their
/// columns already; they stay empty until wxprov runs those steps.
const STEP_COLUMNS: [&str; 11] = [
    "register",
    "nickname",
    "avatar",
    "signature",
    "categories",
    "rebind_admin",
    "domains",
    "code",
    "privacy",
    "audit",
    "release",
];

fn write_results(path: &Path, rows: &[RowResult]) -> anyhow::Result<()> {
    let mut w = writer(path)?;
    let mut header = vec!["line", "appid", "official_appid"];
    header.extend(STEP_COLUMNS);
    header.extend(["step", "errcode", "message", "hint"]);
    w.write_record(&header)?;
    for row in rows {
        let mut record = vec![row.line.to_string(), row.appid.clone(), row.official_appid.clone()];
        let state = |column: &str| row.steps.iter().find(|(k, _)| k.as_str() == column).map(|(_, s)| s.as_str());
        record.extend(STEP_COLUMNS.iter().map(|c| state(c).unwrap_or("").to_string()));
        let step = match row.step {
            Some(kind) => kind.as_str(),
            None if row.invalid => "row",
            None => "",
        };
        record.push(step.to_string());
        record.push(row.errcode.map(|c| c.to_string()).unwrap_or_default());
        record.push(redact(&row.message));
        record.push(row.hint.clone());
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
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
    let mut counts: BTreeMap<(StepKind, StepState), usize> = BTreeMap::new();
    for row in &result.rows {
        for (kind, state) in &row.steps {
            *counts.entry((*kind, *state)).or_default() += 1;
        }
    }
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
    let invalid = result.rows.iter().filter(|r| r.invalid).count();
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

    #[test]
    fn every_step_has_its_results_column() {
        for kind in StepKind::ALL {
            assert!(STEP_COLUMNS.contains(&kind.as_str()), "{kind} has no column in results.csv");
        }
    }
}
