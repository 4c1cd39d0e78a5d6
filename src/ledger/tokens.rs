//! The token store: the one table where refresh tokens and cached access tokens live.
//!
//! Losing a refresh token is the most reported failure with these APIs, so every refresh
//! token is written here the moment it is known, and a rotated one replaces the old at once.

use futures::future::BoxFuture;
use rusqlite::{params, OptionalExtension};
use wechat_open::error::StoreError;
use wechat_open::tokens::{StoredTokens, TokenStore};

use super::{now_secs, Ledger, LedgerError, TicketKind};
use wechat_open::secret::Secret;

/// Whose token a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The third-party platform's component access token (no refresh token).
    Component,
    /// An authorizer: an official account or a mini-program.
    Authorizer,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Component => "component",
            TokenKind::Authorizer => "authorizer",
        }
    }
}

/// What `tokens list` shows: never the secrets themselves.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub appid: String,
    pub kind: String,
    pub has_refresh_token: bool,
    pub source: String,
    pub imported_at: i64,
    pub refreshed_at: Option<i64>,
    pub access_expires_at: Option<i64>,
}

/// An authorizer's cached access token with its expiry (Unix seconds), and its refresh token.
pub type AuthorizerTokens = (Option<(Secret, i64)>, Option<Secret>);

/// A token row's (access_token, access_expires_at, refresh_token), as [`AuthorizerTokens`].
fn authorizer_tokens_of((access, expires, refresh): (Option<String>, Option<i64>, Option<String>)) -> AuthorizerTokens {
    (access.zip(expires).map(|(a, e)| (Secret::new(a), e)), refresh.map(Secret::new))
}

impl Ledger {
    /// Stores (or replaces) the refresh token of an authorizer.
    pub async fn put_refresh_token(&self, appid: &str, refresh: &Secret, source: &str) -> Result<(), LedgerError> {
        self.put_refresh_tokens(vec![(appid.to_string(), refresh.clone())], source).await
    }

    /// Stores (or replaces) many refresh tokens in one write, each dated `stored_at`: a
    /// token imported, recovered, a registration's or pushed to `serve` may have fixed what
    /// blocked the account's steps, which are then tried again (`runner::due`).
    pub async fn put_refresh_tokens(&self, tokens: Vec<(String, Secret)>, source: &str) -> Result<(), LedgerError> {
        let source = source.to_string();
        // Durable: a lost refresh token is the most reported failure with these APIs.
        self.call_durable(move |c| {
            super::atomic(c, |c| {
                let mut stmt = c.prepare_cached(
                    "INSERT INTO tokens (appid, kind, refresh_token, source, imported_at, stored_at)
                     VALUES (?1, 'authorizer', ?2, ?3, ?4, ?5)
                     ON CONFLICT (appid) DO UPDATE SET
                        refresh_token = excluded.refresh_token, source = excluded.source,
                        stored_at = excluded.stored_at,
                        access_token = CASE WHEN tokens.refresh_token IS excluded.refresh_token
                                            THEN tokens.access_token END",
                )?;
                let (now, now_ms) = (now_secs(), super::now_millis());
                for (appid, refresh) in &tokens {
                    stmt.execute(params![appid, refresh.expose(), source, now, now_ms])?;
                }
                Ok(())
            })
        })
        .await
    }

