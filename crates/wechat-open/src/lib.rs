//! The WeChat Open Platform protocol and client, for third-party platforms (第三方平台服务商),
//! with no storage of its own — no SQLite, no spreadsheet: tokens are kept in a
//! [`tokens::TokenStore`] and calls are logged to a [`calls::CallSink`] the caller provides.
//!
//! - [`api`]: one typed request and answer for each endpoint, with its path, method, token
//!   and whether it changes state ([`api::Endpoint`]).
//! - [`client`]: [`Client`] sends one typed request over HTTP (hyper, or reqwest through a
//!   proxy) and reads the answer; every failure is an [`ApiError`] with its class.
//! - [`tokens`]: [`Tokens`], the component's and every authorizer's access token, cached,
//!   refreshed when due, one refresh at a time; [`tokens::MemoryStore`] keeps them in memory.
//! - [`calls`]: [`CallLog`], through which every call goes: paced ([`pacing::Pacer`]), retried
//!   within one bound ([`calls::Attempts`]), logged.
//! - [`errcode`]: the errcode catalogue — code, the documents' Chinese text, an English
//!   gloss, the class that says what to do about it (keyed by code and [`TokenKind`]), for
//!   quota codes until when to wait, and how a pacer reacts.
//! - [`crypto`]: [`crypto::MsgCrypt`], the message encryption of the callback URLs
//!   (WXBizMsgCrypt: AES-256-CBC and `msg_signature`), to open pushes and to seal them.
//! - [`event`]: the pushes' XML — the outer body and the typed events inside — read and
//!   written.
//! - [`golive`]: the go-live endpoints (`golive.md` §1–§4) — domains, code from a template,
//!   the privacy guide, the audit and its quota, the release, the ICP filing state.
//! - [`appid`]: [`Appid`], what an appid is, decided in one place.
//! - [`image`]: the formats and size the platform takes for images.
//! - [`beijing`]: Beijing time, on whose days, months and years WeChat's quotas reset.
//! - [`lenient`]: serde helpers for fields the platform spells more than one way.
//! - [`links`]: the `fastregisterauth` and `componentrebindadmin` links sent to merchants.
//! - [`secret`]: [`secret::Secret`], which never prints, and [`secret::redact`] for tokens
//!   and secrets in URLs and JSON.
//!
//! Refreshing an authorizer's token and setting its signature (功能介绍), with the tokens in
//! memory (wxprov's `tests/it/wechat_open_alone.rs` runs this against its simulator):
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use wechat_open::api::ModifySignature;
//! use wechat_open::calls::{CallLog, CallOptions, NoSink};
//! use wechat_open::client::{Client, DEFAULT_TIMEOUT};
//! use wechat_open::secret::Secret;
//! use wechat_open::tokens::{ComponentCreds, MemoryStore, TokenStore, Tokens};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new("https://api.weixin.qq.com", DEFAULT_TIMEOUT)?;
//! let store = Arc::new(MemoryStore::new());
//! store.put_refresh_token("wxe5f52902cf4de896", &Secret::new("refreshtoken@@@…"), "import").await?;
//! let creds = ComponentCreds {
//!     appid: "wx28f759479ea1e090".into(),
//!     secret: Some(Secret::new("the platform's app secret")),
//!     verify_ticket: Some(Secret::new("ticket@@@…")),
//! };
//! let calls = CallLog::new(Arc::new(NoSink), None, CallOptions::default());
//! let tokens = Tokens::new(client.clone(), store, creds, calls);
//! // The component's token first (from its secret and ticket), then the authorizer's.
//! let token = tokens.authorizer("wxe5f52902cf4de896").await?;
//! client.call(Some(&token), &ModifySignature { signature: "提供好用的在线工具。".into() }).await?;
//! # Ok(())
//! # }
//! ```
//!
//! And the catalogue:
//!
//! ```
//! use wechat_open::errcode::{self, DeferUntil, ErrClass};
//! use wechat_open::TokenKind;
//!
//! // 40013 on the component's own credentials is the platform's setup; on one account's
//! // call, that account's appid.
//! assert_eq!(errcode::class_on(40013, TokenKind::Component), ErrClass::Stop);
//! assert_eq!(errcode::class_on(40013, TokenKind::Authorizer), ErrClass::Human);
//! // A spent daily quota waits for the next Beijing day.
//! assert_eq!(errcode::defer_until(45009), Some(DeferUntil::NextDay));
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod appid;
pub mod beijing;
pub mod calls;
pub mod client;
pub mod crypto;
pub mod errcode;
pub mod error;
pub mod event;
pub mod golive;
pub mod image;
pub mod lenient;
pub mod links;
pub mod pacing;
pub mod secret;
pub mod tokens;
mod transport;

#[cfg(test)]
mod proptests;

pub use appid::Appid;
pub use calls::CallLog;
pub use client::Client;
pub use error::ApiError;
pub use tokens::Tokens;

/// Which token an endpoint takes in its query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// None: `api_component_token` takes the app secret in its body.
    None,
    /// `component_access_token=`: the third-party platform's own token.
    Component,
    /// `access_token=`: an authorizer's (official account's or mini-program's) token.
    Authorizer,
}

impl TokenKind {
    /// The query parameter that carries the token.
    pub fn query_key(self) -> Option<&'static str> {
        match self {
            TokenKind::None => None,
            TokenKind::Component => Some("component_access_token"),
            TokenKind::Authorizer => Some("access_token"),
        }
    }
}
