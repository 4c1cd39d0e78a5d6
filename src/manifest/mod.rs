//! Manifests: the spreadsheets ops staff fill, read and validated into rows and steps (DESIGN §3).
//!
//! The pieces, in the order a manifest goes through them:
//! - [`encoding`]: which text encoding a CSV is in (detected or forced), decoded streaming.
//! - [`reader`]: rows as text cells, from CSV (streamed) or one sheet of an `.xlsx`, below
//!   any title rows.
//! - [`columns`]: the header mapped onto the known columns, English names or Chinese aliases.
//! - [`categories`]: the `categories` cell grammar and WeChat's category tree.
//! - [`validate`]: every rule checked before any API call, problems with line and column.
//! - [`row`] and [`step`]: the typed row the runner works from, and its steps with their input
//!   hashes.
//!
//! The public API:
//!
//! ```text
//! open(path, &ReadOptions { encoding, sheet, ignore_columns }) -> Result<Manifest, ManifestError>
//!     reads the header; a ManifestError is a usage error (exit code 2) naming the file.
//! Manifest::{path, encoding, columns, skipped, header_line, rows}
//! Manifest::validate_each(tree, max_rows, |Validated| ...) -> Result<Counts, ManifestError>
//!     streams: validates a million rows without keeping them (two passes over the file: the
//!     first hashes identities to find duplicates, about 4 bytes a row; a third over the rows
//!     whose hashes repeat only when some do).
//! Manifest::index(max_rows, wanted) -> Result<Index, ManifestError>, then
//! Manifest::validate_indexed(tree, index, max_rows, |Validated| ...)   (the same, in two
//!     halves: the runner reads the ledger between them, and streams the verdicts)
//! Manifest::load(tree, max_rows) -> Result<Loaded, ManifestError>
//! Manifest::{validate_each_with, load_with}(Tree, ...)   (the same, the tree possibly unreadable)
//! load(path, &ReadOptions, tree, max_rows) -> Result<Loaded, ManifestError>   (open + load)
//! ```
//!
//! `tree` is the category tree the caller fetched (`getallcategories`); without it, category
//! id pairs are taken as written and category names are refused. The `_with` forms take a
//! [`Tree`] instead, which can also say the tree was asked for but unreadable: names are then
//! kept unresolved for the `categories` step to wait on (not the cell's fault).

pub mod categories;
pub mod columns;
pub mod encoding;
pub mod error;
pub mod reader;
pub mod row;
pub mod step;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use categories::{CategoryTree, Tree};
pub use columns::{Column, Columns};
pub use encoding::Encoding;
pub use error::{ManifestError, Problem, RowError};
pub use reader::{RawRow, RawRows};
pub use row::{
    AvatarChange, CategoryAdd, CategoryChange, CertificateFile, Crop, ImageFile, NicknameChange, RebindChange, Row,
};
pub use step::{Step, StepKind};
pub use validate::{cell_problem, Reason, Rejected};

use crate::golive::{GoLiveDefaults, Resolver};
use reader::Source;
use validate::{Duplicates, IdentityHashes, Validator};

/// How to read a manifest: the job file's `sheet` and `ignore_columns` and the `--encoding`,
/// `--sheet` and `--ignore-column` options.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Overrides encoding detection for delimited text.
    pub encoding: Option<Encoding>,
    /// The `.xlsx` sheet to read.
    pub sheet: Option<String>,
    /// Header names of columns to skip without complaint.
    pub ignore_columns: Vec<String>,
    /// The job's `[golive]` defaults the go-live cells fall back to (DESIGN §9).
    pub golive: Arc<GoLiveDefaults>,
}

impl ReadOptions {
    /// Detected encoding, default sheet, no column ignored, except that `encoding` is forced.
    pub fn encoding(encoding: Option<Encoding>) -> ReadOptions {
        ReadOptions { encoding, ..ReadOptions::default() }
    }
}

/// A manifest whose header has been read.
#[derive(Debug, Clone)]
pub struct Manifest {
    path: PathBuf,
    source: Source,
    columns: Columns,
    golive: Arc<GoLiveDefaults>,
}

/// Opens the manifest at `path` (`.csv`/`.tsv`/`.txt` or `.xlsx`) and reads its header.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Manifest, ManifestError> {
    let source = Source::open(path, options.encoding, options.sheet.as_deref())?;
    let columns = Columns::from_header(&source.header, &options.ignore_columns).map_err(|e| ManifestError::Header {
        path: path.to_path_buf(),
        at: source.header_at(),
        source: e,
    })?;
    Ok(Manifest { path: path.to_path_buf(), source, columns, golive: Arc::clone(&options.golive) })
}

