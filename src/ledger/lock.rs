//! One run at a time: a run holds an exclusive OS lock on `LEDGER.lock` for its whole life.
//! The operating system releases it when the process ends, however it ends (kill -9
//! included), so a crashed run never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::LedgerError;

/// Held while a run works on the ledger; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

/// `LEDGER.lock`.
fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RunLock {
    /// True when a process holds the lock next to `ledger` now: how `status` tells a run that
    /// is still going from one whose process died. Creates nothing; the lock is taken and let
    /// go at once when free (a run starting in that instant would be told to wait, exit 5).
    pub fn is_held(ledger: &Path) -> bool {
        let Ok(file) = File::open(lock_path(ledger)) else { return false };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// Takes the lock next to `ledger`, or fails with [`LedgerError::Locked`] (exit 5).
    pub fn acquire(ledger: &Path) -> Result<RunLock, LedgerError> {
        let path = lock_path(ledger);
        let shown = ledger.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| LedgerError::Open { path: path.display().to_string(), reason: e.to_string() })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(LedgerError::Locked { path: shown }),
            Err(TryLockError::Error(e)) => {
                Err(LedgerError::Open { path: path.display().to_string(), reason: e.to_string() })
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("l.db");
        assert!(!RunLock::is_held(&ledger), "no lock file yet");
        let first = RunLock::acquire(&ledger).unwrap();
        assert!(RunLock::is_held(&ledger));
        let err = RunLock::acquire(&ledger).unwrap_err();
        assert!(err.is_locked(), "{err}");
        drop(first);
        assert!(!RunLock::is_held(&ledger));
        RunLock::acquire(&ledger).unwrap();
    }
}
