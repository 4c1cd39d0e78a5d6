//! The ledger: one SQLite file that remembers, across runs, everything wxprov must not
//! forget — authorizer tokens, uploaded media, tickets, every API call, and (with the runner)
//! each row's steps (DESIGN §4).
//!
//! One thread owns the connection; async tasks queue closures for it and await the answer,
//! so no task ever holds a `Connection` across an await and writes never contend inside the
//! process. The thread batches: it runs every job waiting in the queue inside one
//! `BEGIN IMMEDIATE` transaction and answers the jobs only after the commit, so an answer
//! always means "committed" — which crash safety relies on ("recorded as started" must be
//! true before the call is sent). A job nobody awaits ([`Ledger::call_later`]: the call log,
//! a step's final record) does not wake the thread: it shares the next awaited job's commit,
//! or is committed at most `queue::LINGER` after the last one (`queue.rs`); so does a job
//! queued ahead of its answer ([`Ledger::call_durable_now`]) until its answer is awaited.
//! A job is one change: a single statement is all-or-nothing by itself, and a job of
//! several statements wraps them in `atomic`, so a failing job leaves nothing
//! half-written in the batch. A commit survives the process being killed; the writes that
//! must also survive a power cut (a call marked as started, a registration, a refresh token)
//! are made with [`Ledger::call_durable`], whose batch is committed with `synchronous = FULL`
//! (fsync) instead of `NORMAL`. The file is created with mode 0600, runs in WAL mode, and
//! its schema is versioned with `PRAGMA user_version` (see `schema.rs`). A run halts the
//! ledger at its storage's first failure (`halt.rs`): nothing more is written after it.

mod cache;
mod callbacks;
mod events;
mod fleet;
mod halt;
mod link_key;
mod lock;
mod media;
mod nonces;
mod permissions;
mod queue;
mod registrations;
mod runs;
mod schema;
mod status;
mod steps;
mod tickets;
mod tokens;
mod upkeep;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

pub use crate::lifecycle::{StepRecord, StepState};
pub use callbacks::{AuditKind, CallbackOutcome};
pub use events::CallEvent;
pub use fleet::{daily_limit_key, CallDay, Fleet, FleetReader, FleetStep, CALL_DAYS, LISTED};
pub use halt::LedgerFailure;
pub use link_key::LINK_KEY_LEN;
pub use lock::RunLock;
pub use registrations::Registration;
pub use runs::{RunEnd, RunRecord, RunStatus};
pub use status::WaitingStep;
pub use steps::{KnownRow, RowRecord};
pub use tickets::TicketKind;
pub use tokens::{AuthorizerTokens, TokenKind, TokenRow};
pub use upkeep::{compact, size_on_disk};

/// A write queued in the ledger, done once it is committed ([`Ledger::call_durable_now`]).
pub type Queued = futures::future::BoxFuture<'static, Result<(), LedgerError>>;

/// What can go wrong with the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot open the ledger {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the ledger {path} was written by a newer wxprov (schema {found}, this one knows up to {known}); upgrade wxprov")]
    TooNew { path: String, found: i64, known: i64 },
    #[error("another wxprov run holds the ledger {path}; wait for it to finish")]
    Locked { path: String },
    #[error("ledger: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the ledger's worker thread has stopped")]
    Gone,
    #[error("could not commit to the ledger: {0}")]
    Commit(String),
    /// The storage failed earlier in this run ([`Ledger::halt_at_first_failure`]): not tried.
    #[error("{0}; nothing more is written to it in this run")]
    Halted(LedgerFailure),
    #[error("the link key in the ledger is damaged; delete its row (`DELETE FROM link_key`) to make a new one — links already sent then stop working")]
    BadLinkKey,
}

impl LedgerError {
    /// True when another process holds the ledger (exit code 5).
    pub fn is_locked(&self) -> bool {
        matches!(self, LedgerError::Locked { .. })
    }
}

/// A job runs inside the batch's transaction (or not at all, given `None`, when the
/// transaction could not begin or the ledger is halted) and returns what to do once the
/// batch is committed (or was refused: then it gets why), with its own error when that is
/// the storage's.
struct Job {
    /// The batch holding it is fsynced on commit.
    durable: bool,
    /// Somebody awaits its answer (not queued with [`Ledger::call_later`]).
    awaited: bool,
    run: RunJob,
}

