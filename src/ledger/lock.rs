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

impl RunLock {
    /// Takes the lock next to `ledger`, or fails with [`LedgerError::Locked`] (exit 5).
    pub fn acquire(ledger: &Path) -> Result<RunLock, LedgerError> {
        let mut name = ledger.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
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
        let first = RunLock::acquire(&ledger).unwrap();
        let err = RunLock::acquire(&ledger).unwrap_err();
        assert!(err.is_locked(), "{err}");
        drop(first);
        RunLock::acquire(&ledger).unwrap();
    }
}
