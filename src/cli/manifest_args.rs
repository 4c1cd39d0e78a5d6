//! The options of the commands that read a manifest (`run`, `plan`, `check`, `links`) and the
//! one place they open it: the header checked (a usage error, exit 2, before any ledger or
//! call), and what was read logged — the encoding or the sheet, the header's line, the rows
//! above it and the columns skipped. The options are merged with the job file's `sheet` and
//! `ignore_columns` in [`Settings`].

use super::settings::Settings;
use crate::exit::usage;
use crate::manifest::{self, Encoding, Manifest};

/// How to read the job's manifest.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ManifestArgs {
    /// Force the manifest's text encoding instead of detecting it (utf-8, gbk, gb18030,
    /// utf-16le, utf-16be)
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<Encoding>,
    /// The sheet of an .xlsx to read [default: the job file's `sheet`, else the first sheet
    /// with a header row]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// A column the sheet may carry that wxprov must not read; repeatable, added to the job
    /// file's `ignore_columns`
    #[arg(long = "ignore-column", value_name = "NAME")]
    pub ignore_columns: Vec<String>,
    /// Only the first N rows of the manifest
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
}

/// Opens the job's manifest and reads its header, logging what was read. Every problem is a
/// usage error naming the file.
pub(super) fn open(settings: &Settings) -> anyhow::Result<Manifest> {
    if !settings.manifest.exists() {
        return Err(usage(format!("the manifest {} does not exist", settings.manifest.display())));
    }
    let manifest = manifest::open(&settings.manifest, &settings.read).map_err(|e| usage(e.to_string()))?;
    for line in manifest.describe() {
        tracing::info!("{line}");
    }
    Ok(manifest)
}
