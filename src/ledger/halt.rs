//! Stopping at the ledger's first storage failure. A run must not act without a record: the
//! ledger is what keeps the next run from spending a quota twice, so once a write cannot be
//! made — a lock held past the busy timeout, a full disk, an I/O error — nothing the run does
//! after it could be trusted to be remembered. A ledger told to halt
//! ([`super::Ledger::halt_at_first_failure`]) says so once, tells its owner (which stops
//! sending calls), and from then on answers every job with that failure without touching
//! the file: nothing more is written in this process, so whatever the run did up to the
//! failure is exactly what the ledger says, and the next run goes on from there (a call
//! marked as started and never finished is reconciled from live state, as after a crash).
//!
//! Only the storage counts: a job that fails on its own (a constraint, a bad row) is that
//! job's error, and a ledger nobody told to halt (`serve`, which must outlive a `sqlite3`
//! session holding a lock) keeps trying each job as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use rusqlite::ErrorCode;

/// The ledger's storage failed; nothing more is written to it in this process.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the ledger {path} failed: {cause}")]
pub struct LedgerFailure {
    /// The ledger file.
    pub path: String,
    /// SQLite's own words and its code, e.g. `database is locked (SQLITE_BUSY)`.
    pub cause: String,
    code: ErrorCode,
}

impl LedgerFailure {
    /// Why it failed, when SQLite's words do not say it plainly, and what ops staff do.
    pub fn advice(&self) -> (Option<String>, String) {
        match self.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (
                Some(format!(
                    "another connection held its write lock longer than wxprov waits ({} s)",
                    super::BUSY_TIMEOUT.as_secs()
                )),
                "end that connection (a `sqlite3` session, a backup)".into(),
            ),
            ErrorCode::DiskFull => (Some("its disk is full".into()), "free space on it".into()),
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen => (
                Some("the file or its folder is not writable".into()),
                "make them writable by the user wxprov runs as".into(),
            ),
            _ => (None, format!("check the disk it is on (`sqlite3 {} 'PRAGMA integrity_check'`)", self.path)),
        }
    }
}

/// The SQLite code's name when `e` is a failure of the storage rather than of one job's
/// statements: the one rule of what halts a run.
pub(super) fn storage_code(e: &rusqlite::Error) -> Option<(ErrorCode, &'static str)> {
    let rusqlite::Error::SqliteFailure(failure, _) = e else { return None };
    let name = match failure.code {
        ErrorCode::DatabaseBusy => "SQLITE_BUSY",
        ErrorCode::DatabaseLocked => "SQLITE_LOCKED",
        ErrorCode::DiskFull => "SQLITE_FULL",
        ErrorCode::SystemIoFailure => "SQLITE_IOERR",
        ErrorCode::ReadOnly => "SQLITE_READONLY",
        ErrorCode::PermissionDenied => "SQLITE_PERM",
        ErrorCode::CannotOpen => "SQLITE_CANTOPEN",
        ErrorCode::DatabaseCorrupt => "SQLITE_CORRUPT",
        ErrorCode::NotADatabase => "SQLITE_NOTADB",
        ErrorCode::OutOfMemory => "SQLITE_NOMEM",
        ErrorCode::FileLockingProtocolFailed => "SQLITE_PROTOCOL",
        ErrorCode::NoLargeFileSupport => "SQLITE_NOLFS",
        _ => return None,
    };
    Some((failure.code, name))
}

/// What to do once the storage fails, told once.
type OnHalt = Box<dyn FnOnce(&LedgerFailure) + Send>;

/// The latch shared by the ledger's handles and its writer thread.
pub(super) struct Halt {
    path: String,
    armed: AtomicBool,
    on_halt: Mutex<Option<OnHalt>>,
    failure: OnceLock<LedgerFailure>,
}

impl Halt {
    pub(super) fn new(path: String) -> Halt {
        Halt { path, armed: AtomicBool::new(false), on_halt: Mutex::new(None), failure: OnceLock::new() }
    }

    /// From now on the first storage failure halts the ledger, and `on_halt` is told.
    pub(super) fn arm(&self, on_halt: OnHalt) {
        *self.on_halt.lock().unwrap_or_else(|e| e.into_inner()) = Some(on_halt);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// The failure that halted the ledger, once it has.
    pub(super) fn failure(&self) -> Option<&LedgerFailure> {
        self.failure.get()
    }

    /// The writer met `e`: when it is the storage's (and some step the writer took could not
    /// begin or commit, so `always` is set, it is taken as the storage's whatever it is) and
    /// the ledger is armed, it halts — the first time, said in the log and told to the owner.
    /// Only the writer thread calls it. The owner is told first, so that by the time the
    /// log line (and its time) is written no new call goes out.
    pub(super) fn met(&self, e: &rusqlite::Error, always: bool) {
        if !self.armed.load(Ordering::SeqCst) || self.failure.get().is_some() {
            return;
        }
        let (code, name) = match storage_code(e) {
            Some(found) => found,
            None if always => (ErrorCode::Unknown, "SQLITE_ERROR"),
            None => return,
        };
        let failure = LedgerFailure { path: self.path.clone(), cause: format!("{e} ({name})"), code };
        let on_halt = self.on_halt.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(on_halt) = on_halt {
            on_halt(&failure);
        }
        tracing::warn!("{failure}: nothing more is written to it, and no new call is sent in this run");
        let _ = self.failure.set(failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.into()))
    }

    #[test]
    fn the_storage_halts_a_jobs_own_error_does_not() {
        let busy = failure(rusqlite::ffi::SQLITE_BUSY, "database is locked");
        let full = failure(rusqlite::ffi::SQLITE_FULL, "database or disk is full");
        let unique = failure(rusqlite::ffi::SQLITE_CONSTRAINT, "UNIQUE constraint failed: cache.key");
        assert_eq!(storage_code(&busy).map(|(_, name)| name), Some("SQLITE_BUSY"));
        assert_eq!(storage_code(&full).map(|(_, name)| name), Some("SQLITE_FULL"));
        assert_eq!(storage_code(&unique), None);
        assert_eq!(storage_code(&rusqlite::Error::QueryReturnedNoRows), None);

        let halt = Halt::new("l.db".into());
        halt.met(&busy, false);
        assert!(halt.failure().is_none(), "not armed: a ledger nobody told to halt keeps trying");
        let told = std::sync::Arc::new(Mutex::new(Vec::new()));
        let seen = told.clone();
        halt.arm(Box::new(move |f: &LedgerFailure| seen.lock().unwrap().push(f.to_string())));
        halt.met(&unique, false);
        assert!(halt.failure().is_none(), "one job's own error");
        halt.met(&full, false);
        halt.met(&busy, false);
        assert_eq!(*told.lock().unwrap(), ["the ledger l.db failed: database or disk is full (SQLITE_FULL)"]);
        let advice = halt.failure().unwrap().advice();
        assert_eq!(advice, (Some("its disk is full".into()), "free space on it".into()));
    }
}
