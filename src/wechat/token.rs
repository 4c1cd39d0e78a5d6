//! Tokens as wxprov gets them: wechat-open's [`wechat_open::tokens::Tokens`] over the ledger
//! (which implements [`TokenStore`](wechat_open::tokens::TokenStore)), with two things of wxprov's own.
//!
//! - `WXPROV_TOKEN_COMMAND`: platforms that already run a token service set it; wxprov then
//!   runs `CMD APPID` (or `CMD --component`) for each token and never refreshes one itself.
//!   It stays here, as a [`TokenSource`], because it is wxprov's convention (an environment
//!   variable, `sh -c`, a JSON answer on stdout), not the platform's: wechat-open spawns no
//!   process.
//! - The words of a missing credential: wechat-open says which one is missing
//!   ([`Credential`]); wxprov names the environment variable or command that provides it.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::ledger::Ledger;
use wechat_open::error::Credential;
use wechat_open::secret::Secret;
use wechat_open::tokens::{ComponentCreds, TokenSource};
use wechat_open::TokenKind;
use wechat_open::{ApiError, CallLog, Client};

/// The token source for every call wxprov makes.
pub struct Tokens(wechat_open::tokens::Tokens);

impl Tokens {
    pub fn new(
        client: Client,
        ledger: Ledger,
        creds: ComponentCreds,
        command: Option<String>,
        calls: CallLog,
    ) -> Tokens {
        let tokens = wechat_open::tokens::Tokens::new(client, Arc::new(ledger), creds, calls);
        Tokens(match command {
            Some(command) => tokens.with_source(Arc::new(TokenCommand(command))),
            None => tokens,
        })
    }

    pub fn component_appid(&self) -> &str {
        self.0.component_appid()
    }

    /// How many tokens this process fetched (from WeChat or the token command).
    pub fn refresh_count(&self) -> u64 {
        self.0.refresh_count()
    }

    /// Reads these authorizers' tokens from the ledger in one go.
    pub async fn preload(&self, appids: &[String]) -> Result<(), ApiError> {
        self.0.preload(appids).await.map_err(in_wxprov_words)
    }

    /// Stores an authorizer's refresh token and forgets what this process held for it.
    pub async fn store_refresh_token(&self, appid: &str, refresh: &Secret, source: &str) -> Result<(), ApiError> {
        self.0.store_refresh_token(appid, refresh, source).await.map_err(in_wxprov_words)
    }

    /// The component access token.
    pub async fn component(&self) -> Result<Secret, ApiError> {
        self.0.component().await.map_err(in_wxprov_words)
    }

    /// The access token of an authorizer (an official account or a mini-program).
    pub async fn authorizer(&self, appid: &str) -> Result<Secret, ApiError> {
        self.0.authorizer(appid).await.map_err(in_wxprov_words)
    }

    /// Runs `call` with `appid`'s token (the component's when `None`), once more with a fresh
    /// one after a token error ([`wechat_open::tokens::Tokens::with_token`]).
    pub async fn with_token<T, F, Fut>(&self, appid: Option<&str>, call: F) -> Result<T, ApiError>
    where
        F: FnMut(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        self.0.with_token(appid, call).await.map_err(in_wxprov_words)
    }

    /// Forgets `failed` for `appid` if it is still the cached token.
    pub async fn invalidate(&self, appid: &str, failed: &Secret) {
        self.0.invalidate(appid, failed).await;
    }

    /// Invalidates the component token after a token-class error.
    pub async fn invalidate_component(&self, failed: &Secret) {
        self.0.invalidate_component(failed).await;
    }
}

/// A missing credential, said with the setting that provides it (the class stays the
/// credential's: a missing appid or secret stops the run; a missing ticket needs a person).
fn in_wxprov_words(e: ApiError) -> ApiError {
    match e {
        ApiError::NotConfigured(Credential::ComponentAppid) => {
            ApiError::Setup("WXPROV_COMPONENT_APPID is not set: set it to the third-party platform's appid".into())
        }
        ApiError::NotConfigured(Credential::ComponentSecret) => ApiError::Setup(
            "the component app secret is not set: set WXPROV_COMPONENT_SECRET or WXPROV_COMPONENT_SECRET_FILE".into(),
        ),
        ApiError::NotConfigured(Credential::VerifyTicket) => ApiError::Token(
            "no component_verify_ticket: run `wxprov serve` so WeChat can push one (it does every 10 minutes), or \
             set WXPROV_COMPONENT_VERIFY_TICKET"
                .into(),
        ),
        e => e,
    }
}

/// `WXPROV_TOKEN_COMMAND`: runs `CMD APPID` (or `CMD --component`) and reads
/// `{"access_token": "...", "expires_in": 7200}` from its stdout.
struct TokenCommand(String);

impl TokenSource for TokenCommand {
    fn token<'a>(&'a self, appid: &'a str, kind: TokenKind) -> BoxFuture<'a, Result<(Secret, i64), ApiError>> {
        Box::pin(async move {
            let arg = match kind {
                TokenKind::Authorizer => appid,
                TokenKind::Component | TokenKind::None => "--component",
            };
            let output = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{} \"$1\"", self.0))
                .arg("wxprov-token-command")
                .arg(arg)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::inherit())
                .output()
                .await
                .map_err(|e| ApiError::Token(format!("WXPROV_TOKEN_COMMAND could not be started: {e}")))?;
            if !output.status.success() {
                return Err(ApiError::Token(format!(
                    "WXPROV_TOKEN_COMMAND failed for {arg} ({}); check the token service",
                    output.status
                )));
            }
            #[derive(serde::Deserialize)]
            struct Answer {
                access_token: Secret,
                #[serde(default, deserialize_with = "wechat_open::lenient::i64_any")]
                expires_in: i64,
            }
            // Never echo the output: it holds the token.
            let answer: Answer = serde_json::from_slice(&output.stdout).map_err(|_| {
                ApiError::Token(format!(
                    "WXPROV_TOKEN_COMMAND printed no JSON like {{\"access_token\": \"...\", \"expires_in\": 7200}} for {arg}"
                ))
            })?;
            Ok((answer.access_token, answer.expires_in))
        })
    }
}
