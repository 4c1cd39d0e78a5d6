//! Records keyed by sheet line that arrive out of line order — rows finish concurrently — and
//! must come out in line order without a million rows held for it: `run`'s results.csv and
//! failed.csv, `plan`'s lines. A window of finished rows puts them back in order as they
//! come; a row that comes later than the window allows (one slow row while thousands of
//! others went by) is still written, and the file is then sorted by line from disk when the
//! spool is finished ([`sort_by_line`]). Until then the records sit in a temporary file,
//! removed with the spool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many finished rows wait to be written in line order.
pub const WINDOW: usize = 4096;

/// A row's CSV records, each led by the row's line.
pub type Records = Vec<Vec<String>>;

/// Records in a temporary file, given back in line order once [`LineSpool::finish`]ed.
pub struct LineSpool {
    part: Part,
    waiting: BTreeMap<u64, Records>,
    /// The last line written to the file, and whether every line so far came after it.
    written: Option<u64>,
    in_order: bool,
    window: usize,
}

impl LineSpool {
    /// A spool in the temporary file `path` (created now, removed with the spool), putting
    /// rows back in order within `window` of them.
    pub fn create(path: PathBuf, window: usize) -> anyhow::Result<LineSpool> {
        Ok(LineSpool { part: Part::create(path)?, waiting: BTreeMap::new(), written: None, in_order: true, window })
    }

    /// A spool in a new temporary file of the system's temporary folder, named after `what`.
    pub fn temporary(what: &str) -> anyhow::Result<LineSpool> {
        let name = format!(".wxprov-{what}-{}-{:08x}.part", std::process::id(), rand::random::<u32>());
        LineSpool::create(std::env::temp_dir().join(name), WINDOW)
    }

    /// Takes the records of the row on `line` (each led by `line`; a line is taken once).
    pub fn push(&mut self, line: u64, records: Records) -> anyhow::Result<()> {
        self.waiting.insert(line, records);
        if self.waiting.len() > self.window {
            self.write_first()?;
        }
        Ok(())
    }

    /// Writes the first waiting row.
    fn write_first(&mut self) -> anyhow::Result<()> {
        let Some((line, records)) = self.waiting.pop_first() else { return Ok(()) };
        if self.written.is_some_and(|w| line < w) {
            self.in_order = false;
        }
        self.written = Some(self.written.map_or(line, |w| w.max(line)));
        for record in &records {
            self.part.write(record)?;
        }
        Ok(())
    }

    /// Writes out the rows still waiting and closes the file, sorting it by line when some
    /// row came too late for the window; then [`LineSpool::records`] reads it.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        while !self.waiting.is_empty() {
            self.write_first()?;
        }
        self.part.close()?;
        if !self.in_order {
            sort_by_line(&self.part.path)?;
            self.in_order = true;
        }
        Ok(())
    }

    /// Whether every row so far came within the window (no sort from disk needed).
    pub fn in_order(&self) -> bool {
        self.in_order
    }

    /// The records in line order (after [`LineSpool::finish`]), read from the file; it can be
    /// read more than once.
    pub fn records(&self) -> anyhow::Result<csv::Reader<std::io::BufReader<std::fs::File>>> {
        Ok(csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::new(self.part.open()?)))
    }

    /// The file (after [`LineSpool::finish`]), to copy out whole.
    pub fn open(&self) -> anyhow::Result<std::fs::File> {
        self.part.open()
    }

    /// Closes and removes the file.
    pub fn remove(&mut self) {
        self.part.remove();
    }
}

/// A temporary file of CSV records, removed when dropped.
struct Part {
    path: PathBuf,
    writer: Option<csv::Writer<std::io::BufWriter<std::fs::File>>>,
}

impl Part {
    fn create(path: PathBuf) -> anyhow::Result<Part> {
        let file = std::fs::File::create(&path)
            .map_err(|e| crate::exit::fail(format!("cannot write {}: {e}", path.display())))?;
        let writer = csv::WriterBuilder::new().flexible(true).from_writer(std::io::BufWriter::new(file));
        Ok(Part { path, writer: Some(writer) })
    }

    fn write(&mut self, record: &[String]) -> anyhow::Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.write_record(record)?;
        }
        Ok(())
    }

    /// Flushes and closes the file.
    fn close(&mut self) -> anyhow::Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        Ok(())
    }

    fn open(&self) -> anyhow::Result<std::fs::File> {
        std::fs::File::open(&self.path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.path.display()))
    }

    /// Closes and removes the file.
    fn remove(&mut self) {
        drop(self.writer.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Sorts a file of CSV records by the line number each starts with, from disk: a temporary
/// SQLite database (on disk, with a small cache) keeps them keyed by line and gives them back
/// in order, whatever the file's size. A line's records follow one another in the file (a
/// row's are written at once) and keep their order.
fn sort_by_line(path: &Path) -> anyhow::Result<()> {
    let db = scratch()?;
    db.execute_batch("CREATE TABLE records (line INTEGER PRIMARY KEY, record BLOB NOT NULL);")?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(std::fs::File::open(path)?));
    db.execute_batch("BEGIN")?;
    {
        let mut insert = db.prepare("INSERT INTO records (line, record) VALUES (?1, ?2)")?;
        // The records of the line being read, as CSV text.
        let mut current: Option<(i64, csv::Writer<Vec<u8>>)> = None;
        for record in reader.byte_records() {
            let record = record?;
            let line: i64 = std::str::from_utf8(record.get(0).unwrap_or_default())?.parse()?;
            if current.as_ref().is_some_and(|(at, _)| *at != line) {
                let (at, bytes) = current.take().expect("checked");
                insert.execute(rusqlite::params![at, bytes.into_inner()?])?;
            }
            let (_, bytes) =
                current.get_or_insert_with(|| (line, csv::WriterBuilder::new().flexible(true).from_writer(Vec::new())));
            bytes.write_byte_record(&record)?;
        }
        if let Some((at, bytes)) = current {
            insert.execute(rusqlite::params![at, bytes.into_inner()?])?;
        }
    }
    db.execute_batch("COMMIT")?;
    let sorted = path.with_extension("sorted");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&sorted)?);
    let mut select = db.prepare("SELECT record FROM records ORDER BY line")?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        std::io::Write::write_all(&mut out, row.get_ref(0)?.as_blob()?)?;
    }
    std::io::Write::flush(&mut out)?;
    std::fs::rename(&sorted, path)?;
    Ok(())
}

/// A temporary SQLite database on disk with a small cache (4 MB), for what grows with the
/// sheet and must not be held in memory: SQLite removes it when it is closed; nothing in it
/// needs to survive a crash.
pub fn scratch() -> rusqlite::Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open("")?;
    db.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;")?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with several records each, pushed far out of order with a window of 2: they come
    /// back in line order, each row's records in the order given.
    #[test]
    fn rows_of_several_records_come_back_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = LineSpool::create(dir.path().join("p.part"), 2).unwrap();
        let mut order: Vec<u64> = (3..30).collect();
        order.swap(2, 20);
        order.push(2);
        for line in order {
            let records = (0..line % 3).map(|i| vec![line.to_string(), format!("step {i}")]).collect();
            spool.push(line, records).unwrap();
        }
        assert!(!spool.in_order());
        spool.finish().unwrap();
        let got: Vec<Vec<String>> =
            spool.records().unwrap().records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
        let want: Vec<Vec<String>> =
            (2..30u64).flat_map(|l| (0..l % 3).map(move |i| vec![l.to_string(), format!("step {i}")])).collect();
        assert_eq!(got, want);
    }
}
