//! Reading a manifest's rows as text cells, from CSV or from one sheet of an `.xlsx`.
//!
//! The sheet is the one named (`--sheet`, `sheet =`) or else the first with a header row; the
//! header row is the first that names an identity column, and the rows above it (a title,
//! notes) are skipped and kept for the log. Everything after this module sees one shape: a
//! [`RawRow`] of trimmed-later strings with its file line (the sheet's own row number). A CSV
//! quote that is never closed is noted on its record, with the lines it swallowed. CSV is streamed (a million rows never sit in memory); an `.xlsx` sheet is
//! loaded whole by calamine, which is acceptable for what Excel can hold. Excel turns text
//! that looks like a number into a number (`1.23E+10`, `8.0`, lost leading zeros): whole
//! numbers come back as integer text, and every cell that was a number is flagged so that
//! validation can refuse it where a number can only be a mangled identifier.

use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use calamine::{Data, Reader, Xlsx};

use super::columns::Columns;
use super::encoding::{self, Encoding, TextError};
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
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "csv" | "tsv" | "txt" => Ok(Format::Delimited),
        "xlsx" | "xlsm" => Ok(Format::Xlsx),
        _ => Err(ManifestError::UnsupportedExtension { path: path.to_path_buf(), extension: ext }),
    }
}

/// At most this many non-blank rows above the header (a title, notes) are looked through
/// for the header row.
pub const MAX_ROWS_ABOVE_HEADER: usize = 20;

/// A manifest file opened: where its rows come from, and its header.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    path: PathBuf,
    kind: SourceKind,
    pub header: Vec<String>,
    /// The header's line (the sheet's row number).
    pub header_line: u64,
    pub encoding: Option<Encoding>,
    /// The `.xlsx` sheet read.
    pub sheet: Option<String>,
    /// Sheets passed over before it, with why ("empty", "no header row").
    pub passed_sheets: Vec<(String, &'static str)>,
    /// The non-blank rows above the header (a title, notes): line and text.
    pub above_header: Vec<(u64, String)>,
}

#[derive(Debug, Clone)]
enum SourceKind {
    /// `records` is how many CSV records, blank ones included, come before the first data row.
    Csv {
        encoding: Encoding,
        delimiter: u8,
        records: usize,
    },
    Xlsx {
        rows: Arc<Vec<RawRow>>,
    },
}

/// Where the header row is among a file's first rows.
struct HeaderRow {
    /// Its position among the rows looked at.
    index: usize,
    /// The non-blank rows above it.
    above: Vec<(u64, String)>,
}

/// The first row that names an identity column, within [`MAX_ROWS_ABOVE_HEADER`] non-blank
/// rows; otherwise the first non-blank row (whose header errors then say what is missing).
/// `None` when every row is blank. Rows are (line, cells).
fn find_header<'a>(rows: impl IntoIterator<Item = (u64, &'a [String])>) -> Option<HeaderRow> {
    let mut above = Vec::new();
    let mut first = None;
    for (index, (line, cells)) in rows.into_iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if Columns::is_header(cells) {
            return Some(HeaderRow { index, above });
        }
        first.get_or_insert(index);
        if above.len() == MAX_ROWS_ABOVE_HEADER {
            break;
        }
        above.push((line, preview(cells)));
    }
    first.map(|index| HeaderRow { index, above: Vec::new() })
}

/// A row's text for a log line: its non-blank cells, shortened.
fn preview(cells: &[String]) -> String {
    let text = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" ");
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

impl Source {
    /// Opens `path` and reads its header row: `forced` overrides encoding detection for
    /// delimited text, `sheet` picks an `.xlsx` sheet.
    pub(crate) fn open(path: &Path, forced: Option<Encoding>, sheet: Option<&str>) -> Result<Source, ManifestError> {
        match format_of(path)? {
            Format::Delimited => Source::open_csv(path, forced),
            Format::Xlsx => Source::open_xlsx(path, sheet),
        }
    }

    fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError + '_ {
        move |source| ManifestError::Read { path: path.to_path_buf(), source }
    }

    fn text_err(path: &Path) -> impl FnOnce(TextError) -> ManifestError + '_ {
        move |e| match e {
            TextError::Io(source) => ManifestError::Read { path: path.to_path_buf(), source },
            TextError::Utf16Unclear => ManifestError::Utf16Unclear { path: path.to_path_buf() },
        }
    }

    /// Where the header is, for messages: "line 3", or "sheet \"小程序\", line 3".
    pub(crate) fn header_at(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("sheet \"{sheet}\", line {}", self.header_line),
            None => format!("line {}", self.header_line),
        }
    }

    fn open_csv(path: &Path, forced: Option<Encoding>) -> Result<Source, ManifestError> {
        let (reader, encoding) = encoding::open_text(path, forced).map_err(Source::text_err(path))?;
        let (head, reader) = read_head(reader).map_err(Source::read_err(path))?;
        let delimiter = sniff_delimiter(&head);
        let mut lines = LineTracker::new(std::io::Cursor::new(head).chain(reader), delimiter);
        let starts = lines.starts();
        let mut csv = csv_reader(&mut lines, delimiter);
        let mut record = csv::ByteRecord::new();
        // The first records, as text, until the header is among them.
        let mut first: Vec<(u64, Vec<String>)> = Vec::new();
        let mut non_blank = 0;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let start = starts.pop();
                    let line = start.line;
                    if let Some(quote) = start.open_quote {
                        return Err(ManifestError::HeaderQuote { path: path.to_path_buf(), line: quote.line });
                    }
                    if is_blank(&record) {
                        first.push((line, Vec::new()));
                        continue;
                    }
                    let cells = record_to_strings(&record)
                        .map_err(|_| ManifestError::HeaderNotUtf8 { path: path.to_path_buf(), line })?;
                    let header = Columns::is_header(&cells);
                    first.push((line, cells));
                    non_blank += 1;
                    if header || non_blank > MAX_ROWS_ABOVE_HEADER {
                        break;
                    }
                }
                Err(e) => return Err(Source::read_err(path)(csv_io(e))),
            }
        }
        let found = find_header(first.iter().map(|(line, cells)| (*line, cells.as_slice())))
            .ok_or_else(|| ManifestError::Empty { path: path.to_path_buf() })?;
        let (header_line, header) = first.swap_remove(found.index);
        Ok(Source {
            path: path.to_path_buf(),
            kind: SourceKind::Csv { encoding, delimiter, records: found.index + 1 },
            header,
            header_line,
            encoding: Some(encoding),
            sheet: None,
            passed_sheets: Vec::new(),
            above_header: found.above,
        })
    }

    fn open_xlsx(path: &Path, wanted: Option<&str>) -> Result<Source, ManifestError> {
        let xlsx_err = |message: String| ManifestError::Xlsx { path: path.to_path_buf(), message };
        let mut book: Xlsx<BufReader<std::fs::File>> =
            calamine::open_workbook(path).map_err(|e: calamine::XlsxError| xlsx_err(e.to_string()))?;
        let names: Vec<String> = book.sheet_names().to_vec();
        if names.is_empty() {
            return Err(xlsx_err("the workbook has no sheet".into()));
        }
        let candidates: Vec<String> = match wanted {
            None => names.clone(),
            Some(w) => {
                match names.iter().find(|n| n.as_str() == w).or_else(|| names.iter().find(|n| n.trim() == w.trim())) {
                    Some(name) => vec![name.clone()],
                    None => {
                        return Err(ManifestError::NoSuchSheet {
                            path: path.to_path_buf(),
                            sheet: w.to_string(),
                            sheets: names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
                        })
                    }
                }
            }
        };
        let mut passed = Vec::new();
        for name in candidates {
            let range = book.worksheet_range(&name).map_err(|e| xlsx_err(format!("sheet \"{name}\": {e}")))?;
            let rows = sheet_rows(&range);
            let found = find_header(rows.iter().map(|r| (r.line, r.cells.as_slice())));
            let usable = found.as_ref().is_some_and(|f| Columns::is_header(&rows[f.index].cells));
            match found {
                Some(found) if usable || wanted.is_some() => {
                    let mut rows = rows;
                    let data = rows.split_off(found.index + 1);
                    let header = rows.swap_remove(found.index);
                    return Ok(Source {
                        path: path.to_path_buf(),
                        kind: SourceKind::Xlsx { rows: Arc::new(data) },
                        header: header.cells,
                        header_line: header.line,
                        encoding: None,
                        sheet: Some(name),
                        passed_sheets: passed,
                        above_header: found.above,
                    });
                }
                None if wanted.is_some() => {
                    return Err(ManifestError::Empty { path: path.to_path_buf() });
                }
                Some(_) => passed.push((name, "no header row")),
                None => passed.push((name, "empty")),
            }
        }
        Err(ManifestError::NoHeaderSheet {
            path: path.to_path_buf(),
            sheets: passed.iter().map(|(n, why)| format!("\"{n}\" ({why})")).collect::<Vec<_>>().join(", "),
        })
    }

    /// The data rows, from the start (each call reads the file again), blank rows skipped.
    pub(crate) fn rows(&self) -> Result<RawRows, ManifestError> {
        let expected = self.header.len();
        let inner = match &self.kind {
            SourceKind::Csv { encoding, delimiter, records } => {
                let (reader, _) =
                    encoding::open_text(&self.path, Some(*encoding)).map_err(Source::text_err(&self.path))?;
                let lines = LineTracker::new(reader, *delimiter);
                let starts = lines.starts();
                let mut csv = csv_reader(lines, *delimiter);
                // Skip up to and including the header record.
                let mut record = csv::ByteRecord::new();
                for _ in 0..*records {
                    match csv.read_byte_record(&mut record) {
                        Ok(true) => {
                            starts.pop();
                        }
                        Ok(false) => break,
                        Err(e) => return Err(Source::read_err(&self.path)(csv_io(e))),
                    }
                }
                Inner::Csv { csv: Box::new(csv), record, starts, failed: false }
            }
            SourceKind::Xlsx { rows } => Inner::Xlsx { rows: Arc::clone(rows), next: 0 },
        };
        Ok(RawRows { inner, expected })
    }
}