type RunJob = Box<dyn FnOnce(Option<&Connection>) -> (Reply, Option<rusqlite::Error>) + Send>;
type Reply = Box<dyn FnOnce(Option<&Refusal>) + Send>;

/// Why a batch's jobs were answered with an error rather than their results.
enum Refusal {
    /// The transaction could not begin or commit: SQLite's reason.
    Commit(String),
    /// The ledger is halted: not tried.
    Halted(LedgerFailure),
}

impl Refusal {
    fn error(&self) -> LedgerError {
        match self {
            Refusal::Commit(reason) => LedgerError::Commit(reason.clone()),
            Refusal::Halted(failure) => LedgerError::Halted(failure.clone()),
        }
    }
}

/// A handle on the ledger; cheap to clone, usable from any task.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Arc<queue::Queue>,
    halt: Arc<halt::Halt>,
    path: PathBuf,
}

/// The last handle is gone: the writer commits what is queued and stops.
impl Drop for Inner {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.inner.path).finish()
    }
}

impl Ledger {
    /// Opens (creating if need be, mode 0600) and migrates the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let shown = path.display().to_string();
        let open_err = |reason: String| LedgerError::Open { path: shown.clone(), reason };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| open_err(format!("cannot create the folder {}: {e}", parent.display())))?;
        }
        create_private(path).map_err(|e| open_err(e.to_string()))?;
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        Ledger::start(conn, path)
    }

    /// An empty ledger in memory, standing for `path`, which does not exist: for the
    /// commands that only read (`plan`, `categories`, `quota`, `links`), which treat a
    /// missing ledger as empty and must not create it. Nothing written to it is kept.
    pub fn empty_in_memory(path: &Path) -> Result<Ledger, LedgerError> {
        let conn = Connection::open_in_memory()
            .map_err(|e| LedgerError::Open { path: path.display().to_string(), reason: e.to_string() })?;
        Ledger::start(conn, path)
    }

    /// Sets `conn` up, migrates it and hands it to the writer thread.
    fn start(mut conn: Connection, path: &Path) -> Result<Ledger, LedgerError> {
        let shown = path.display().to_string();
        let open_err = |reason: String| LedgerError::Open { path: shown.clone(), reason };
        conn.set_prepared_statement_cache_capacity(64);
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL, raised to FULL for batches with a durable job (see the module docs).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn, &shown)?;

        let queue = Arc::new(queue::Queue::new());
        let halt = Arc::new(halt::Halt::new(shown.clone()));
        let (taken, halting) = (queue.clone(), halt.clone());
        std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || writer(conn, &taken, &halting))
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Ledger { inner: Arc::new(Inner { queue, halt, path: path.to_path_buf() }) })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// From now on the first failure of the ledger's storage (`halt.rs`) halts it: it is
    /// logged once, `on_halt` is told (from the writer thread, before any job hears of it),
    /// and every job after it is answered [`LedgerError::Halted`] without being tried. For a
    /// run, which must not go on acting without a record.
    pub fn halt_at_first_failure(&self, on_halt: impl FnOnce(&LedgerFailure) + Send + 'static) {
        self.inner.halt.arm(Box::new(on_halt));
    }

    /// The failure that halted the ledger, if it has.
    pub fn failure(&self) -> Option<LedgerFailure> {
        self.inner.halt.failure().cloned()
    }

    /// Runs `f` on the ledger's connection and awaits its result, once it is committed.
    pub async fn call<R, F>(&self, f: F) -> Result<R, LedgerError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, LedgerError> + Send + 'static,
    {
        self.ask(false, f).await
    }

    /// Like [`Ledger::call`], and the commit is fsynced before the answer: for what must
    /// survive a power cut.
    pub async fn call_durable<R, F>(&self, f: F) -> Result<R, LedgerError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, LedgerError> + Send + 'static,
    {
        self.ask(true, f).await
    }

    /// Like [`Ledger::call_durable`], queued now and its answer awaited later: for a write
    /// that must be committed before something else happens (a call marked as started,
    /// before it is sent) but need not hold up what comes before that (the call's wait for
    /// its turn). Until its answer is awaited it waits for company like a job nobody awaits;
    /// then the writer commits it at once. Dropped unawaited, the write is still made.
    pub fn call_durable_now<R, F>(&self, f: F) -> impl std::future::Future<Output = Result<R, LedgerError>>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, LedgerError> + Send + 'static,
    {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let queued = self.send(true, false, f, move |r| {
            let _ = tx.send(r);
        });
        let mut urge = Some(self.inner.queue.clone());
        async move {
            queued?;
            let answer = std::future::poll_fn(|cx| {
                let answer = std::future::Future::poll(std::pin::Pin::new(&mut rx), cx);
                if answer.is_pending() {
                    if let Some(queue) = urge.take() {
                        queue.urge();
                    }
                }
                answer
            });
            answer.await.map_err(|_| LedgerError::Gone)?
        }
    }

    /// Queues `f` at once and returns its answer, once committed: what [`Ledger::call`] and
    /// [`Ledger::call_durable`] share.
    fn ask<R, F>(&self, durable: bool, f: F) -> impl std::future::Future<Output = Result<R, LedgerError>>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, LedgerError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let queued = self.send(durable, true, f, move |r| {
            let _ = tx.send(r);
        });
        async move {
            queued?;
            rx.await.map_err(|_| LedgerError::Gone)?
        }
    }

    /// Waits until everything queued before (the call log included) is committed.
    pub async fn flush(&self) -> Result<(), LedgerError> {
        self.call(|_| Ok(())).await
    }

    /// Queues `f` without waiting for it: for records nothing depends on right away (the
    /// call log). It is committed with the next awaited job, or within `queue::LINGER`; a
    /// failure is logged (once the ledger is halted, its failure was, once for all).
    pub fn call_later<F>(&self, f: F)
    where
        F: FnOnce(&Connection) -> Result<(), LedgerError> + Send + 'static,
    {
        let halt = self.inner.halt.clone();
        let queued = self.send(false, false, f, move |result| {
            if let Err(e) = result {
                if halt.failure().is_none() {
                    tracing::warn!("could not write to the ledger: {e}");
                }
            }
        });
        if let Err(e) = queued {
            tracing::warn!("could not write to the ledger: {e}");
        }
    }

    fn send<R, F, A>(&self, durable: bool, awaited: bool, f: F, answer: A) -> Result<(), LedgerError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, LedgerError> + Send + 'static,
        A: FnOnce(Result<R, LedgerError>) + Send + 'static,
    {
        let run = Box::new(move |conn: Option<&Connection>| -> (Reply, Option<rusqlite::Error>) {
            let result = match conn {
                Some(conn) => f(conn),
                None => Err(LedgerError::Gone),
            };
            let storage = result.as_ref().err().and_then(storage_failure);
            let reply: Reply = Box::new(move |refused: Option<&Refusal>| match refused {
                Some(refusal) => answer(Err(refusal.error())),
                None => answer(result),
            });
            (reply, storage)
        });
        self.inner.queue.push(Job { durable, awaited, run })
    }
}

