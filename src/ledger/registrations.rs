//! Fast registrations: each `fastregister` sent, with its ticket, and what came back. The
//! new appid and authorization code are written here the moment they arrive, before
//! anything else, so a crash between `fastregister` and `api_query_auth` loses nothing.

use rusqlite::{params, OptionalExtension};

use super::{now_secs, Ledger, LedgerError};

/// One `fastregister` attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub official_appid: String,
    pub ticket: String,
    pub appid: Option<String>,
    pub authorization_code: Option<String>,
    pub sent_at: i64,
    pub registered_at: Option<i64>,
    pub exchanged_at: Option<i64>,
}

const COLUMNS: &str = "official_appid, ticket, appid, authorization_code, sent_at, registered_at, exchanged_at";

fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Registration> {
    Ok(Registration {
        official_appid: r.get(0)?,
        ticket: r.get(1)?,
        appid: r.get(2)?,
        authorization_code: r.get(3)?,
        sent_at: r.get(4)?,
        registered_at: r.get(5)?,
        exchanged_at: r.get(6)?,
    })
}

impl Ledger {
    /// The newest registration attempt for an official account.
    pub async fn latest_registration(&self, official_appid: &str) -> Result<Option<Registration>, LedgerError> {
        let official = official_appid.to_string();
        self.call(move |c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM registrations WHERE official_appid = ?1 ORDER BY sent_at DESC LIMIT 1"),
                [official],
                from_sql,
            )
            .optional()?)
        })
        .await
    }

    /// Records that `fastregister` is about to be sent with `ticket`.
    pub async fn registration_sent(&self, official_appid: &str, ticket: &str) -> Result<(), LedgerError> {
        let (official, ticket) = (official_appid.to_string(), ticket.to_string());
        self.call_durable(move |c| {
            c.execute(
                "INSERT INTO registrations (official_appid, ticket, sent_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (official_appid, ticket) DO UPDATE SET sent_at = excluded.sent_at",
                params![official, ticket, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    /// Records the new mini-program (and its code, when known) of a registration.
    pub async fn registration_result(
        &self,
        official_appid: &str,
        ticket: &str,
        appid: &str,
        code: Option<&str>,
    ) -> Result<(), LedgerError> {
        let (official, ticket, appid) = (official_appid.to_string(), ticket.to_string(), appid.to_string());
        let code = code.map(str::to_string);
        self.call_durable(move |c| {
            c.execute(
                "UPDATE registrations SET appid = ?3, authorization_code = ?4, registered_at = ?5
                 WHERE official_appid = ?1 AND ticket = ?2",
                params![official, ticket, appid, code, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    /// Records that the authorization code was exchanged for a refresh token (and forgets it).
    pub async fn registration_exchanged(&self, official_appid: &str, ticket: &str) -> Result<(), LedgerError> {
        let (official, ticket) = (official_appid.to_string(), ticket.to_string());
        self.call_durable(move |c| {
            c.execute(
                "UPDATE registrations SET exchanged_at = ?3, authorization_code = NULL
                 WHERE official_appid = ?1 AND ticket = ?2",
                params![official, ticket, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    /// Forgets an attempt that created nothing (WeChat refused it, or reconciling found
    /// nothing), so it is not taken as in flight.
    pub async fn registration_failed(&self, official_appid: &str, ticket: &str) -> Result<(), LedgerError> {
        let (official, ticket) = (official_appid.to_string(), ticket.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM registrations WHERE official_appid = ?1 AND ticket = ?2 AND appid IS NULL",
                params![official, ticket],
            )?;
            Ok(())
        })
        .await
    }

    /// How many mini-programs an official account registered since `since` (Unix seconds).
    pub async fn registrations_since(&self, official_appid: &str, since: i64) -> Result<i64, LedgerError> {
        let official = official_appid.to_string();
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM registrations WHERE official_appid = ?1 AND registered_at >= ?2",
                params![official, since],
                |r| r.get(0),
            )?)
        })
        .await
    }
}
