//! Why a simulator could not be set up: its fixture, its state file, its port.
//!
//! Callers tell a mistake in what they gave (a fixture, a state file: a usage error for a
//! command line) from a machine's failure (a port taken), so each is its own variant. The
//! text names the file and says what to do; it holds no credential (the fixture's secrets are
//! never quoted).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a [`Fixture`](crate::Fixture) could not be read or a simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The fixture file could not be read.
    #[error("cannot read sim fixture {}: {error}", path.display())]
    FixtureUnreadable {
        /// The fixture file.
        path: PathBuf,
        /// What reading it answered.
        error: std::io::Error,
    },
    /// The fixture is not JSON of the fixture's shape, or breaks one of its rules (an appid
    /// twice, a ticket naming an unknown account…).
    #[error("{}{reason}", path.as_ref().map(|p| format!("bad sim fixture {}: ", p.display())).unwrap_or_default())]
    BadFixture {
        /// The fixture file, when it came from one.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
    /// The state file exists but could not be read.
    #[error("cannot read the simulator's state file {}: {error}", path.display())]
    StateUnreadable {
        /// The state file.
        path: PathBuf,
        /// What reading it answered.
        error: std::io::Error,
    },
    /// The state file is not one this simulator wrote for this fixture's platform.
    #[error(
        "the simulator's state file {} is not usable; delete it to start the simulator over from its fixture: {reason}",
        path.display()
    )]
    StateUnusable {
        /// The state file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The state file could not be written (at start, its folder is checked this way).
    #[error("cannot write the simulator's state file {}: {error}", path.display())]
    StateUnwritable {
        /// The state file.
        path: PathBuf,
        /// What writing it answered.
        error: std::io::Error,
    },
    /// The address to listen on could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What binding it answered.
        error: std::io::Error,
    },
    /// The HTTP client that follows redirects and sends pushes could not be built.
    #[error("the simulator's HTTP client could not be built: {0}")]
    HttpClient(String),
}
