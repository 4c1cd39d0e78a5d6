//! A rehearsal (`--api-base sim`, `WXPROV_API_BASE=sim` or `api_base = "sim"`, DESIGN §1): a
//! command run against the built-in simulator instead of WeChat. It must never touch what
//! the real runs rely on, so everything it uses is its own: the fixture's credentials (no
//! `WXPROV_*` secret or token command is read), a ledger and a simulator state beside the
//! real ledger (`LEDGER.sim.db`, `LEDGER.sim.json`), and reports under
//! `REPORT_DIR/rehearsal/`. Every log line it prints starts with `[rehearsal]` (JSON lines
//! carry `"rehearsal": true`), so nobody mistakes its output for a real run's.
//!
//! Whether a command is a rehearsal is decided once, in [`super::context::Setup`]; this
//! module says what follows from it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::Secrets;
use wechat_open::secret::Secret;

/// The `api_base` that makes a command a rehearsal.
pub(super) const SIM: &str = "sim";

/// The folder under `REPORT_DIR` that rehearsals write their reports to.
pub(super) const REPORT_SUBDIR: &str = "rehearsal";

/// The rehearsal's ledger, beside the real one: `LEDGER.sim.db`.
pub(super) fn ledger_path(real: &Path) -> PathBuf {
    beside(real, ".sim.db")
}

/// Where the in-process simulator keeps its world, beside the real ledger: `LEDGER.sim.json`.
pub(super) fn state_path(real: &Path) -> PathBuf {
    beside(real, ".sim.json")
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The platform's identity and secrets in a rehearsal: the simulator fixture's, whatever the
/// environment says. The callback token and AES key are not set (the encrypted routes of a
/// rehearsed `serve` answer 503), and no token command is run.
pub(super) fn secrets(fixture: &wechat_sim::Fixture) -> Secrets {
    Secrets {
        component_appid: Some(fixture.component.appid.clone()),
        component_secret: Some(Secret::new(fixture.component.secret.clone())),
        verify_ticket: Some(Secret::new(fixture.component.verify_ticket.clone())),
        token: None,
        encoding_aes_key: None,
        token_command: None,
    }
}

static MARKED: AtomicBool = AtomicBool::new(false);

/// From now on, every log line says it comes from a rehearsal.
pub(super) fn mark() {
    MARKED.store(true, Ordering::Relaxed);
}

/// True once [`mark`] was called: this process is rehearsing.
pub(super) fn marked() -> bool {
    MARKED.load(Ordering::Relaxed)
}

/// `[rehearsal] ` before a line a person reads, once the process is rehearsing.
pub(super) fn prefix() -> &'static str {
    if marked() {
        "[rehearsal] "
    } else {
        ""
    }
}

/// `text` with every line marked by [`prefix`] (unchanged outside a rehearsal): for what a
/// command prints for people, such as tables and summaries.
pub(super) fn mark_lines(text: &str) -> String {
    let mut marked = Marked::new(Vec::with_capacity(text.len()));
    // Writing to a Vec does not fail.
    let _ = marked.write_all(text.as_bytes()).and_then(|()| marked.finish());
    String::from_utf8_lossy(&marked.out).into_owned()
}

/// A writer that marks every line written through it by [`prefix`], as [`mark_lines`] does,
/// for what is printed as it is made (a plan of a million rows): each line, a CRLF ending
/// made LF, and a last line without an ending given one ([`Marked::finish`]). Outside a
/// rehearsal the bytes pass as they are.
pub(super) struct Marked<W: std::io::Write> {
    out: W,
    marked: bool,
    /// The next byte starts a line.
    at_start: bool,
    /// A CR held back: dropped if a LF follows.
    cr: bool,
}

impl<W: std::io::Write> Marked<W> {
    pub(super) fn new(out: W) -> Self {
        Marked { out, marked: marked(), at_start: true, cr: false }
    }

    /// Ends the last line, if it has no ending, and flushes.
    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        if self.marked {
            if std::mem::take(&mut self.cr) {
                self.out.write_all(b"\r")?;
            }
            if !self.at_start {
                self.out.write_all(b"\n")?;
                self.at_start = true;
            }
        }
        self.out.flush()
    }
}

impl<W: std::io::Write> std::io::Write for Marked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.marked {
            return self.out.write(buf);
        }
        for piece in buf.split_inclusive(|b| *b == b'\n') {
            if std::mem::take(&mut self.at_start) {
                self.out.write_all(prefix().as_bytes())?;
            }
            let (body, ended) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            if std::mem::take(&mut self.cr) && !(body.is_empty() && ended) {
                self.out.write_all(b"\r")?;
            }
            let body = match body.strip_suffix(b"\r") {
                Some(before) => {
                    self.cr = !ended;
                    before
                }
                None => body,
            };
            self.out.write_all(body)?;
            if ended {
                self.out.write_all(b"\n")?;
                self.at_start = true;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Wraps the log line format: in a rehearsal, text lines start with `[rehearsal]` and JSON
/// lines carry `"rehearsal":true` as their first field.
pub(super) struct MarkedFormat<F> {
    pub inner: F,
    pub json: bool,
}

impl<S, N, F> FormatEvent<S, N> for MarkedFormat<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if !marked() {
            return self.inner.format_event(ctx, writer, event);
        }
        if !self.json {
            writer.write_str(prefix())?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"rehearsal\":true,{rest}"),
            None => writer.write_str(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rehearsal_files_sit_beside_the_real_ledger() {
        let real = Path::new("/srv/wxprov/wxprov.db");
        assert_eq!(ledger_path(real), Path::new("/srv/wxprov/wxprov.db.sim.db"));
        assert_eq!(state_path(real), Path::new("/srv/wxprov/wxprov.db.sim.json"));
    }
}