    /// When each authorizer's refresh token was last stored from outside a token refresh
    /// (see [`Ledger::put_refresh_tokens`]), Unix ms, by appid: read once at a run's start.
    pub async fn tokens_stored_at(&self) -> Result<std::collections::HashMap<String, i64>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT appid, stored_at FROM tokens WHERE stored_at IS NOT NULL")?;
            let map = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(map)
        })
        .await
    }

    /// Authorizers whose refresh token was first stored by `time` (Unix seconds): the
    /// accounts wxprov already knew then.
    pub async fn known_before(&self, time: i64) -> Result<std::collections::HashSet<String>, LedgerError> {
        self.call(move |c| {
            let mut stmt = c.prepare("SELECT appid FROM tokens WHERE kind = 'authorizer' AND imported_at <= ?1")?;
            let set = stmt.query_map([time], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(set)
        })
        .await
    }

    /// The stored refresh token of an authorizer.
    pub async fn refresh_token(&self, appid: &str) -> Result<Option<Secret>, LedgerError> {
        let appid = appid.to_string();
        self.call(move |c| {
            let v: Option<Option<String>> =
                c.query_row("SELECT refresh_token FROM tokens WHERE appid = ?1", [appid], |r| r.get(0)).optional()?;
            Ok(v.flatten().map(Secret::new))
        })
        .await
    }

    /// Caches an access token (and, when WeChat rotated it, the new refresh token — then
    /// durably: it replaces the only way back to that account).
    pub async fn put_access_token(
        &self,
        appid: &str,
        kind: TokenKind,
        token: &Secret,
        expires_at: i64,
        new_refresh: Option<&Secret>,
    ) -> Result<(), LedgerError> {
        let job = put_access(appid, kind, token, expires_at, new_refresh);
        match new_refresh {
            Some(_) => self.call_durable(job).await,
            None => self.call(job).await,
        }
    }

    /// Caches an access token without waiting for the write: a lost one only costs a refresh.
    pub fn put_access_token_later(&self, appid: &str, kind: TokenKind, token: &Secret, expires_at: i64) {
        self.call_later(put_access(appid, kind, token, expires_at, None));
    }

    /// An authorizer's cached access token (with its expiry) and refresh token, in one read.
    pub async fn authorizer_tokens(&self, appid: &str) -> Result<AuthorizerTokens, LedgerError> {
        let appid = appid.to_string();
        self.call(move |c| {
            let row: Option<(Option<String>, Option<i64>, Option<String>)> = c
                .prepare_cached("SELECT access_token, access_expires_at, refresh_token FROM tokens WHERE appid = ?1")?
                .query_row([appid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(row.map(authorizer_tokens_of).unwrap_or_default())
        })
        .await
    }

    /// The tokens of these authorizers that the ledger holds, in one read.
    pub async fn authorizer_tokens_of(
        &self,
        appids: Vec<String>,
    ) -> Result<Vec<(String, AuthorizerTokens)>, LedgerError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT access_token, access_expires_at, refresh_token FROM tokens
                 WHERE appid = ?1 AND kind = 'authorizer'",
            )?;
            let mut some = Vec::with_capacity(appids.len());
            for appid in appids {
                let found = stmt
                    .query_row([&appid], |r| Ok(authorizer_tokens_of((r.get(0)?, r.get(1)?, r.get(2)?))))
                    .optional()?;
                if let Some(tokens) = found {
                    some.push((appid, tokens));
                }
            }
            Ok(some)
        })
        .await
    }

    /// Drops the cached access token, but only if it is still `failed` (another task may
    /// already have stored a fresh one).
    pub async fn drop_access_token_if(&self, appid: &str, failed: &Secret) -> Result<(), LedgerError> {
        let (appid, failed) = (appid.to_string(), failed.expose().to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE tokens SET access_token = NULL, access_expires_at = NULL
                 WHERE appid = ?1 AND access_token = ?2",
                params![appid, failed],
            )?;
            Ok(())
        })
        .await
    }

    /// Up to `limit` authorizers whose refresh token the ledger holds, in appid order.
    pub async fn refreshable_authorizers(&self, limit: usize) -> Result<Vec<String>, LedgerError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT appid FROM tokens WHERE kind = 'authorizer' AND refresh_token IS NOT NULL
                 ORDER BY appid LIMIT ?1",
            )?;
            let appids = stmt.query_map([limit], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(appids)
        })
        .await
    }

    /// Those of `appids` whose refresh token the ledger holds, in the order given, in one read.
    pub async fn refreshable_of(&self, appids: Vec<String>) -> Result<Vec<String>, LedgerError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT 1 FROM tokens WHERE appid = ?1 AND kind = 'authorizer' AND refresh_token IS NOT NULL",
            )?;
            let mut held = Vec::new();
            for appid in appids {
                if stmt.exists([&appid])? {
                    held.push(appid);
                }
            }
            Ok(held)
        })
        .await
    }

    /// Every stored token row, for `tokens list`.
    pub async fn token_rows(&self) -> Result<Vec<TokenRow>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT appid, kind, refresh_token IS NOT NULL, source, imported_at, refreshed_at, access_expires_at
                 FROM tokens ORDER BY kind, appid",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(TokenRow {
                        appid: r.get(0)?,
                        kind: r.get(1)?,
                        has_refresh_token: r.get(2)?,
                        source: r.get(3)?,
                        imported_at: r.get(4)?,
                        refreshed_at: r.get(5)?,
                        access_expires_at: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}

