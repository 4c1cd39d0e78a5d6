//! Why a call failed, as one type: each failure says which class it belongs to (what a caller
//! does about it, [`ErrClass`]) and whether the call may have taken effect.

use crate::errcode::{self, ErrClass};
use crate::TokenKind;

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// WeChat answered with a non-zero errcode to a call that carried `token`.
    #[error("{api}: errcode {code} ({zh}): {message}", zh = errcode::lookup_on(*code, *token).map(|e| e.zh).unwrap_or("unknown errcode"))]
    WeChat {
        /// The endpoint's path.
        api: String,
        /// The errcode.
        code: i64,
        /// WeChat's `errmsg`, with any token or secret redacted.
        message: String,
        /// Which token the call carried (the class of some codes depends on it).
        token: TokenKind,
    },
    /// An HTTP status other than 2xx.
    #[error("{api}: HTTP status {status}")]
    Http {
        /// The endpoint's path.
        api: String,
        /// The status.
        status: u16,
    },
    /// No answer in time. `sent` is false when the connection was never made.
    #[error("{api}: timed out{}", if *sent { " (the request may have taken effect)" } else { " while connecting" })]
    Timeout {
        /// The endpoint's path.
        api: String,
        /// Whether the request may have gone out.
        sent: bool,
    },
    /// The connection failed or dropped. `sent` is false when it was refused before sending.
    #[error("{api}: connection failed: {detail}")]
    Connection {
        /// The endpoint's path.
        api: String,
        /// Whether the request may have gone out.
        sent: bool,
        /// What failed (never the URL: it carries the token).
        detail: String,
    },
    /// The answer was not the JSON the documents describe.
    #[error("{api}: unexpected answer: {detail}")]
    Decode {
        /// The endpoint's path.
        api: String,
        /// What did not parse.
        detail: String,
    },
    /// No token could be had for the call (the message says what to do).
    #[error("{0}")]
    Token(String),
    /// The platform's own setup is missing or wrong (its appid, secret, verify ticket, the
    /// token service): nothing can be called, so the run stops (`stop` class).
    #[error("{0}")]
    Setup(String),
    /// A credential of the platform is not configured.
    #[error("{0}")]
    NotConfigured(Credential),
    /// The token store failed: nothing can be called safely (a refresh token may be lost),
    /// so the run stops (`stop` class); nothing in the request is at fault.
    #[error("the token store could not be read: {0}")]
    Store(#[from] StoreError),
    /// No refresh token is stored for this authorizer: its calls are blocked until one is
    /// stored (`blocked` class).
    #[error("no refresh token for {appid}")]
    NoRefreshToken {
        /// The authorizer.
        appid: String,
    },
    /// Not sent: the caller was interrupted before the call started.
    #[error("{api}: not sent, the run was interrupted")]
    Interrupted {
        /// The endpoint's path.
        api: String,
    },
}

/// A credential of the third-party platform that a token needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Credential {
    /// The platform's appid.
    #[error("the component appid is not set")]
    ComponentAppid,
    /// The platform's app secret.
    #[error("the component app secret is not set")]
    ComponentSecret,
    /// A `component_verify_ticket`: none stored while it lives (12 h), none given.
    #[error("no component_verify_ticket")]
    VerifyTicket,
}

/// A failure of a token store: whatever the store's own error
/// is, kept for its message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps a store's own error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError(std::sync::Arc::new(error))
    }
}

impl ApiError {
    /// What a caller does about this error (the errcode catalogue's class for WeChat's).
    pub fn class(&self) -> ErrClass {
        match self {
            ApiError::WeChat { code, token, .. } => errcode::class_on(*code, *token),
            ApiError::Http { status, .. } if *status >= 500 => ErrClass::Retry,
            ApiError::Http { .. } => ErrClass::Human,
            ApiError::Timeout { .. } | ApiError::Connection { .. } => ErrClass::Retry,
            // Interrupted: never an outcome of its own; the caller leaves things as they were.
            ApiError::Decode { .. } | ApiError::Token(_) | ApiError::Interrupted { .. } => ErrClass::Human,
            // No ticket: a person starts the callback server or sets one (as WeChat's 61005).
            ApiError::NotConfigured(Credential::VerifyTicket) => ErrClass::Human,
            ApiError::Setup(_) | ApiError::NotConfigured(_) | ApiError::Store(_) => ErrClass::Stop,
            ApiError::NoRefreshToken { .. } => ErrClass::Blocked,
        }
    }

    /// The errcode, for WeChat errors.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            ApiError::WeChat { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The catalogue entry of a WeChat error.
    pub fn entry(&self) -> Option<&'static errcode::ErrInfo> {
        match self {
            ApiError::WeChat { code, token, .. } => errcode::lookup_on(*code, *token),
            _ => None,
        }
    }

    /// True when the request may have reached WeChat and taken effect although there is no
    /// answer: a state-changing call must then be reconciled, not resent blindly.
    pub fn uncertain(&self) -> bool {
        match self {
            // −1 "system busy" says nothing about whether the change was made.
            ApiError::WeChat { code, .. } => *code == -1,
            ApiError::Timeout { sent, .. } | ApiError::Connection { sent, .. } => *sent,
            ApiError::Http { status, .. } => *status >= 500,
            ApiError::Decode { .. } => true,
            ApiError::Token(_)
            | ApiError::Setup(_)
            | ApiError::NotConfigured(_)
            | ApiError::Store(_)
            | ApiError::NoRefreshToken { .. }
            | ApiError::Interrupted { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_stops_and_is_not_the_requests_fault() {
        let e = ApiError::from(StoreError::new(std::io::Error::other("disk I/O error")));
        assert_eq!(e.class(), ErrClass::Stop);
        assert!(!e.uncertain());
        assert_eq!(e.to_string(), "the token store could not be read: disk I/O error");
    }

    #[test]
    fn classes() {
        let wechat =
            |code| ApiError::WeChat { api: "/a".into(), code, message: "m".into(), token: TokenKind::Authorizer };
        assert_eq!(wechat(45009).class(), ErrClass::Defer);
        assert_eq!(wechat(-1).class(), ErrClass::Retry);
        assert!(wechat(-1).uncertain() && !wechat(40001).uncertain());
        assert_eq!(ApiError::Http { api: "/a".into(), status: 502 }.class(), ErrClass::Retry);
        assert_eq!(ApiError::NotConfigured(Credential::ComponentSecret).class(), ErrClass::Stop);
        assert_eq!(ApiError::NotConfigured(Credential::VerifyTicket).class(), ErrClass::Human);
        assert_eq!(ApiError::NoRefreshToken { appid: "wx1".into() }.class(), ErrClass::Blocked);
    }
}
