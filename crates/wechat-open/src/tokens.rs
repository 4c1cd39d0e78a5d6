//! Tokens: the component access token and every authorizer's access token, kept in a
//! [`TokenStore`] the caller provides ([`MemoryStore`] in memory; a tool keeps them in its
//! database).
//!
//! The component token comes from the app secret and the verify ticket WeChat pushes every
//! ten minutes; an authorizer's from its refresh token. Both live about two hours and are
//! cached in memory and in the store, refreshed a safety margin before they expire. One
//! refresh at a time per appid: tasks that need the same token while it is being refreshed
//! wait for that refresh instead of starting their own (otherwise each would invalidate the
//! token the previous one got). A token WeChat rejects is dropped only if it is still the
//! cached one, so a burst of failures causes one refresh, not a storm. A refresh token WeChat
//! rotates replaces the stored one before the new access token is used.
//!
//! A platform that already runs a token service hands its tokens in through a
//! [`TokenSource`]; they are then never refreshed here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::api::{ApiAuthorizerToken, ApiComponentToken, Endpoint};
use crate::calls::CallLog;
use crate::client::Client;
use crate::errcode::ErrClass;
use crate::error::{ApiError, Credential, StoreError};
use crate::secret::Secret;
use crate::TokenKind;

/// Refresh this long before a token expires.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How long a verify ticket lives (12 h).
pub const VERIFY_TICKET_TTL_SECS: i64 = 12 * 3600;

/// What a store holds for one account: its cached access token with the time it is to be
/// refreshed by (Unix seconds), and its refresh token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTokens {
    /// The cached access token and its refresh deadline.
    pub access: Option<(Secret, i64)>,
    /// The refresh token (authorizers only).
    pub refresh: Option<Secret>,
}

/// Where tokens are kept between calls and runs. Losing a refresh token loses the account,
/// so a store writes one durably before it answers `Ok`.
pub trait TokenStore: Send + Sync {
    /// What is stored for `appid` (an authorizer, or the component's own appid).
    fn tokens<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<StoredTokens, StoreError>>;

    /// What is stored for each of these authorizers that has a refresh token, in one go (a
    /// run reads a batch of rows' tokens at once).
    fn authorizer_tokens_of<'a>(
        &'a self,
        appids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, StoredTokens)>, StoreError>>;

    /// Caches an access token of `kind` until `expires_at` (Unix seconds). A lost one only
    /// costs a refresh: a store may write it later.
    fn put_access_token<'a>(
        &'a self,
        appid: &'a str,
        kind: TokenKind,
        token: &'a Secret,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Stores an authorizer's new refresh token (an authorization's, an imported one),
    /// replacing any other and the access token cached with it; `source` says where it came
    /// from.
    fn put_refresh_token<'a>(
        &'a self,
        appid: &'a str,
        refresh: &'a Secret,
        source: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Stores what a refresh that rotated the refresh token gave: the access token and the
    /// new refresh token, together (durably: the old refresh token no longer works).
    fn put_rotated<'a>(
        &'a self,
        appid: &'a str,
        access: &'a Secret,
        expires_at: i64,
        refresh: &'a Secret,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Drops the cached access token of `appid`, but only if it is still `failed` (another
    /// task may already have stored a fresh one).
    fn drop_access_token<'a>(&'a self, appid: &'a str, failed: &'a Secret) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The newest `component_verify_ticket` WeChat pushed for `component_appid` at or after
    /// `since` (Unix seconds).
    fn verify_ticket<'a>(
        &'a self,
        component_appid: &'a str,
        since: i64,
    ) -> BoxFuture<'a, Result<Option<Secret>, StoreError>>;
}

/// A token service outside: hands out the access token of an authorizer (or, for
/// [`TokenKind::Component`], the component's) with its lifetime in seconds.
pub trait TokenSource: Send + Sync {
    /// The token and how many seconds it lives. A failure for the component stops the run
    /// (it is turned into [`ApiError::Setup`]).
    fn token<'a>(&'a self, appid: &'a str, kind: TokenKind) -> BoxFuture<'a, Result<(Secret, i64), ApiError>>;
}

