//! The ledger: one SQLite file that remembers tokens, media, tickets and every call (DESIGN §4).

#[derive(Debug, thiserror::Error)]
#[error("ledger: {0}")]
pub struct LedgerError(String);

impl LedgerError {
    pub fn is_locked(&self) -> bool {
        false
    }
}
