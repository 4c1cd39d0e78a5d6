//! Reading a manifest's rows as text cells, from CSV or from an `.xlsx`'s first sheet.
//!
//! Everything after this module sees one shape: a [`RawRow`] of trimmed-later strings with
//! its file line. CSV is streamed (a million rows never sit in memory); an `.xlsx` sheet is
//! loaded whole by calamine, which is acceptable for what Excel can hold. Excel turns text
//! that looks like a number into a number (`1.23E+10`, `8.0`, lost leading zeros): whole
//! numbers come back as integer text, and every cell that was a number is flagged so that
//! validation can refuse it where a number can only be a mangled identifier.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};

use super::encoding::{self, Encoding};
use super::error::{ManifestError, RowError};

/// One data row as text.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// 1-based file line (the header is line 1).
    pub line: u64,
    pub cells: Vec<String>,
    /// Indices of cells that an `.xlsx` stored as numbers (always empty for CSV).
    pub numeric: Vec<usize>,
}

/// The kind of file a manifest is, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Delimited,
    Xlsx,
}

fn format_of(path: &Path) -> Result<Format, ManifestError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "tsv" | "txt" => Ok(Format::Delimited),
        "xlsx" | "xlsm" => Ok(Format::Xlsx),
        _ => Err(ManifestError::UnsupportedExtension {
            path: path.to_path_buf(),
            extension: ext,
        }),
    }
}

/// A manifest file opened: where its rows come from, and its header.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    path: PathBuf,
    kind: SourceKind,
    pub header: Vec<String>,
    pub encoding: Option<Encoding>,
}

#[derive(Debug, Clone)]
enum SourceKind {
    Csv { encoding: Encoding, delimiter: u8 },
    Xlsx { rows: Arc<Vec<RawRow>> },
}

impl Source {
    /// Opens `path` and reads its header row.
    pub fn open(path: &Path, forced: Option<Encoding>) -> Result<Source, ManifestError> {
        match format_of(path)? {
            Format::Delimited => Source::open_csv(path, forced),
            Format::Xlsx => Source::open_xlsx(path),
        }
    }

    fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError + '_ {
        move |source| ManifestError::Read { path: path.to_path_buf(), source }
    }

    fn open_csv(path: &Path, forced: Option<Encoding>) -> Result<Source, ManifestError> {
        let (reader, encoding) = encoding::open_text(path, forced).map_err(Source::read_err(path))?;
        let mut reader = BufReader::with_capacity(64 * 1024, reader);
        let delimiter = sniff_delimiter(reader.fill_buf().map_err(Source::read_err(path))?);
        let mut csv = csv_reader(reader, delimiter);
        let mut record = csv::ByteRecord::new();
        let header = loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => return Err(ManifestError::Empty { path: path.to_path_buf() }),
                Ok(true) if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => continue,
                Ok(true) => break record_to_strings(&record).map_err(|_| ManifestError::HeaderNotUtf8 {
                    path: path.to_path_buf(),
                    line: line_of(&record),
                })?,
                Err(e) => return Err(Source::read_err(path)(csv_io(e))),
            }
        };
        Ok(Source {
            path: path.to_path_buf(),
            kind: SourceKind::Csv { encoding, delimiter },
            header,
            encoding: Some(encoding),
        })
    }

    fn open_xlsx(path: &Path) -> Result<Source, ManifestError> {
        let xlsx_err = |message: String| ManifestError::Xlsx { path: path.to_path_buf(), message };
        let mut book: Xlsx<BufReader<std::fs::File>> =
            calamine::open_workbook(path).map_err(|e: calamine::XlsxError| xlsx_err(e.to_string()))?;
        let range = match book.worksheet_range_at(0) {
            Some(r) => r.map_err(|e| xlsx_err(e.to_string()))?,
            None => return Err(xlsx_err("the workbook has no sheet".into())),
        };
        let first_line = range.start().map(|(r, _)| u64::from(r) + 1).unwrap_or(1);
        let mut rows = range.rows().enumerate().map(|(i, cells)| {
            let mut numeric = Vec::new();
            let cells = cells
                .iter()
                .enumerate()
                .map(|(j, cell)| {
                    let (text, is_number) = xlsx_text(cell);
                    if is_number {
                        numeric.push(j);
                    }
                    text
                })
                .collect();
            RawRow { line: first_line + i as u64, cells, numeric }
        });
        let header = loop {
            match rows.next() {
                None => return Err(ManifestError::Empty { path: path.to_path_buf() }),
                Some(row) if row.cells.iter().all(|c| c.trim().is_empty()) => continue,
                Some(row) => break row.cells,
            }
        };
        let rows: Vec<RawRow> = rows.collect();
        Ok(Source {
            path: path.to_path_buf(),
            kind: SourceKind::Xlsx { rows: Arc::new(rows) },
            header,
            encoding: None,
        })
    }

    /// The data rows, from the start (each call reads the file again), blank rows skipped.
    pub fn rows(&self) -> Result<RawRows, ManifestError> {
        let expected = self.header.len();
        let inner = match &self.kind {
            SourceKind::Csv { encoding, delimiter } => {
                let (reader, _) = encoding::open_text(&self.path, Some(*encoding))
                    .map_err(Source::read_err(&self.path))?;
                let mut csv = csv_reader(BufReader::with_capacity(64 * 1024, reader), *delimiter);
                // Skip up to and including the header record.
                let mut record = csv::ByteRecord::new();
                loop {
                    match csv.read_byte_record(&mut record) {
                        Ok(true) if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => {}
                        Ok(_) => break,
                        Err(e) => return Err(Source::read_err(&self.path)(csv_io(e))),
                    }
                }
                Inner::Csv { csv, record, failed: false }
            }
            SourceKind::Xlsx { rows } => Inner::Xlsx { rows: Arc::clone(rows), next: 0 },
        };
        Ok(RawRows { inner, expected })
    }
}

