//! The WeChat Open Platform protocol, for third-party platforms (第三方平台服务商): the pieces
//! of it that do not depend on how a tool stores its state — no SQLite, no spreadsheet.
//!
//! - [`api`]: one typed request and answer for each endpoint, with its path, method, token
//!   and whether it changes state ([`api::Endpoint`]).
//! - [`appid`]: [`Appid`], what an appid is, decided in one place.
//! - [`image`]: the formats and size the platform takes for images.
//! - [`errcode`]: the errcode catalogue — code, the documents' Chinese text, an English
//!   gloss, the class that says what to do about it (keyed by code and [`TokenKind`]), and
//!   for quota codes until when to wait.
//! - [`beijing`]: Beijing time, on whose days, months and years WeChat's quotas reset.
//! - [`lenient`]: serde helpers for fields the platform spells more than one way.
//! - [`links`]: the `fastregisterauth` and `componentrebindadmin` links sent to merchants.
//! - [`secret`]: [`secret::Secret`], which never prints, and [`secret::redact`] for tokens
//!   and secrets in URLs and JSON.
//!
//! wxprov, the bulk mini-program provisioning tool of this workspace, is built on it; more of
//! the client (endpoints, the transport, message crypto) moves here over time.
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
pub mod errcode;
pub mod error;
pub mod image;
pub mod lenient;
pub mod links;
pub mod pacing;
pub mod secret;
pub mod tokens;
mod transport;

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