/// A [`TokenStore`] in memory, for tools and tests that keep no state between runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, StoredTokens>>,
    /// Verify tickets as pushed: (when, component appid, ticket).
    tickets: Mutex<Vec<(i64, String, Secret)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Records a `component_verify_ticket` WeChat pushed for `component_appid` now.
    pub fn put_verify_ticket(&self, component_appid: &str, ticket: Secret) {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        tickets.push((now_secs(), component_appid.to_string(), ticket));
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, StoredTokens>) -> T) -> T {
        f(&mut self.tokens.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl TokenStore for MemoryStore {
    fn tokens<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<StoredTokens, StoreError>> {
        let stored = self.with(|all| all.get(appid).cloned().unwrap_or_default());
        Box::pin(std::future::ready(Ok(stored)))
    }

    fn authorizer_tokens_of<'a>(
        &'a self,
        appids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, StoredTokens)>, StoreError>> {
        // Only authorizers have refresh tokens.
        let some = self.with(|all| {
            appids
                .iter()
                .filter_map(|a| all.get(a).filter(|t| t.refresh.is_some()).map(|t| (a.clone(), t.clone())))
                .collect()
        });
        Box::pin(std::future::ready(Ok(some)))
    }

    fn put_access_token<'a>(
        &'a self,
        appid: &'a str,
        _kind: TokenKind,
        token: &'a Secret,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|all| all.entry(appid.to_string()).or_default().access = Some((token.clone(), expires_at)));
        Box::pin(std::future::ready(Ok(())))
    }

    fn put_refresh_token<'a>(
        &'a self,
        appid: &'a str,
        refresh: &'a Secret,
        _source: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|all| {
            let entry = all.entry(appid.to_string()).or_default();
            // Another refresh token: the access token cached with the old one goes.
            if entry.refresh.as_ref() != Some(refresh) {
                entry.access = None;
            }
            entry.refresh = Some(refresh.clone());
        });
        Box::pin(std::future::ready(Ok(())))
    }

    fn put_rotated<'a>(
        &'a self,
        appid: &'a str,
        access: &'a Secret,
        expires_at: i64,
        refresh: &'a Secret,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|all| {
            all.insert(
                appid.to_string(),
                StoredTokens { access: Some((access.clone(), expires_at)), refresh: Some(refresh.clone()) },
            )
        });
        Box::pin(std::future::ready(Ok(())))
    }

    fn drop_access_token<'a>(&'a self, appid: &'a str, failed: &'a Secret) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|all| {
            if let Some(entry) = all.get_mut(appid).filter(|e| e.access.as_ref().is_some_and(|(t, _)| t == failed)) {
                entry.access = None;
            }
        });
        Box::pin(std::future::ready(Ok(())))
    }

    fn verify_ticket<'a>(
        &'a self,
        component_appid: &'a str,
        since: i64,
    ) -> BoxFuture<'a, Result<Option<Secret>, StoreError>> {
        let tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let newest = tickets.iter().rev().find(|(at, appid, _)| *at >= since && appid == component_appid);
        Box::pin(std::future::ready(Ok(newest.map(|(_, _, t)| t.clone()))))
    }
}

/// The third-party platform's identity and secrets.
#[derive(Debug, Clone, Default)]
pub struct ComponentCreds {
    /// The platform's appid.
    pub appid: String,
    /// Its app secret.
    pub secret: Option<Secret>,
    /// A verify ticket to use when the store holds none from the last 12 hours (a ticket's
    /// life).
    pub verify_ticket: Option<Secret>,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    expires_at: i64,
}

/// How many appids' tokens [`Tokens`] keeps in memory (and how many preloaded): beyond it,
/// one is let go (and read back from the store when needed again).
pub const CACHED: usize = 4096;

/// Inserts into a map kept to [`CACHED`] entries: when full, another entry than `keep`'s
/// goes first.
fn insert_bounded<V>(map: &mut HashMap<String, V>, key: String, value: V, keep: &str) {
    if map.len() >= CACHED && !map.contains_key(&key) {
        if let Some(gone) = map.keys().find(|k| k.as_str() != keep).cloned() {
            map.remove(&gone);
        }
    }
    map.insert(key, value);
}