/// How long the writer waits for another connection's lock before the job fails (then a run
/// halts: `halt.rs`).
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A job's error when it is the storage's (`halt.rs`), copied for the halt: the job's
/// answer keeps its own (`rusqlite::Error` is not `Clone`).
fn storage_failure(e: &LedgerError) -> Option<rusqlite::Error> {
    match e {
        LedgerError::Sql(e @ rusqlite::Error::SqliteFailure(failure, message)) if halt::storage_code(e).is_some() => {
            Some(rusqlite::Error::SqliteFailure(*failure, message.clone()))
        }
        _ => None,
    }
}

/// The writer thread: runs each batch the queue hands it in one transaction, commits, then
/// answers its jobs; once the ledger is halted (`halt.rs`), answers them at once.
fn writer(conn: Connection, queue: &queue::Queue, halt: &halt::Halt) {
    /// Tells the queue when the writer stops, panicking or not, so nobody waits for it.
    struct Stopped<'a>(&'a queue::Queue);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            self.0.stop();
        }
    }
    let _stopped = Stopped(queue);
    let mut full = false;
    while let Some(jobs) = queue.next_batch() {
        if let Some(failure) = halt.failure() {
            let refusal = Refusal::Halted(failure.clone());
            for job in jobs {
                (job.run)(None).0(Some(&refusal));
            }
            continue;
        }
        let durable = jobs.iter().any(|j| j.durable);
        if durable != full && conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" }).is_ok() {
            full = durable;
        }
        if let Err(e) = run_cached(&conn, "BEGIN IMMEDIATE") {
            // Without the transaction nothing runs: running the jobs in autocommit would
            // write them while telling their callers they failed.
            halt.met(&e, true);
            let refusal = Refusal::Commit(e.to_string());
            for job in jobs {
                (job.run)(None).0(Some(&refusal));
            }
            continue;
        }
        let mut storage = None;
        let replies: Vec<Reply> = jobs
            .into_iter()
            .map(|job| {
                let (reply, failed) = (job.run)(Some(&conn));
                storage = storage.take().or(failed);
                reply
            })
            .collect();
        let failure = run_cached(&conn, "COMMIT").err().inspect(|_| {
            let _ = run_cached(&conn, "ROLLBACK");
        });
        // Before any job hears: whoever its answer wakes finds the ledger halted. A job's
        // storage failure is the cause of a COMMIT failing after it (SQLite may have rolled
        // the transaction back at SQLITE_FULL or SQLITE_IOERR: then COMMIT only says that
        // no transaction is active).
        match (&storage, &failure) {
            (Some(e), _) => halt.met(e, false),
            (None, Some(e)) => halt.met(e, true),
            (None, None) => {}
        }
        let refusal = failure.map(|e| Refusal::Commit(e.to_string()));
        for reply in replies {
            reply(refusal.as_ref());
        }
    }
}