/// A sheet's rows as text, numbered as the sheet numbers them and with the cells in their
/// real columns (calamine's range starts at the first used cell).
fn sheet_rows(range: &calamine::Range<Data>) -> Vec<RawRow> {
    let Some((first_row, first_col)) = range.start() else {
        return Vec::new();
    };
    let offset = first_col as usize;
    range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut numeric = Vec::new();
            let mut text = vec![String::new(); offset];
            for (j, cell) in cells.iter().enumerate() {
                let (value, is_number) = xlsx_text(cell);
                if is_number {
                    numeric.push(offset + j);
                }
                text.push(value);
            }
            RawRow { line: u64::from(first_row) + 1 + i as u64, cells: text, numeric }
        })
        .collect()
}

fn csv_reader<R: Read>(reader: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .buffer_capacity(64 * 1024)
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader)
}

/// Tab when the first line that has either has more tabs than commas (Excel's "Unicode
/// text"), else comma. A title line above the header may have neither.
fn sniff_delimiter(head: &[u8]) -> u8 {
    for line in head.split(|b| *b == b'\n') {
        let tabs = line.iter().filter(|b| **b == b'\t').count();
        let commas = line.iter().filter(|b| **b == b',').count();
        if tabs > commas {
            return b'\t';
        }
        if commas > 0 {
            return b',';
        }
    }
    b','
}

fn is_blank(record: &csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// Reads the first 64 KiB (or the whole of a smaller file): enough to sniff the delimiter
/// past a title line. Returns what was read and the rest of the stream.
fn read_head<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while head.len() < 64 * 1024 {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok((head, reader))
}

/// A quote that opened a cell and was never closed: the cell ran to the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenQuote {
    /// The line where the quote is.
    pub line: u64,
    /// The 0-based field it opened.
    pub field: usize,
    /// The file's last line, the last one swallowed.
    pub last_line: u64,
}

/// Where a record starts, and whether a quote in it was never closed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecordStart {
    pub line: u64,
    pub open_quote: Option<OpenQuote>,
}

/// The records a [`LineTracker`] has seen and the CSV reader has not yet yielded, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordStarts(Arc<Mutex<VecDeque<RecordStart>>>);

impl RecordStarts {
    fn push(&self, line: u64) {
        if let Ok(mut q) = self.0.lock() {
            q.push_back(RecordStart { line, open_quote: None });
        }
    }

    /// The last record seen ran to the end of the file inside a quote.
    fn unterminated(&self, quote: OpenQuote) {
        if let Some(last) = self.0.lock().ok().as_mut().and_then(|q| q.back_mut()) {
            last.open_quote = Some(quote);
        }
    }

    /// The next record the CSV reader yields (line 0 if unknown).
    fn pop(&self) -> RecordStart {
        self.0.lock().ok().and_then(|mut q| q.pop_front()).unwrap_or_default()
    }
}

