//! What can be wrong with a manifest: the whole file ([`ManifestError`], a usage error that
//! stops the run before any call) or one row ([`Problem`], reported with its line and column
//! while the other rows go on).

use std::fmt;
use std::path::PathBuf;

use super::columns::{Column, HeaderError};

/// A manifest that cannot be used at all. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "{path}: a manifest must be .csv, .tsv or .txt (delimited text) or .xlsx, not \"{extension}\" / 清单文件只支持 csv、tsv、txt、xlsx"
    )]
    UnsupportedExtension { path: PathBuf, extension: String },
    #[error("cannot read manifest {path}: {source} / 无法读取清单文件")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "manifest {path} looks like UTF-16 without a byte-order mark, but its byte order is unclear; use --encoding utf-16le (what Excel's \"Unicode text\" is) or --encoding utf-16be / 清单文件像是没有 BOM 的 UTF-16 编码，无法判断字节序；请使用 --encoding utf-16le"
    )]
    Utf16Unclear { path: PathBuf },
    #[error(
        "manifest {path}, line {line}: column {column} has no header but holds \"{text}\"; name the column (and list it in ignore_columns if wxprov must not read it) or clear it / 第 {line} 行第 {column} 列没有表头却有内容“{text}”：请给该列起名（不需要读取的写进 ignore_columns）或清空"
    )]
    UnnamedColumn { path: PathBuf, line: u64, column: String, text: String },
    #[error("cannot read the spreadsheet {path}: {message} / 无法读取 Excel 文件")]
    Xlsx { path: PathBuf, message: String },
    #[error("manifest {path} is empty: it has no header row / 清单文件为空，没有表头")]
    Empty { path: PathBuf },
    #[error(
        "manifest {path}, line {line}: a quote opened here is never closed, so the rest of the file was read into one cell; close the quote or remove it / 第 {line} 行的引号没有闭合，后面的内容都被读进了一个单元格；请补上或删去引号"
    )]
    HeaderQuote { path: PathBuf, line: u64 },
    #[error(
        "manifest {path}, line {line}: the header is not valid UTF-8; try --encoding gbk / 表头不是有效的 UTF-8 编码"
    )]
    HeaderNotUtf8 { path: PathBuf, line: u64 },
    #[error("manifest {path}, {at} (the header): {source}")]
    Header { path: PathBuf, at: String, source: HeaderError },
    #[error(
        "manifest {path}: there is no sheet \"{sheet}\"; the workbook has {sheets} / Excel 文件中没有名为“{sheet}”的工作表"
    )]
    NoSuchSheet { path: PathBuf, sheet: String, sheets: String },
    #[error(
        "manifest {path}: no sheet has a header row (a row naming {appid} or {official} within its first {max} rows): {sheets}; name the sheet with --sheet or `sheet =` in the job file / 没有任何工作表有表头行（含“小程序appid”或“公众号appid”的行）",
        appid = Column::Appid.accepted_names(),
        official = Column::OfficialAppid.accepted_names(),
        max = super::reader::MAX_ROWS_ABOVE_HEADER + 1
    )]
    NoHeaderSheet { path: PathBuf, sheets: String },
}

/// Why one row cannot be read at all (before any column is looked at).
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("line {line} has {found} fields but the header has {expected}")]
    Ragged { line: u64, found: usize, expected: usize },
    #[error("line {line}, field {field}: not valid UTF-8")]
    InvalidUtf8 { line: u64, field: usize },
    /// The row's record ran to the end of the file inside a quote.
    #[error("line {line}: a quote opened on line {} is never closed", quote.line)]
    UnterminatedQuote { line: u64, quote: super::reader::OpenQuote },
    /// Reading the file failed; no further rows follow.
    #[error("reading the manifest failed: {0}")]
    Read(std::io::Error),
}

/// One thing wrong with one row: where, and why in English and in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line in the file (the header is line 1; for a CSV, the line where the
    /// record starts).
    pub line: u64,
    /// The column's English name (`Column::name`), or "" for the row as a whole.
    pub column: String,
    pub en: String,
    pub zh: String,
}

impl Problem {
    pub fn new(line: u64, column: Option<Column>, en: impl Into<String>, zh: impl Into<String>) -> Problem {
        Problem { line, column: column.map(|c| c.name().to_string()).unwrap_or_default(), en: en.into(), zh: zh.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {} / {}", self.line, self.en, self.zh)
        } else {
            write!(f, "line {}, column {}: {} / {}", self.line, self.column, self.en, self.zh)
        }
    }
}