/// Runs a statement the writer runs for every job or batch, prepared once.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs the statements of a job that makes several in a savepoint, so a failure leaves
/// none of them in the batch. (Not every job pays for one: a savepoint copies each page
/// it touches, and most jobs are a single statement.)
pub(crate) fn atomic<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, LedgerError>,
) -> Result<R, LedgerError> {
    run_cached(conn, "SAVEPOINT job")?;
    let result = f(conn);
    if result.is_err() {
        run_cached(conn, "ROLLBACK TO job")?;
    }
    run_cached(conn, "RELEASE job")?;
    result
}

/// Creates the file with mode 0600 if it does not exist yet, so tokens never sit in a
/// world-readable file, not even for a moment.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(|_| ())
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_private_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        let version: i64 =
            ledger.call(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?)).await.unwrap();
        assert_eq!(version, schema::VERSION);
        let mode: String =
            ledger.call(|c| Ok(c.pragma_query_value(None, "journal_mode", |r| r.get(0))?)).await.unwrap();
        assert_eq!(mode, "wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perm = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(perm, 0o600);
        }
        drop(ledger);
        // Reopening an up-to-date ledger is a no-op migration.
        Ledger::open(&path).unwrap();
    }

    /// A failing job leaves nothing behind and takes nothing with it: a job of several
    /// statements through [`atomic`], a single statement by itself, whatever shares the batch.
    #[tokio::test]
    async fn a_failing_job_leaves_nothing_and_spoils_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let insert = |key: &'static str| {
            move |c: &Connection| -> Result<(), LedgerError> {
                c.execute("INSERT INTO cache (key, value, fetched_at) VALUES (?1, 'v', 1)", [key])?;
                Ok(())
            }
        };
        // Queued together, so they usually share one transaction.
        ledger.call_later(insert("before"));
        ledger.call_later(move |c| {
            atomic(c, |c| {
                insert("half")(c)?;
                insert("before")(c) // a duplicate key: the job fails after its first statement
            })
        });
        ledger.call_later(|c| {
            c.execute(
                "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'b', 'bad', 'h', 1)",
                [],
            )?;
            Ok(())
        });
        let failed = ledger.call(insert("before")).await;
        ledger.call_later(insert("after"));
        ledger.flush().await.unwrap();
        assert!(failed.is_err());
        let keys: Vec<String> = ledger
            .call(|c| {
                let mut stmt = c.prepare("SELECT key FROM cache ORDER BY key")?;
                let keys = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(keys)
            })
            .await
            .unwrap();
        assert_eq!(keys, ["after", "before"]);
        let steps: i64 =
            ledger.call(|c| Ok(c.query_row("SELECT count(*) FROM steps", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(steps, 0);
    }

    /// A job nobody awaits, with no other job after it, is still committed: the batch's
    /// wait for company ends, and another connection (`wxprov status`, `sqlite3`) sees it.
    #[tokio::test]
    async fn a_job_nobody_awaits_is_committed_without_company() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        ledger.call_later(|c| {
            c.execute("INSERT INTO cache (key, value, fetched_at) VALUES ('alone', 'v', 1)", [])?;
            Ok(())
        });
        let reader = Connection::open(&path).unwrap();
        let count = || -> i64 { reader.query_row("SELECT count(*) FROM cache", [], |r| r.get(0)).unwrap() };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while count() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(count(), 1, "the job was never committed");
        drop(ledger);
    }

    /// A write queued ahead of its answer is made whether its answer is awaited (then it is
    /// committed by the time the answer comes) or dropped.
    #[tokio::test]
    async fn a_write_queued_ahead_is_made_awaited_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let insert = |key: &'static str| {
            move |c: &Connection| -> Result<(), LedgerError> {
                c.execute("INSERT INTO cache (key, value, fetched_at) VALUES (?1, 'v', 1)", [key])?;
                Ok(())
            }
        };
        let count = |key: &'static str| {
            move |c: &Connection| -> Result<i64, LedgerError> {
                Ok(c.query_row("SELECT count(*) FROM cache WHERE key = ?1", [key], |r| r.get(0))?)
            }
        };
        drop(ledger.call_durable_now(insert("dropped")));
        let awaited = ledger.call_durable_now(insert("awaited"));
        awaited.await.unwrap();
        assert_eq!(ledger.call(count("dropped")).await.unwrap(), 1);
        assert_eq!(ledger.call(count("awaited")).await.unwrap(), 1);
        let failing = ledger.call_durable_now(insert("awaited"));
        assert!(failing.await.is_err(), "a duplicate key fails, and says so");
    }

    /// A writer that stopped (here a job that panics) leaves nobody waiting: the jobs it had
    /// and every job after it answer that the ledger is gone.
    #[tokio::test]
    async fn a_stopped_writer_answers_gone() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let crashed: Result<(), _> = ledger.call(|_| panic!("a job that panics")).await;
        assert!(matches!(crashed, Err(LedgerError::Gone)), "{crashed:?}");
        ledger.call_later(|_| Ok(()));
        let after = ledger.flush().await;
        assert!(matches!(after, Err(LedgerError::Gone)), "{after:?}");
    }

    /// Halting at the storage's first failure (here SQLite refusing a job's write once its
    /// connection is set `query_only`: SQLITE_READONLY): the owner is told once, the failing job and every
    /// later one are refused, and a job after it is not even tried. One job's own error (a
    /// duplicate key) halts nothing.
    #[tokio::test]
    async fn an_armed_ledger_halts_at_the_storages_first_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        let told = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = told.clone();
        ledger.halt_at_first_failure(move |f| seen.lock().unwrap().push(f.to_string()));
        let insert = |key: &'static str| {
            move |c: &Connection| -> Result<(), LedgerError> {
                c.execute("INSERT INTO cache (key, value, fetched_at) VALUES (?1, 'v', 1)", [key])?;
                Ok(())
            }
        };
        ledger.call(insert("a")).await.unwrap();
        assert!(ledger.call(insert("a")).await.is_err(), "a duplicate key");
        assert!(ledger.failure().is_none(), "one job's own error halts nothing");

        // Set inside the job's transaction, so that the job's own statement meets it.
        let refused = ledger
            .call(move |c| {
                c.pragma_update(None, "query_only", true)?;
                insert("b")(c)
            })
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("attempt to write a readonly database"), "{refused:?}");
        let shown = path.display();
        let failure = format!("the ledger {shown} failed: attempt to write a readonly database (SQLITE_READONLY)");
        assert_eq!(ledger.failure().map(|f| f.to_string()).as_deref(), Some(failure.as_str()));

        let tried = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let touched = tried.clone();
        let after = ledger
            .call(move |_| {
                touched.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await;
        let after = after.unwrap_err().to_string();
        assert_eq!(after, format!("{failure}; nothing more is written to it in this run"));
        assert!(!tried.load(std::sync::atomic::Ordering::SeqCst), "not tried once halted");
        ledger.call_later(insert("c"));
        assert!(ledger.flush().await.is_err());
        assert_eq!(*told.lock().unwrap(), [failure]);
    }

    #[test]
    fn refuses_an_impossible_folder_with_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = Ledger::open(&file.join("l.db")).unwrap_err();
        assert!(err.to_string().contains("cannot create the folder"), "{err}");
    }
}