/// Opens, reads and validates the manifest at `path`, keeping every row.
pub fn load(
    path: &Path,
    options: &ReadOptions,
    tree: Option<&CategoryTree>,
    max_rows: Option<usize>,
) -> Result<Loaded, ManifestError> {
    open(path, options)?.load(tree, max_rows)
}

/// One row's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Validated {
    Valid(Box<Row>),
    Rejected(Rejected),
}

/// How many rows [`Manifest::validate_each`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub valid: usize,
    pub rejected: usize,
}

/// What the passes before validation learned of a sheet ([`Manifest::index`]).
#[derive(Debug, Default)]
pub struct Index {
    duplicates: Duplicates,
    /// The identities asked about that some row has.
    pub present: HashSet<String>,
    /// How many rows there are (the first `max_rows`), valid or not.
    pub rows: usize,
}

/// A whole manifest, read and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Valid rows, in file order.
    pub rows: Vec<Row>,
    /// Rejected rows, in file order, each with its problems.
    pub rejected: Vec<Rejected>,
    /// The header cells skipped on purpose (`ignore_columns`, wxprov's own `error`).
    pub skipped: Vec<String>,
    /// The encoding used (`None` for `.xlsx`): the caller logs it.
    pub encoding: Option<Encoding>,
    /// The header as the file spells it (for `failed.csv`).
    pub header: Vec<String>,
}

impl Loaded {
    /// Every problem, in file order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.rejected.iter().flat_map(|r| r.problems.iter())
    }
}

impl Manifest {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The encoding used; `None` for `.xlsx`.
    pub fn encoding(&self) -> Option<Encoding> {
        self.source.encoding
    }

    /// The header cells skipped on purpose, as "column 4 (D) \"备注\"".
    pub fn skipped(&self) -> Vec<String> {
        self.columns.skipped()
    }