/// wechat-open's tokens live in the ledger's token table (verify tickets in its ticket table).
impl TokenStore for Ledger {
    fn tokens<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<StoredTokens, StoreError>> {
        Box::pin(async move { self.authorizer_tokens(appid).await.map(stored).map_err(StoreError::new) })
    }

    fn authorizer_tokens_of<'a>(
        &'a self,
        appids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, StoredTokens)>, StoreError>> {
        Box::pin(async move {
            let some = Ledger::authorizer_tokens_of(self, appids.to_vec()).await.map_err(StoreError::new)?;
            Ok(some.into_iter().map(|(appid, tokens)| (appid, stored(tokens))).collect())
        })
    }

    fn put_access_token<'a>(
        &'a self,
        appid: &'a str,
        kind: wechat_open::TokenKind,
        token: &'a Secret,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match kind {
                // Not awaited: a lost one only costs a refresh, and every authorizer's
                // first call would otherwise wait for a write.
                wechat_open::TokenKind::Authorizer => {
                    self.put_access_token_later(appid, TokenKind::Authorizer, token, expires_at);
                    Ok(())
                }
                wechat_open::TokenKind::Component | wechat_open::TokenKind::None => {
                    Ledger::put_access_token(self, appid, TokenKind::Component, token, expires_at, None)
                        .await
                        .map_err(StoreError::new)
                }
            }
        })
    }

    fn put_refresh_token<'a>(
        &'a self,
        appid: &'a str,
        refresh: &'a Secret,
        source: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ledger::put_refresh_token(self, appid, refresh, source).await.map_err(StoreError::new) })
    }

    fn put_rotated<'a>(
        &'a self,
        appid: &'a str,
        access: &'a Secret,
        expires_at: i64,
        refresh: &'a Secret,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            Ledger::put_access_token(self, appid, TokenKind::Authorizer, access, expires_at, Some(refresh))
                .await
                .map_err(StoreError::new)
        })
    }

    fn drop_access_token<'a>(&'a self, appid: &'a str, failed: &'a Secret) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.drop_access_token_if(appid, failed).await.map_err(StoreError::new) })
    }

    fn verify_ticket<'a>(
        &'a self,
        component_appid: &'a str,
        since: i64,
    ) -> BoxFuture<'a, Result<Option<Secret>, StoreError>> {
        Box::pin(async move {
            let ticket = self.newest_ticket(TicketKind::ComponentVerify, component_appid, since).await;
            ticket.map(|t| t.map(Secret::new)).map_err(StoreError::new)
        })
    }
}

/// [`AuthorizerTokens`] as wechat-open's [`StoredTokens`].
fn stored((access, refresh): AuthorizerTokens) -> StoredTokens {
    StoredTokens { access, refresh }
}

