//! The writer thread's queue. A channel would wake the writer for every job; at 100 calls/s
//! that was most of a run's CPU — each wake-up and each commit of one job costs far more than
//! the job. So a job wakes the writer only when somebody awaits it (or a batch is full, or the
//! writer had gone idle), and a job nobody awaits ([`super::Ledger::call_later`]: the call
//! log, a step's final record, a cached access token) waits in the queue for the next
//! awaited job's batch, or until [`LINGER`] has passed since the writer's last commit. A job
//! queued ahead of its answer ([`super::Ledger::call_durable_now`]: a call marked as started
//! while it waits for its turn) waits the same way until its answer is awaited ([`Queue::urge`]):
//! at 100 calls/s the marks of several calls then share one fsync. Jobs leave in the order
//! they came, so a job is never committed before one queued earlier.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Job, LedgerError};

/// At most this many jobs share one transaction.
pub(super) const MAX_BATCH: usize = 512;

/// How long a job nobody awaits may wait for company: at most this long after the writer's
/// last commit (or after it came, when the writer was idle) it is committed, alone if need be.
pub(super) const LINGER: Duration = Duration::from_millis(100);

/// Jobs on their way to the writer thread.
pub(super) struct Queue {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    /// How many of `jobs` somebody awaits.
    awaited: usize,
    /// Somebody awaits the answer of a job queued ahead of it.
    urged: bool,
    /// What the writer is waiting for, if it waits.
    writer: Writer,
    /// Every handle on the ledger is gone: the writer commits what is left and stops.
    closed: bool,
    /// The writer has stopped: nothing more is taken.
    stopped: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// At work: it looks at the queue before it waits again.
    Busy,
    /// Waiting, until the linger ends, for a job somebody awaits.
    Lingering,
    /// Waiting for any job: nothing was queued when its linger ended.
    Idle,
}

impl Queue {
    pub(super) fn new() -> Queue {
        let state = State {
            jobs: VecDeque::new(),
            awaited: 0,
            urged: false,
            writer: Writer::Busy,
            closed: false,
            stopped: false,
        };
        Queue { state: Mutex::new(state), wake: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`, waking the writer only when it has to act on it.
    pub(super) fn push(&self, job: Job) -> Result<(), LedgerError> {
        let mut state = self.lock();
        if state.stopped {
            return Err(LedgerError::Gone);
        }
        let awaited = job.awaited;
        state.jobs.push_back(job);
        state.awaited += usize::from(awaited);
        let wake = match state.writer {
            Writer::Busy => false,
            Writer::Lingering => awaited || state.jobs.len() >= MAX_BATCH,
            Writer::Idle => true,
        };
        drop(state);
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Somebody now awaits the answer of a job queued ahead of it: the writer takes what is
    /// queued at once. (Urged after its job was committed, it costs one early batch.)
    pub(super) fn urge(&self) {
        let mut state = self.lock();
        if state.jobs.is_empty() {
            return;
        }
        state.urged = true;
        let wake = state.writer != Writer::Busy;
        drop(state);
        if wake {
            self.wake.notify_one();
        }
    }

    /// No job will come any more: the writer commits those queued and stops.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// The writer has stopped (also when it panicked): every queued job is dropped, so
    /// whoever awaits one hears [`LedgerError::Gone`], and no job is taken any more.
    pub(super) fn stop(&self) {
        let jobs = {
            let mut state = self.lock();
            state.stopped = true;
            state.awaited = 0;
            std::mem::take(&mut state.jobs)
        };
        drop(jobs);
    }

    /// For the writer, after a commit: the next batch, once it is due — at once when a job in
    /// the queue is awaited, else once [`LINGER`] has passed with jobs queued. `None` once
    /// the queue is closed and empty.
    pub(super) fn next_batch(&self) -> Option<Vec<Job>> {
        let mut state = self.lock();
        let mut deadline = Instant::now() + LINGER;
        loop {
            let due = state.awaited > 0 || state.urged || state.jobs.len() >= MAX_BATCH || state.closed;
            if due && !state.jobs.is_empty() {
                return Some(state.take());
            }
            if state.closed {
                return None;
            }
            let now = Instant::now();
            if now < deadline {
                state.writer = Writer::Lingering;
                state = self.wake.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
            } else if !state.jobs.is_empty() {
                return Some(state.take());
            } else {
                state.writer = Writer::Idle;
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                // What woke it lingers from now.
                deadline = Instant::now() + LINGER;
            }
            state.writer = Writer::Busy;
        }
    }
}

impl State {
    /// The oldest jobs, at most [`MAX_BATCH`].
    fn take(&mut self) -> Vec<Job> {
        let n = self.jobs.len().min(MAX_BATCH);
        let batch: Vec<Job> = self.jobs.drain(..n).collect();
        self.awaited -= batch.iter().filter(|j| j.awaited).count();
        self.urged &= !self.jobs.is_empty();
        self.writer = Writer::Busy;
        batch
    }
}
