//! Exit codes, as DESIGN §6 fixes them, and the error type that carries one to `main`.
//!
//! Cron acts on these codes, so each failure path names the code it ends with instead of
//! letting `main` guess from an error's text.

use std::fmt;

/// The process exit codes of DESIGN §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing needs a person now.
    Ok = 0,
    /// The run could not proceed: configuration, ledger, component credentials.
    Failure = 1,
    /// Usage: bad flags, unreadable job or manifest header, a command not there yet.
    Usage = 2,
    /// Some rows need a person.
    NeedsPerson = 3,
    /// Some rows were deferred; a later run will continue.
    Deferred = 4,
    /// Another run holds the ledger.
    Locked = 5,
    /// Interrupted by SIGINT: the reports were written and say so.
    Interrupted = 130,
    /// Interrupted by SIGTERM: the reports were written and say so.
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error meant for the person at the terminal, with the exit code it ends the process with.
///
/// Wrap any user-facing failure in this (via [`fail`] or [`usage`]) so that `main` prints a
/// sentence, not a backtrace, and exits with the right code.
#[derive(Debug)]
pub struct UserError {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// A usage error (exit 2): bad flags, an unreadable job file or manifest header.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UserError { exit: Exit::Usage, message: message.into() }.into()
}

/// A failure that stops the run (exit 1): configuration, ledger, credentials.
pub fn fail(message: impl Into<String>) -> anyhow::Error {
    UserError { exit: Exit::Failure, message: message.into() }.into()
}

/// The exit code an error ends the process with: the one it carries, else 1.
pub fn exit_of(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(user) = cause.downcast_ref::<UserError>() {
            return user.exit;
        }
        if let Some(ledger) = cause.downcast_ref::<crate::ledger::LedgerError>() {
            if ledger.is_locked() {
                return Exit::Locked;
            }
        }
    }
    Exit::Failure
}
