//! The key of the HMAC `state` in the links merchants open (DESIGN §7): `links` signs each
//! `redirect_uri` with it and `serve` verifies the `state` that comes back, so that only a
//! link this platform made can store a ticket or taskid. One random 32-byte key per ledger,
//! created on first use by whichever command needs it first; never shown or logged.

use rusqlite::OptionalExtension;

use super::{now_secs, Ledger, LedgerError};

/// The key's length in bytes (HMAC-SHA256's block-sized key would be longer; 32 is its output).
pub const LINK_KEY_LEN: usize = 32;

impl Ledger {
    /// The ledger's link key, created (from the OS's random source) if it has none yet.
    pub async fn link_key(&self) -> Result<[u8; LINK_KEY_LEN], LedgerError> {
        let fresh: [u8; LINK_KEY_LEN] = rand::random();
        self.call_durable(move |c| {
            // Two processes creating it at once: the first insert wins, both read the same.
            c.execute(
                "INSERT OR IGNORE INTO link_key (id, key, created_at) VALUES (1, ?1, ?2)",
                rusqlite::params![fresh.as_slice(), now_secs()],
            )?;
            let key: Option<Vec<u8>> =
                c.query_row("SELECT key FROM link_key WHERE id = 1", [], |r| r.get(0)).optional()?;
            let key = key.unwrap_or_default();
            key.try_into().map_err(|_| LedgerError::BadLinkKey)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let first = Ledger::open(&path).unwrap().link_key().await.unwrap();
        let again = Ledger::open(&path).unwrap().link_key().await.unwrap();
        assert_eq!(first, again);
        let other = Ledger::open(&dir.path().join("other.db")).unwrap().link_key().await.unwrap();
        assert_ne!(first, other, "each ledger has its own key");
    }
}