/// The token for every call: cached, refreshed when due, stored in a [`TokenStore`].
pub struct Tokens {
    client: Client,
    store: Arc<dyn TokenStore>,
    creds: ComponentCreds,
    source: Option<Arc<dyn TokenSource>>,
    calls: CallLog,
    /// The tokens in hand, at most [`CACHED`] appids (the component's among them): a run of a
    /// million rows would otherwise hold a million tokens; the store has every one.
    cache: Mutex<HashMap<String, Cached>>,
    /// What the store held for the authorizers of the rows about to be worked on
    /// ([`Tokens::preload`]): read once for a batch instead of once per appid, and used at
    /// most once — afterwards, for an appid not in it, and once a token of that appid was
    /// rejected, the store is asked. At most [`CACHED`] appids.
    preloaded: Mutex<HashMap<String, StoredTokens>>,
    /// One lock per appid being fetched, dropped once nobody holds it.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    refreshes: AtomicU64,
}

impl Tokens {
    /// Tokens of the platform `creds` names, kept in `store`; the refresh calls go through
    /// `client` and `calls`.
    pub fn new(client: Client, store: Arc<dyn TokenStore>, creds: ComponentCreds, calls: CallLog) -> Tokens {
        Tokens {
            client,
            store,
            creds,
            source: None,
            calls,
            cache: Mutex::new(HashMap::new()),
            preloaded: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Takes every token from `source` instead of refreshing it here.
    #[must_use]
    pub fn with_source(mut self, source: Arc<dyn TokenSource>) -> Tokens {
        self.source = Some(source);
        self
    }

    /// The platform's appid.
    pub fn component_appid(&self) -> &str {
        &self.creds.appid
    }

    /// How many tokens were fetched (from WeChat or the source).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Reads these authorizers' tokens from the store in one go, so the first call for each
    /// appid does not wait for a read of its own.
    pub async fn preload(&self, appids: &[String]) -> Result<(), ApiError> {
        let some = self.store.authorizer_tokens_of(appids).await?;
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let mut preloaded = self.preloaded.lock().unwrap_or_else(|e| e.into_inner());
        // A token already in memory is newer than (or the same as) the store's.
        for (appid, tokens) in some.into_iter().filter(|(appid, _)| !cache.contains_key(appid)) {
            insert_bounded(&mut preloaded, appid, tokens, "");
        }
        Ok(())
    }

    /// Stores an authorizer's refresh token (an authorization's, a recovered one) and forgets
    /// what is held in memory for that appid, so its next token comes from the new one.
    pub async fn store_refresh_token(&self, appid: &str, refresh: &Secret, source: &str) -> Result<(), ApiError> {
        self.store.put_refresh_token(appid, refresh, source).await?;
        self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        Ok(())
    }

    /// The component access token.
    pub async fn component(&self) -> Result<Secret, ApiError> {
        if self.creds.appid.is_empty() {
            return Err(ApiError::NotConfigured(Credential::ComponentAppid));
        }
        let key = self.creds.appid.clone();
        self.get(&key, TokenKind::Component).await
    }

    /// The access token of an authorizer (an official account or a mini-program).
    pub async fn authorizer(&self, appid: &str) -> Result<Secret, ApiError> {
        self.get(appid, TokenKind::Authorizer).await
    }

    /// Runs `call` with the access token of `appid` (the component's own when `None`); after
    /// a token error (40001, 40014, 42001…, [`ErrClass::Token`]) drops that token if it is
    /// still the cached one, gets a fresh one and runs `call` once more.
    pub async fn with_token<T, F, Fut>(&self, appid: Option<&str>, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut retried = false;
        loop {
            let token = match appid {
                Some(appid) => self.authorizer(appid).await?,
                None => self.component().await?,
            };
            match call(token.clone()).await {
                Err(e) if e.class() == ErrClass::Token && !retried => {
                    retried = true;
                    match appid {
                        Some(appid) => self.invalidate(appid, &token).await,
                        None => self.invalidate_component(&token).await,
                    }
                }
                other => return other,
            }
        }
    }

    /// Forgets `failed` for `appid` if it is still the cached token, so the next request
    /// refreshes it; a token another task has already replaced is left alone.
    pub async fn invalidate(&self, appid: &str, failed: &Secret) {
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.get(appid).is_some_and(|c| &c.token == failed) {
                cache.remove(appid);
            }
        }
        self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(appid);
        if let Err(e) = self.store.drop_access_token(appid, failed).await {
            tracing::warn!("could not drop a rejected token from the token store: {e}");
        }
    }

    /// Invalidates the component token after a token-class error.
    pub async fn invalidate_component(&self, failed: &Secret) {
        let key = self.creds.appid.clone();
        self.invalidate(&key, failed).await;
    }

    fn fresh(&self, key: &str) -> Option<Secret> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).filter(|c| is_fresh(c.expires_at)).map(|c| c.token.clone())
    }

    async fn get(&self, key: &str, kind: TokenKind) -> Result<Secret, ApiError> {
        if let Some(token) = self.fresh(key) {
            return Ok(token);
        }
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(key.to_string()).or_default().clone()
        };
        let guard = lock.lock().await;
        let got = self.get_locked(key, kind).await;
        drop(guard);
        // Nobody else waits for this appid (clones are only taken under the map's lock):
        // its lock goes, or a million appids would leave a million locks.
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::strong_count(&lock) == 2 && locks.get(key).is_some_and(|l| Arc::ptr_eq(l, &lock)) {
            locks.remove(key);
        }
        got
    }

    /// [`Tokens::get`] with the appid's lock held.
    async fn get_locked(&self, key: &str, kind: TokenKind) -> Result<Secret, ApiError> {
        // Whoever held the lock before may have refreshed it already.
        if let Some(token) = self.fresh(key) {
            return Ok(token);
        }
        // One read for both: the cached access token, and the refresh token to renew it.
        let preloaded = self.preloaded.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        let stored = match preloaded {
            Some(tokens) => tokens,
            None => self.store.tokens(key).await?,
        };
        if let Some((token, expires_at)) = stored.access.filter(|(_, e)| is_fresh(*e)) {
            self.remember(key, &token, expires_at);
            return Ok(token);
        }
        let (token, expires_at) = match &self.source {
            Some(source) => {
                let (token, expires_in) = source.token(key, kind).await.map_err(|e| match (kind, e) {
                    // The component's token service failing stops the run like a missing secret.
                    (TokenKind::Component, ApiError::Token(message)) => ApiError::Setup(message),
                    (_, e) => e,
                })?;
                (token, refresh_deadline(expires_in))
            }
            None if kind == TokenKind::Authorizer => self.fetch_authorizer(key, stored.refresh).await?,
            None => self.fetch_component().await?,
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        self.remember(key, &token, expires_at);
        Ok(token)
    }

    fn remember(&self, key: &str, token: &Secret, expires_at: i64) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        insert_bounded(&mut cache, key.to_string(), Cached { token: token.clone(), expires_at }, &self.creds.appid);
    }

    async fn fetch_component(&self) -> Result<(Secret, i64), ApiError> {
        let secret = self.creds.secret.clone().ok_or(ApiError::NotConfigured(Credential::ComponentSecret))?;
        // The newest ticket the store holds wins while it lives (12 h); the configured one,
        // which carries no time, is the fallback.
        let since = now_secs() - VERIFY_TICKET_TTL_SECS;
        let stored = self.store.verify_ticket(&self.creds.appid, since).await?;
        let ticket = stored
            .or_else(|| self.creds.verify_ticket.clone())
            .ok_or(ApiError::NotConfigured(Credential::VerifyTicket))?;
        let req = ApiComponentToken {
            component_appid: self.creds.appid.clone(),
            component_appsecret: secret,
            component_verify_ticket: ticket,
        };
        let path = ApiComponentToken::PATH;
        let got = self
            .calls
            .send(Some(&self.creds.appid), path, 0, ApiComponentToken::TOKEN, false, || self.client.call(None, &req))
            .await?;
        let expires_at = refresh_deadline(got.expires_in);
        self.store
            .put_access_token(&self.creds.appid, TokenKind::Component, &got.component_access_token, expires_at)
            .await?;
        Ok((got.component_access_token, expires_at))
    }

    async fn fetch_authorizer(&self, appid: &str, refresh: Option<Secret>) -> Result<(Secret, i64), ApiError> {
        let refresh = refresh.ok_or_else(|| ApiError::NoRefreshToken { appid: appid.to_string() })?;
        let req = ApiAuthorizerToken {
            component_appid: self.creds.appid.clone(),
            authorizer_appid: appid.to_string(),
            authorizer_refresh_token: refresh,
        };
        let (path, req) = (ApiAuthorizerToken::PATH, &req);
        // Boxed: fetching an authorizer token may first fetch the component token.
        let got = Box::pin(self.with_token(None, |component| async move {
            let call = || self.client.call(Some(&component), req);
            self.calls.send(Some(appid), path, 0, ApiAuthorizerToken::TOKEN, false, call).await
        }))
        .await?;
        let expires_at = refresh_deadline(got.expires_in);
        let rotated = got.authorizer_refresh_token.as_ref().filter(|r| *r != &req.authorizer_refresh_token);
        match rotated {
            // A new refresh token replaces the old one before anything else.
            Some(new) => self.store.put_rotated(appid, &got.authorizer_access_token, expires_at, new).await?,
            None => {
                self.store
                    .put_access_token(appid, TokenKind::Authorizer, &got.authorizer_access_token, expires_at)
                    .await?;
            }
        }
        Ok((got.authorizer_access_token, expires_at))
    }
}

