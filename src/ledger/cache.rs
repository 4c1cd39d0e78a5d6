//! A small key-value cache for answers that change rarely (the category tree).

use rusqlite::{params, OptionalExtension};

use super::{now_secs, Ledger, LedgerError};

impl Ledger {
    /// The cached value under `key`, if stored no earlier than `min_fetched_at`.
    pub async fn cache_get(&self, key: &str, min_fetched_at: i64) -> Result<Option<String>, LedgerError> {
        let key = key.to_string();
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT value FROM cache WHERE key = ?1 AND fetched_at >= ?2",
                params![key, min_fetched_at],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    /// Stores `value` under `key`, stamped now.
    pub async fn cache_put(&self, key: &str, value: &str) -> Result<(), LedgerError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO cache (key, value, fetched_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at",
                params![key, value, now_secs()],
            )?;
            Ok(())
        })
        .await
    }
}