fn csv_reader<R: Read>(reader: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader)
}

/// Tab when the first line has more tabs than commas (Excel's "Unicode text"), else comma.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let tabs = line.iter().filter(|b| **b == b'\t').count();
    let commas = line.iter().filter(|b| **b == b',').count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

fn line_of(record: &csv::ByteRecord) -> u64 {
    record.position().map(|p| p.line()).unwrap_or(0)
}

fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// The record's fields as strings, or the index of the first field that is not UTF-8.
fn record_to_strings(record: &csv::ByteRecord) -> Result<Vec<String>, usize> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| std::str::from_utf8(f).map(str::to_string).map_err(|_| i))
        .collect()
}

/// An `.xlsx` cell as text, and whether it was a number.
fn xlsx_text(cell: &Data) -> (String, bool) {
    match cell {
        Data::String(s) => (s.clone(), false),
        Data::Int(i) => (i.to_string(), true),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (format!("{}", *f as i64), true),
        Data::Float(f) => (format!("{f}"), true),
        Data::Bool(b) => ((if *b { "1" } else { "0" }).to_string(), false),
        Data::Empty => (String::new(), false),
        other => (other.to_string(), false),
    }
}

/// An iterator over a manifest's data rows. Blank rows are skipped.
pub struct RawRows {
    inner: Inner,
    expected: usize,
}

enum Inner {
    Csv {
        csv: csv::Reader<BufReader<Box<dyn Read>>>,
        record: csv::ByteRecord,
        failed: bool,
    },
    Xlsx {
        rows: Arc<Vec<RawRow>>,
        next: usize,
    },
}

impl Iterator for RawRows {
    type Item = Result<RawRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let expected = self.expected;
        match &mut self.inner {
            Inner::Csv { csv, record, failed } => loop {
                if *failed {
                    return None;
                }
                match csv.read_byte_record(record) {
                    Ok(false) => return None,
                    Err(e) => {
                        *failed = true;
                        return Some(Err(RowError::Read(csv_io(e))));
                    }
                    Ok(true) => {
                        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                            continue;
                        }
                        let line = line_of(record);
                        if record.len() != expected {
                            return Some(Err(RowError::Ragged { line, found: record.len(), expected }));
                        }
                        return Some(match record_to_strings(record) {
                            Ok(cells) => Ok(RawRow { line, cells, numeric: Vec::new() }),
                            Err(field) => Err(RowError::InvalidUtf8 { line, field }),
                        });
                    }
                }
            },
            Inner::Xlsx { rows, next } => loop {
                let row = rows.get(*next)?;
                *next += 1;
                if row.cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let mut row = row.clone();
                row.cells.resize(expected.max(row.cells.len()), String::new());
                return Some(Ok(row));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_become_integer_text() {
        assert_eq!(xlsx_text(&Data::Float(8.0)), ("8".to_string(), true));
        assert_eq!(xlsx_text(&Data::Float(12300000000.0)), ("12300000000".to_string(), true));
        assert_eq!(xlsx_text(&Data::Float(0.5)), ("0.5".to_string(), true));
        assert_eq!(xlsx_text(&Data::String("007".into())), ("007".to_string(), false));
    }

    #[test]
    fn sniffs_tabs() {
        assert_eq!(sniff_delimiter(b"appid\tnickname\nwx,1\t2"), b'\t');
        assert_eq!(sniff_delimiter(b"appid,nickname\n"), b',');
    }
}