/// When a token that lives `expires_in` seconds from now should be refreshed: the safety
/// margin before its expiry, or half its life for short-lived tokens. This is what the cache
/// and the store keep as the token's expiry.
fn refresh_deadline(expires_in: i64) -> i64 {
    let ttl = if expires_in > 0 { expires_in } else { 7200 };
    now_secs() + ttl - (REFRESH_MARGIN.as_secs().cast_signed()).min(ttl / 2)
}

fn is_fresh(deadline: i64) -> bool {
    deadline > now_secs()
}

/// Unix seconds now.
fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_store_keeps_what_a_ledger_would() {
        let store = MemoryStore::new();
        let (appid, r1, a1) = ("wx1111111111111111", Secret::new("r1"), Secret::new("a1"));
        store.put_refresh_token(appid, &r1, "import").await.unwrap();
        store.put_access_token(appid, TokenKind::Authorizer, &a1, 100).await.unwrap();
        assert_eq!(
            store.tokens(appid).await.unwrap(),
            StoredTokens { access: Some((a1.clone(), 100)), refresh: Some(r1.clone()) }
        );
        // Only the token that failed is dropped.
        store.drop_access_token(appid, &Secret::new("other")).await.unwrap();
        assert!(store.tokens(appid).await.unwrap().access.is_some());
        store.drop_access_token(appid, &a1).await.unwrap();
        assert!(store.tokens(appid).await.unwrap().access.is_none());
        // A rotation replaces both; another refresh token drops the access token.
        store.put_rotated(appid, &a1, 200, &Secret::new("r2")).await.unwrap();
        assert_eq!(store.tokens(appid).await.unwrap().refresh, Some(Secret::new("r2")));
        store.put_refresh_token(appid, &Secret::new("r3"), "import").await.unwrap();
        assert_eq!(store.tokens(appid).await.unwrap(), StoredTokens { access: None, refresh: Some(Secret::new("r3")) });
        // The component's own token is no authorizer's.
        store.put_access_token("wx2222222222222222", TokenKind::Component, &a1, 100).await.unwrap();
        let asked = [appid.to_string(), "wx2222222222222222".to_string(), "wx4444444444444444".to_string()];
        let some = store.authorizer_tokens_of(&asked).await.unwrap();
        assert_eq!(some.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), [appid]);
        // The newest live ticket of that component.
        assert_eq!(store.verify_ticket("wx3333333333333333", 0).await.unwrap(), None);
        store.put_verify_ticket("wx3333333333333333", Secret::new("t1"));
        store.put_verify_ticket("wx3333333333333333", Secret::new("t2"));
        assert_eq!(store.verify_ticket("wx3333333333333333", 0).await.unwrap(), Some(Secret::new("t2")));
        assert_eq!(store.verify_ticket("wx3333333333333333", now_secs() + 1).await.unwrap(), None);
    }

    /// The maps of tokens in hand stay at [`CACHED`] entries however many appids a run meets,
    /// and the key kept (the component's) is never the one let go.
    #[test]
    fn tokens_in_hand_stay_bounded_and_keep_the_components() {
        let mut map = HashMap::new();
        map.insert("wx2222222222222222".to_string(), usize::MAX);
        for i in 0..CACHED * 3 {
            insert_bounded(&mut map, format!("wx{i:016x}"), i, "wx2222222222222222");
        }
        assert_eq!(map.len(), CACHED);
        assert_eq!(map.get("wx2222222222222222"), Some(&usize::MAX));
        assert_eq!(map.get(&format!("wx{:016x}", CACHED * 3 - 1)), Some(&(CACHED * 3 - 1)));
    }

    /// An appid's fetch lock goes once its token is had: a million appids leave no million
    /// locks. The token comes from the store (nothing is sent: port 9 discards).
    #[tokio::test]
    async fn an_appids_lock_goes_once_its_token_is_had() {
        let client = Client::new("http://127.0.0.1:9", Duration::from_secs(5)).unwrap();
        let calls = CallLog::new(Arc::new(crate::calls::NoSink), None, crate::calls::CallOptions::default());
        let store = Arc::new(MemoryStore::new());
        let appids: Vec<String> = (0..50).map(|i| format!("wx{i:016x}")).collect();
        for appid in &appids {
            let token = Secret::new(format!("token-of-{appid}"));
            store.put_access_token(appid, TokenKind::Authorizer, &token, now_secs() + 7200).await.unwrap();
        }
        let tokens = Tokens::new(client, store, ComponentCreds::default(), calls.clone());
        for appid in &appids {
            assert_eq!(tokens.authorizer(appid).await.unwrap(), Secret::new(format!("token-of-{appid}")));
        }
        assert_eq!(tokens.locks.lock().unwrap().len(), 0);
        assert_eq!(tokens.cache.lock().unwrap().len(), appids.len());
        assert_eq!(calls.total(), 0, "nothing sent");
    }

    /// A store whose every read and write fails, as a database that went away does.
    struct BrokenStore;

    fn broken<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, StoreError>> {
        Box::pin(std::future::ready(Err(StoreError::new(std::io::Error::other("disk I/O error")))))
    }

    impl TokenStore for BrokenStore {
        fn tokens<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<StoredTokens, StoreError>> {
            broken()
        }
        fn authorizer_tokens_of<'a>(
            &'a self,
            _: &'a [String],
        ) -> BoxFuture<'a, Result<Vec<(String, StoredTokens)>, StoreError>> {
            broken()
        }
        fn put_access_token<'a>(
            &'a self,
            _: &'a str,
            _: TokenKind,
            _: &'a Secret,
            _: i64,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            broken()
        }
        fn put_refresh_token<'a>(
            &'a self,
            _: &'a str,
            _: &'a Secret,
            _: &'a str,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            broken()
        }
        fn put_rotated<'a>(
            &'a self,
            _: &'a str,
            _: &'a Secret,
            _: i64,
            _: &'a Secret,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            broken()
        }
        fn drop_access_token<'a>(&'a self, _: &'a str, _: &'a Secret) -> BoxFuture<'a, Result<(), StoreError>> {
            broken()
        }
        fn verify_ticket<'a>(&'a self, _: &'a str, _: i64) -> BoxFuture<'a, Result<Option<Secret>, StoreError>> {
            broken()
        }
    }

    /// A store that fails stops the caller (`stop`), never the account's fault (`human`,
    /// `blocked`); nothing is sent. Port 9 (discard) on loopback: a call would fail otherwise.
    #[tokio::test]
    async fn a_failing_store_is_a_store_error_of_class_stop_and_sends_nothing() {
        let client = Client::new("http://127.0.0.1:9", Duration::from_secs(5)).unwrap();
        let calls = CallLog::new(Arc::new(crate::calls::NoSink), None, crate::calls::CallOptions::default());
        let creds = ComponentCreds {
            appid: "wx2222222222222222".into(),
            secret: Some(Secret::new("s")),
            verify_ticket: Some(Secret::new("t")),
        };
        let tokens = Tokens::new(client, Arc::new(BrokenStore), creds, calls.clone());
        for result in [
            tokens.authorizer("wx1111111111111111").await.map(drop),
            tokens.component().await.map(drop),
            tokens.preload(&["wx1111111111111111".to_string()]).await,
            tokens.store_refresh_token("wx1111111111111111", &Secret::new("r"), "import").await,
        ] {
            let e = result.unwrap_err();
            assert!(matches!(e, ApiError::Store(_)), "{e:?}");
            assert_eq!(e.class(), ErrClass::Stop);
            assert_eq!(e.to_string(), "the token store could not be read: disk I/O error");
        }
        assert_eq!(calls.total(), 0, "nothing sent");
    }
}
