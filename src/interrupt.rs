//! SIGINT and SIGTERM during a run (DESIGN §6): from the signal on, no new API call starts —
//! every call asks [`Interrupt::check`] first — while calls already in flight are let
//! finish, for at most [`GRACE`]; then the reports are written, marked interrupted, and the
//! run exits 130 (SIGINT) or 143 (SIGTERM). A second signal gives up on the calls still in
//! flight at once. A state-changing call given up on stays recorded as started in the ledger,
//! so the next run reconciles it from live state before calling again.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::exit::Exit;

/// How long calls in flight are let finish after the signal.
pub const GRACE: Duration = Duration::from_secs(10);

/// The signal that interrupted the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }

    /// 130 or 143.
    pub fn exit(self) -> Exit {
        match self {
            Signal::Int => Exit::Interrupted,
            Signal::Term => Exit::Terminated,
        }
    }
}

/// Whether the run was asked to stop; cheap to clone and to ask.
#[derive(Debug, Clone)]
pub struct Interrupt {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// 0: none yet, 1: SIGINT, 2: SIGTERM (the first signal).
    signal: AtomicU8,
    /// How many signals arrived.
    count: watch::Sender<u32>,
}

/// A call refused because the run was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not started: the run was interrupted")]
pub struct Interrupted;

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt { inner: Arc::new(Inner { signal: AtomicU8::new(0), count: watch::channel(0).0 }) }
    }

    /// Listens for SIGINT and SIGTERM for the rest of the process (from here on they no longer
    /// end it at once). Needs a Tokio runtime.
    pub fn listen(&self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut int = signal(SignalKind::interrupt())?;
            let mut term = signal(SignalKind::terminate())?;
            let this = self.clone();
            tokio::spawn(async move {
                loop {
                    let got = tokio::select! {
                        Some(()) = int.recv() => Signal::Int,
                        Some(()) = term.recv() => Signal::Term,
                        else => return,
                    };
                    this.request(got);
                }
            });
        }
        #[cfg(not(unix))]
        {
            let this = self.clone();
            tokio::spawn(async move {
                while tokio::signal::ctrl_c().await.is_ok() {
                    this.request(Signal::Int);
                }
            });
        }
        Ok(())
    }

    /// What a signal does: the first stops new calls, a second gives up on those in flight.
    pub fn request(&self, signal: Signal) {
        let code = match signal {
            Signal::Int => 1,
            Signal::Term => 2,
        };
        let first = self.inner.signal.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst).is_ok();
        if first {
            tracing::warn!(
                "{}: starting no new call; letting the calls in flight finish (at most {} s), then writing the \
                 reports (again to stop waiting)",
                signal.name(),
                GRACE.as_secs()
            );
        } else {
            tracing::warn!("{} again: not waiting for the calls in flight", signal.name());
        }
        self.inner.count.send_modify(|n| *n += 1);
    }

    /// The first signal that arrived, if any.
    pub fn signal(&self) -> Option<Signal> {
        match self.inner.signal.load(Ordering::SeqCst) {
            1 => Some(Signal::Int),
            2 => Some(Signal::Term),
            _ => None,
        }
    }

    /// `Err` once a signal arrived: what every call asks before it starts.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.inner.signal.load(Ordering::Relaxed) {
            0 => Ok(()),
            _ => Err(Interrupted),
        }
    }

    /// Resolves when the `n`th signal has arrived.
    pub async fn signals(&self, n: u32) {
        let mut rx = self.inner.count.subscribe();
        let _ = rx.wait_for(|count| *count >= n).await;
    }

    /// Waits for `f`, unless a signal arrives first (then `Err`): for waits before a call
    /// (pacing, backoff), which a signal cuts short.
    pub async fn unless<T>(&self, f: impl std::future::Future<Output = T>) -> Result<T, Interrupted> {
        self.check()?;
        tokio::select! {
            biased;
            () = self.signals(1) => Err(Interrupted),
            value = f => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_refuses_new_calls_and_cuts_waits_short() {
        let interrupt = Interrupt::new();
        assert_eq!(interrupt.check(), Ok(()));
        assert_eq!(interrupt.unless(async { 7 }).await, Ok(7));
        let waiting = interrupt.clone();
        let wait = tokio::spawn(async move { waiting.unless(std::future::pending::<()>()).await });
        tokio::task::yield_now().await;
        interrupt.request(Signal::Term);
        assert_eq!(wait.await.unwrap(), Err(Interrupted));
        assert_eq!(interrupt.check(), Err(Interrupted));
        assert_eq!(interrupt.signal(), Some(Signal::Term));
        // A second signal keeps the first one's name and exit code.
        interrupt.request(Signal::Int);
        assert_eq!(interrupt.signal().map(Signal::exit), Some(Exit::Terminated));
        interrupt.signals(2).await;
    }
}