/// Where the lexer is in the CSV grammar (the same rules csv-core follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    StartRecord,
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Passes CSV text through, turning CRLF and lone CR into LF, and notes the line on which
/// each record starts.
///
/// The csv crate's own positions are taken before it skips blank lines and before the LF of
/// a CRLF, so they drift; ops staff need the line Excel shows. This lexer follows the same
/// quoting rules (a quote opens a field only at its start; `""` inside quotes is a quote), so
/// its records are the csv reader's records, in the same order.
pub(crate) struct LineTracker<R> {
    inner: R,
    delimiter: u8,
    state: Lex,
    line: u64,
    last_cr: bool,
    /// The field the lexer is in (0-based), and where the quote that opened it is.
    field: usize,
    quote: (u64, usize),
    last_newline: bool,
    finished: bool,
    starts: RecordStarts,
}

impl<R: Read> LineTracker<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        LineTracker {
            inner,
            delimiter,
            state: Lex::StartRecord,
            line: 1,
            last_cr: false,
            field: 0,
            quote: (0, 0),
            last_newline: false,
            finished: false,
            starts: RecordStarts::default(),
        }
    }

    fn starts(&self) -> RecordStarts {
        self.starts.clone()
    }

    fn lex(&mut self, b: u8) {
        let d = self.delimiter;
        if self.state == Lex::StartRecord && b != b'\n' {
            self.starts.push(self.line);
            self.state = Lex::StartField;
            self.field = 0;
        }
        self.state = match (self.state, b) {
            (Lex::StartRecord, _) => Lex::StartRecord,
            (Lex::Quoted, b'"') => Lex::QuoteInQuoted,
            (Lex::Quoted, _) => Lex::Quoted,
            (Lex::QuoteInQuoted, b'"') => Lex::Quoted,
            (Lex::StartField, b'"') => {
                self.quote = (self.line, self.field);
                Lex::Quoted
            }
            (_, b'\n') => Lex::StartRecord,
            (_, x) if x == d => {
                self.field += 1;
                Lex::StartField
            }
            _ => Lex::Unquoted,
        };
        self.last_newline = b == b'\n';
        if b == b'\n' {
            self.line += 1;
        }
    }

    /// At the end of the input: a quote still open swallowed the rest of the file.
    fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) || self.state != Lex::Quoted {
            return;
        }
        let last_line = if self.last_newline { self.line - 1 } else { self.line };
        self.starts.unterminated(OpenQuote { line: self.quote.0, field: self.quote.1, last_line });
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.finish();
                return Ok(0);
            }
            let (mut out, mut i) = (0, 0);
            while i < n {
                let b = buf[i];
                let was_cr = std::mem::replace(&mut self.last_cr, b == b'\r');
                let b = match b {
                    b'\n' if was_cr => {
                        i += 1;
                        continue;
                    }
                    b'\r' => b'\n',
                    other => other,
                };
                self.lex(b);
                buf[out] = b;
                out += 1;
                i += 1;
                // Inside a field only its end (or a quote, in quotes) or a line's end moves
                // the lexer: the bytes before the next of those pass through as they are.
                let ordinary = match self.state {
                    Lex::Unquoted => memchr::memchr3(self.delimiter, b'\n', b'\r', &buf[i..n]).unwrap_or(n - i),
                    Lex::Quoted => memchr::memchr3(b'"', b'\n', b'\r', &buf[i..n]).unwrap_or(n - i),
                    _ => 0,
                };
                if ordinary > 0 {
                    buf.copy_within(i..i + ordinary, out);
                    (out, i) = (out + ordinary, i + ordinary);
                    (self.last_cr, self.last_newline) = (false, false);
                }
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// The record's fields as strings, or the index of the first field that is not UTF-8.
fn record_to_strings(record: &csv::ByteRecord) -> Result<Vec<String>, usize> {
    record.iter().enumerate().map(|(i, f)| std::str::from_utf8(f).map(str::to_string).map_err(|_| i)).collect()
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
        csv: Box<csv::Reader<LineTracker<Box<dyn Read + Send>>>>,
        record: csv::ByteRecord,
        starts: RecordStarts,
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
            Inner::Csv { csv, record, starts, failed } => loop {
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
                        let RecordStart { line, open_quote } = starts.pop();
                        if let Some(quote) = open_quote {
                            return Some(Err(RowError::UnterminatedQuote { line, quote }));
                        }
                        if is_blank(record) {
                            continue;
                        }
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
    fn record_lines_count_blank_lines_crlf_and_quoted_newlines() {
        let text = "a,b\r\n\r\nx,y\r\n\n\"m\r\nn\",z\n,\n\"q\"\"\n\",1\r2,3";
        let mut tracker = LineTracker::new(text.as_bytes(), b',');
        let starts = tracker.starts();
        let mut csv = csv_reader(&mut tracker, b',');
        let mut record = csv::ByteRecord::new();
        let mut seen = Vec::new();
        while csv.read_byte_record(&mut record).unwrap() {
            seen.push((starts.pop().line, String::from_utf8(record.get(0).unwrap().to_vec()).unwrap()));
        }
        let expected = [(1, "a"), (3, "x"), (5, "m\nn"), (7, ""), (8, "q\"\n"), (10, "2")];
        let expected: Vec<(u64, String)> = expected.iter().map(|(l, s)| (*l, s.to_string())).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn an_unterminated_quote_is_noted_on_its_record() {
        let text = "a,b\nx,\"y\n\"m\",n\nlast,\"open\r\nswallowed 1\nswallowed 2\n";
        let mut tracker = LineTracker::new(text.as_bytes(), b',');
        let starts = tracker.starts();
        let mut csv = csv_reader(&mut tracker, b',');
        let mut record = csv::ByteRecord::new();
        let mut seen = Vec::new();
        while csv.read_byte_record(&mut record).unwrap() {
            let start = starts.pop();
            seen.push((start.line, start.open_quote));
        }
        let open = OpenQuote { line: 4, field: 1, last_line: 6 };
        assert_eq!(seen, [(1, None), (2, None), (4, Some(open))]);
    }

    /// Reads `text` through a tracker with `delimiter`, the tracker's input giving at most
    /// `inner` bytes a read and its reader asking for at most `outer`: the bytes it passes
    /// on, and where each record starts (its line, and the quote it left open).
    fn tracked_with(
        text: &[u8],
        delimiter: u8,
        inner: usize,
        outer: usize,
    ) -> (Vec<u8>, Vec<(u64, Option<OpenQuote>)>) {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut tracker = LineTracker::new(Chunks(text, inner), delimiter);
        let starts = tracker.starts();
        let (mut out, mut buf) = (Vec::new(), vec![0; outer]);
        loop {
            match tracker.read(&mut buf).unwrap() {
                0 => break,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
        let records = std::iter::from_fn(|| Some(starts.pop()))
            .take_while(|s| s.line > 0)
            .map(|s| (s.line, s.open_quote))
            .collect();
        (out, records)
    }

    /// [`tracked_with`] a comma, reading `chunk` bytes at a time: the text and the lines.
    fn tracked(text: &str, chunk: usize) -> (String, Vec<u64>) {
        let (out, records) = tracked_with(text.as_bytes(), b',', chunk, 1 << 16);
        (String::from_utf8(out).unwrap(), records.into_iter().map(|(line, _)| line).collect())
    }

    proptest::proptest! {
        /// Reading a byte at a time never skips (each read holds only the byte lexed), so it
        /// is the lexer byte by byte: any other read sizes must give what it gives.
        #[test]
        fn any_read_sizes_give_what_a_byte_at_a_time_does(
            text in proptest::collection::vec(proptest::sample::select(b"ab,;\t\"\r\n ".to_vec()), 0..48),
            delimiter in proptest::sample::select(vec![b',', b'\t', b';']),
            inner in 2usize..16,
            outer in 1usize..16,
        ) {
            let byte_by_byte = tracked_with(&text, delimiter, 1, 1);
            proptest::prop_assert_eq!(tracked_with(&text, delimiter, inner, outer), byte_by_byte.clone());
            proptest::prop_assert_eq!(tracked_with(&text, delimiter, 1 << 16, 1 << 16), byte_by_byte);
        }
    }

    #[test]
    fn fields_pass_through_as_byte_by_byte() {
        // Lone CRs and CRLFs in and out of quotes, each followed by text: in short fields,
        // and in fields long enough to be skipped over and to straddle the reads.
        let field = "门店的功能介绍".repeat(40);
        let long = format!(
            "a,b\r\nwx1,\"{field}\rx{field}\nz{field}\r\ny\"\"{field}\"\rwx2,{field}\n\n\"{field}\",{field}\r\r\nlast,{field}"
        );
        for (text, lines) in [("\"ab\rxyz\nq\",1\nx\ry", &[1, 4, 5][..]), (&long, &[1, 2, 6, 8, 10])] {
            let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
            for chunk in [1, 7, 1000, 1 << 16] {
                assert_eq!(tracked(text, chunk), (normalized.clone(), lines.to_vec()), "reads of {chunk} bytes");
            }
        }
    }

    #[test]
    fn sniffs_tabs() {
        assert_eq!(sniff_delimiter(b"appid\tnickname\nwx,1\t2"), b'\t');
        assert_eq!(sniff_delimiter(b"appid,nickname\n"), b',');
    }
}
