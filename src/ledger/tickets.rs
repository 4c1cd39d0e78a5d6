//! Tickets and task ids that arrive by callback: the component verify ticket, the
//! fastregister ticket of an official account's scan, the admin-rebind taskid.

use rusqlite::{params, OptionalExtension};

use super::{now_secs, Ledger, LedgerError};

/// Which kind of ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    /// `component_verify_ticket`, pushed every 10 minutes; lives 12 hours.
    ComponentVerify,
    /// The ticket of an official account admin's scan, for `fastregister`.
    FastRegister,
    /// The taskid of an admin rebind, for `componentrebindadmin`.
    Rebind,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::ComponentVerify => "component_verify_ticket",
            TicketKind::FastRegister => "fastregister",
            TicketKind::Rebind => "rebind",
        }
    }
}

impl Ledger {
    /// Stores a ticket received for `account`.
    pub async fn put_ticket(&self, kind: TicketKind, account: &str, value: &str) -> Result<(), LedgerError> {
        let (account, value) = (account.to_string(), value.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO tickets (kind, account, value, received_at) VALUES (?1, ?2, ?3, ?4)",
                params![kind.as_str(), account, value, now_secs()],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest unused ticket of `kind` for `account`, received no earlier than `since`.
    pub async fn newest_ticket(
        &self,
        kind: TicketKind,
        account: &str,
        since: i64,
    ) -> Result<Option<String>, LedgerError> {
        let account = account.to_string();
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT value FROM tickets WHERE kind = ?1 AND account = ?2 AND used_at IS NULL AND received_at >= ?3
                 ORDER BY received_at DESC, rowid DESC LIMIT 1",
                params![kind.as_str(), account, since],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    /// Marks a ticket used, so it is never sent again.
    pub async fn use_ticket(&self, kind: TicketKind, account: &str, value: &str) -> Result<(), LedgerError> {
        let (account, value) = (account.to_string(), value.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE tickets SET used_at = ?4 WHERE kind = ?1 AND account = ?2 AND value = ?3",
                params![kind.as_str(), account, value, now_secs()],
            )?;
            Ok(())
        })
        .await
    }
}
