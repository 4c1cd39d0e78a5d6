//! Progress: on a terminal, an `indicatif` bar with rows, calls per second and the time
//! left; under cron (no terminal), a summary line logged every 10 s instead. Log lines go
//! through [`LogWriter`], which lifts the bar out of the way so they never tear it.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use wechat_open::CallLog;

/// How often the summary line is logged without a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

fn active_bar() -> &'static Mutex<Option<ProgressBar>> {
    static BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();
    BAR.get_or_init(|| Mutex::new(None))
}

/// The progress of one run.
pub struct Progress {
    bar: Option<ProgressBar>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// Starts showing progress over `total` rows.
    pub fn start(total: u64, calls: CallLog) -> Progress {
        let started = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {msg}  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            *active_bar().lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
            let shown = bar.clone();
            let ticker = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    shown.set_message(format!("{} calls, {:.1} calls/s", calls.total(), rate(calls.total(), started)));
                }
            });
            Progress { bar: Some(bar), ticker }
        } else {
            let ticker = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LOG_EVERY).await;
                    tracing::info!(
                        "progress: {} calls so far ({:.1} calls/s, {}s)",
                        calls.total(),
                        rate(calls.total(), started),
                        started.elapsed().as_secs()
                    );
                }
            });
            Progress { bar: None, ticker }
        }
    }

    pub fn inc(&self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
        }
    }

    pub fn finish(&self) {
        self.ticker.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            *active_bar().lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn rate(count: u64, since: Instant) -> f64 {
    count as f64 / since.elapsed().as_secs_f64().max(0.001)
}

/// Writes log lines to stderr, suspending the progress bar while it does.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = active_bar().lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}