fn put_access(
    appid: &str,
    kind: TokenKind,
    token: &Secret,
    expires_at: i64,
    new_refresh: Option<&Secret>,
) -> impl FnOnce(&rusqlite::Connection) -> Result<(), LedgerError> + Send + 'static {
    let (appid, token) = (appid.to_string(), token.expose().to_string());
    let refresh = new_refresh.map(|r| r.expose().to_string());
    move |c| {
        c.prepare_cached(
            "INSERT INTO tokens (appid, kind, refresh_token, access_token, access_expires_at, source, imported_at, refreshed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'refresh', ?6, ?6)
             ON CONFLICT (appid) DO UPDATE SET
                access_token = excluded.access_token, access_expires_at = excluded.access_expires_at,
                refreshed_at = excluded.refreshed_at,
                refresh_token = COALESCE(excluded.refresh_token, tokens.refresh_token)",
        )?
        .execute(params![appid, kind.as_str(), refresh, token, expires_at, now_secs()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_and_drops_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let refresh = Secret::new("r1");
        ledger.put_refresh_token("wx0000000000000001", &refresh, "import").await.unwrap();
        assert_eq!(ledger.refresh_token("wx0000000000000001").await.unwrap(), Some(refresh));
        let stored = ledger.tokens_stored_at().await.unwrap()["wx0000000000000001"];
        let t1 = Secret::new("a1");
        ledger.put_access_token("wx0000000000000001", TokenKind::Authorizer, &t1, 100, None).await.unwrap();
        // Only the token that failed is dropped.
        ledger.drop_access_token_if("wx0000000000000001", &Secret::new("other")).await.unwrap();
        assert!(ledger.authorizer_tokens("wx0000000000000001").await.unwrap().0.is_some());
        ledger.drop_access_token_if("wx0000000000000001", &t1).await.unwrap();
        assert!(ledger.authorizer_tokens("wx0000000000000001").await.unwrap().0.is_none());
        // A rotated refresh token replaces the old one.
        ledger
            .put_access_token("wx0000000000000001", TokenKind::Authorizer, &t1, 100, Some(&Secret::new("r2")))
            .await
            .unwrap();
        assert_eq!(ledger.refresh_token("wx0000000000000001").await.unwrap(), Some(Secret::new("r2")));
        // A token refresh (rotation included) is not a token stored from outside.
        assert_eq!(ledger.tokens_stored_at().await.unwrap()["wx0000000000000001"], stored);
        // Storing one again is.
        std::thread::sleep(std::time::Duration::from_millis(2));
        ledger.put_refresh_token("wx0000000000000001", &Secret::new("r3"), "import").await.unwrap();
        assert!(ledger.tokens_stored_at().await.unwrap()["wx0000000000000001"] > stored);
        let rows = ledger.token_rows().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].has_refresh_token);
    }

    #[tokio::test]
    async fn finds_authorizers_it_can_refresh_without_reading_every_token() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        for appid in ["wx0000000000000003", "wx0000000000000001", "wx0000000000000002"] {
            ledger.put_refresh_token(appid, &Secret::new("r"), "import").await.unwrap();
        }
        // An access token alone (the component's, or an authorizer's from a token helper) is
        // not a refresh token.
        let t = Secret::new("a");
        ledger.put_access_token("wx0000000000000009", TokenKind::Authorizer, &t, 100, None).await.unwrap();
        ledger.put_access_token("wxcomponent0000001", TokenKind::Component, &t, 100, None).await.unwrap();
        assert_eq!(ledger.refreshable_authorizers(2).await.unwrap(), ["wx0000000000000001", "wx0000000000000002"]);
        assert_eq!(ledger.refreshable_authorizers(10).await.unwrap().len(), 3);
        let asked = ["wx0000000000000009", "wx0000000000000003", "wx0000000000000007", "wx0000000000000001"];
        assert_eq!(
            ledger.refreshable_of(asked.map(String::from).to_vec()).await.unwrap(),
            ["wx0000000000000003", "wx0000000000000001"]
        );
    }
}
