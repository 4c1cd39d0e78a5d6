//! The ledger's schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Each migration moves the schema one version up inside a transaction; existing data is
//! kept. A ledger newer than this binary is refused rather than misread.

use rusqlite::Connection;

use super::LedgerError;

/// The schema version this binary writes.
pub const VERSION: i64 = 1;

const MIGRATIONS: &[&str] = &[
    // 1: tokens, media, tickets, the call log and a small cache.
    r#"
    CREATE TABLE tokens (
        appid             TEXT PRIMARY KEY,
        kind              TEXT NOT NULL CHECK (kind IN ('component', 'authorizer')),
        refresh_token     TEXT,
        access_token      TEXT,
        access_expires_at INTEGER,
        source            TEXT NOT NULL,
        imported_at       INTEGER NOT NULL,
        refreshed_at      INTEGER
    );
    CREATE TABLE media (
        sha256     TEXT NOT NULL,
        appid      TEXT NOT NULL,
        media_id   TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (sha256, appid)
    );
    CREATE TABLE tickets (
        kind        TEXT NOT NULL,
        account     TEXT NOT NULL,
        value       TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        used_at     INTEGER,
        PRIMARY KEY (kind, account, value)
    );
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        at_ms       INTEGER NOT NULL,
        run_id      TEXT,
        appid       TEXT,
        api         TEXT NOT NULL,
        errcode     INTEGER,
        duration_ms INTEGER NOT NULL,
        outcome     TEXT NOT NULL
    );
    CREATE INDEX events_run ON events (run_id);
    CREATE TABLE cache (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    );
    "#,
];

/// Brings the schema up to [`VERSION`].
pub fn migrate(conn: &mut Connection, shown_path: &str) -> Result<(), LedgerError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(LedgerError::TooNew { path: shown_path.to_string(), found, known: VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