    /// What was read, for the log: the encoding (or the sheet), the header's line, the
    /// columns skipped.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (sheet, why) in &self.source.passed_sheets {
            lines.push(format!("passing over sheet \"{sheet}\" of {} ({why})", self.path.display()));
        }
        lines.push(match (self.encoding(), &self.source.sheet) {
            (Some(enc), _) => {
                format!("reading {} as {enc}, header on line {}", self.path.display(), self.header_line())
            }
            (None, sheet) => format!(
                "reading sheet \"{}\" of {}, header on line {}",
                sheet.as_deref().unwrap_or_default(),
                self.path.display(),
                self.header_line()
            ),
        });
        if !self.source.above_header.is_empty() {
            let rows: Vec<String> =
                self.source.above_header.iter().map(|(line, text)| format!("line {line} \"{text}\"")).collect();
            lines.push(format!("skipped the rows above the header (a title or notes): {}", rows.join(", ")));
        }
        let skipped = self.skipped();
        if !skipped.is_empty() {
            lines.push(format!("not reading {} (ignore_columns, or wxprov's own error column)", skipped.join(", ")));
        }
        lines
    }

    /// The `.xlsx` sheet read (`None` for delimited text).
    pub fn sheet(&self) -> Option<&str> {
        self.source.sheet.as_deref()
    }

    /// The line (the sheet's row) of the header.
    pub fn header_line(&self) -> u64 {
        self.source.header_line
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The data rows as text, unvalidated, from the start of the file.
    pub fn rows(&self) -> Result<RawRows, ManifestError> {
        self.source.rows()
    }

    fn read_err(&self, source: std::io::Error) -> ManifestError {
        ManifestError::Read { path: self.path.clone(), source }
    }

    /// Validates every row (the first `max_rows` when given) and hands each verdict to `f`
    /// in file order, keeping none. Reads the file twice: identities first, for duplicates.
    pub fn validate_each(
        &self,
        tree: Option<&CategoryTree>,
        max_rows: Option<usize>,
        f: impl FnMut(Validated),
    ) -> Result<Counts, ManifestError> {
        self.validate_each_with(tree.into(), max_rows, f)
    }

    /// [`Manifest::validate_each`] with what is known of the category tree.
    pub fn validate_each_with(
        &self,
        tree: Tree<'_>,
        max_rows: Option<usize>,
        mut f: impl FnMut(Validated),
    ) -> Result<Counts, ManifestError> {
        let index = self.index(max_rows, &HashSet::new())?;
        self.validate_indexed(tree, index, max_rows, |v| {
            f(v);
            ControlFlow::Continue(())
        })
    }

    /// The passes before validation (the first `max_rows` rows): the duplicate identities,
    /// found from a hash per row and the repeated ones compared exactly, and which of the
    /// identities in `wanted` some row has. Memory: about 4 bytes a row, let go before it returns.
    /// A column without a header but with data is an error here, before any row is taken.
    pub fn index(&self, max_rows: Option<usize>, wanted: &HashSet<String>) -> Result<Index, ManifestError> {
        let limit = max_rows.unwrap_or(usize::MAX);
        let mut hashes = IdentityHashes::default();
        let mut present = HashSet::new();
        let mut rows = 0;
        for row in self.rows()?.take(limit) {
            rows += 1;
            match row {
                Ok(raw) => {
                    if let Some((i, text)) = self.columns.unnamed_data(&raw.cells) {
                        return Err(ManifestError::UnnamedColumn {
                            path: self.path.clone(),
                            line: raw.line,
                            column: columns::column_label(i),
                            text: text.chars().take(40).collect(),
                        });
                    }
                    hashes.note(&self.columns, &raw);
                    if !wanted.is_empty() {
                        if let Some(identity) = validate::raw_identity(&self.columns, &raw.cells) {
                            if wanted.contains(&identity) {
                                present.insert(identity);
                            }
                        }
                    }
                }
                Err(RowError::Read(e)) => return Err(self.read_err(e)),
                Err(_) => {}
            }
        }
        let candidates = hashes.repeated();
        let mut duplicates = Duplicates::default();
        if !candidates.is_empty() {
            for raw in self.rows()?.take(limit).flatten() {
                duplicates.note(&candidates, &self.columns, &raw);
            }
        }
        Ok(Index { duplicates: duplicates.settle(), present, rows })
    }

    /// Validates the rows (the first `max_rows`, as [`Manifest::index`] was given) and hands
    /// each verdict to `f` in file order, keeping none; `f` breaking stops the reading.
    pub fn validate_indexed(
        &self,
        tree: Tree<'_>,
        index: Index,
        max_rows: Option<usize>,
        mut f: impl FnMut(Validated) -> ControlFlow<()>,
    ) -> Result<Counts, ManifestError> {
        let limit = max_rows.unwrap_or(usize::MAX);
        let base = self.path.parent().unwrap_or(Path::new("."));
        let golive = Resolver::new(Arc::clone(&self.golive));
        let mut validator = Validator::new(self.columns.clone(), base, tree, index.duplicates, golive);
        let mut counts = Counts::default();
        for row in self.rows()?.take(limit) {
            let verdict = match row {
                Ok(raw) => validator.validate(raw),
                Err(RowError::Read(e)) => return Err(self.read_err(e)),
                Err(e) => Err(validator.unreadable(&e)),
            };
            let flow = match verdict {
                Ok(row) => {
                    counts.valid += 1;
                    f(Validated::Valid(Box::new(row)))
                }
                Err(rejected) => {
                    counts.rejected += 1;
                    f(Validated::Rejected(rejected))
                }
            };
            if flow.is_break() {
                break;
            }
        }
        Ok(counts)
    }

    /// The header as the file spells it (for `failed.csv`).
    pub fn header(&self) -> &[String] {
        &self.source.header
    }

    /// Validates every row (the first `max_rows` when given) and keeps them.
    pub fn load(&self, tree: Option<&CategoryTree>, max_rows: Option<usize>) -> Result<Loaded, ManifestError> {
        self.load_with(tree.into(), max_rows)
    }

    /// [`Manifest::load`] with what is known of the category tree.
    pub fn load_with(&self, tree: Tree<'_>, max_rows: Option<usize>) -> Result<Loaded, ManifestError> {
        let mut rows = Vec::new();
        let mut rejected = Vec::new();
        self.validate_each_with(tree, max_rows, |v| match v {
            Validated::Valid(row) => rows.push(*row),
            Validated::Rejected(r) => rejected.push(r),
        })?;
        Ok(Loaded {
            rows,
            rejected,
            skipped: self.columns.skipped(),
            encoding: self.encoding(),
            header: self.source.header.clone(),
        })
    }
}
