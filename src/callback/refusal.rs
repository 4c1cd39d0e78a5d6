//! Why the receiver refuses a callback, and how a refusal is answered.
//!
//! Every refusal is a value of [`Refusal`]: it fixes the HTTP status (400, 403, 413 or 503;
//! never 500, which is kept for the ledger failing) and a short reason that goes into the
//! ledger's `callback_events.detail` and the warning log line. Reasons are fixed sentences
//! that never quote the request body, a ticket, the token or the key.

use axum::http::StatusCode;

use wechat_open::crypto::CryptoError;
use wechat_open::event::EventError;

/// A refused callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A query parameter the route needs is absent or empty.
    #[error("query parameter {0} is missing")]
    MissingParam(&'static str),
    /// A query parameter is given more than once.
    #[error("query parameter {0} is given more than once")]
    DuplicateParam(&'static str),
    /// A query parameter does not have the expected form.
    #[error("query parameter {name} is not {expected}")]
    BadParam { name: &'static str, expected: &'static str },
    /// A redirect without the `state` that `wxprov links` puts in each `redirect_uri`.
    #[error("query parameter state is missing (a link not made by `wxprov links`, or an old one: make new links)")]
    MissingState,
    /// A redirect whose `state` does not verify for its account: forged, or for another account.
    #[error("state does not verify for this account (not a link made by `wxprov links` on this ledger)")]
    BadState,
    /// `encrypt_type` is given and is not `aes`.
    #[error("encrypt_type is not aes")]
    NotAes,
    /// `timestamp` is more than the allowed skew (`--max-skew`, seconds) away from now.
    #[error("timestamp is more than {max_skew} s from now (--max-skew)")]
    StaleTimestamp { max_skew: i64 },
    /// The `(timestamp, nonce)` pair was accepted before.
    #[error("timestamp and nonce were seen before (replay)")]
    Replayed,
    /// The body is larger than the limit.
    #[error("body is over 64 KB")]
    TooLarge,
    /// The body could not be read (the client went away, a bad chunk).
    #[error("body could not be read")]
    BodyUnreadable,
    /// The outer XML could not be read.
    #[error("body: {0}")]
    BadBody(BodyProblem),
    /// The push could not be opened.
    #[error("{0}")]
    Crypto(CryptoProblem),
    /// The decrypted event could not be read.
    #[error("decrypted event: {0}")]
    BadEvent(BodyProblem),
    /// The receiver has no token, key or component appid.
    #[error("encrypted callbacks are not configured ({0} not set)")]
    NotConfigured(String),
}

/// What is wrong with an XML document, without quoting it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyProblem {
    #[error("is over 64 KB")]
    TooLarge,
    #[error("is not a well-formed <xml> document")]
    Malformed,
    #[error("has no <{0}> element")]
    Missing(&'static str),
    #[error("<{field}> is not {expected}")]
    BadField { field: &'static str, expected: &'static str },
    #[error("has an element given more than once")]
    Duplicate,
}

impl From<EventError> for BodyProblem {
    fn from(e: EventError) -> Self {
        match e {
            EventError::TooLarge { .. } => BodyProblem::TooLarge,
            EventError::Malformed(_) => BodyProblem::Malformed,
            EventError::Missing(field) => BodyProblem::Missing(field),
            EventError::BadField { field, expected } => BodyProblem::BadField { field, expected },
            EventError::Duplicate(_) => BodyProblem::Duplicate,
        }
    }
}

/// Why a push could not be opened, without the appid it was addressed to or any key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoProblem {
    #[error("msg_signature does not match")]
    BadSignature,
    #[error("Encrypt is not valid Base64")]
    BadBase64,
    #[error("ciphertext length is not a multiple of the AES block")]
    BadLength,
    #[error("decrypted message has invalid padding")]
    BadPadding,
    #[error("decrypted message is truncated")]
    Truncated,
    #[error("message is addressed to another appid")]
    WrongAppId,
    #[error("decrypted message is not UTF-8")]
    BadUtf8,
    #[error("Encrypt is over 64 KB")]
    TooLarge,
    #[error("the EncodingAESKey is invalid")]
    BadKey,
}

impl From<CryptoError> for CryptoProblem {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::BadKey(_) => CryptoProblem::BadKey,
            CryptoError::BadSignature => CryptoProblem::BadSignature,
            CryptoError::BadBase64 => CryptoProblem::BadBase64,
            CryptoError::BadLength { .. } => CryptoProblem::BadLength,
            CryptoError::BadPadding => CryptoProblem::BadPadding,
            CryptoError::Truncated => CryptoProblem::Truncated,
            CryptoError::WrongAppId { .. } => CryptoProblem::WrongAppId,
            CryptoError::BadUtf8 => CryptoProblem::BadUtf8,
            CryptoError::TooLarge { .. } => CryptoProblem::TooLarge,
        }
    }
}

impl Refusal {
    /// The status a refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::TooLarge
            | Refusal::BadBody(BodyProblem::TooLarge)
            | Refusal::BadEvent(BodyProblem::TooLarge)
            | Refusal::Crypto(CryptoProblem::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Crypto(CryptoProblem::BadSignature | CryptoProblem::WrongAppId)
            | Refusal::StaleTimestamp { .. }
            | Refusal::Replayed
            | Refusal::MissingState
            | Refusal::BadState => StatusCode::FORBIDDEN,
            Refusal::MissingParam(_)
            | Refusal::DuplicateParam(_)
            | Refusal::BadParam { .. }
            | Refusal::NotAes
            | Refusal::BodyUnreadable
            | Refusal::BadBody(_)
            | Refusal::BadEvent(_)
            | Refusal::Crypto(_) => StatusCode::BAD_REQUEST,
            Refusal::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Refusal::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Refusal::BadBody(BodyProblem::TooLarge).status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Refusal::BadBody(BodyProblem::Malformed).status(), StatusCode::BAD_REQUEST);
        assert_eq!(Refusal::Crypto(CryptoProblem::BadSignature).status(), StatusCode::FORBIDDEN);
        assert_eq!(Refusal::Crypto(CryptoProblem::BadPadding).status(), StatusCode::BAD_REQUEST);
        assert_eq!(Refusal::Replayed.status(), StatusCode::FORBIDDEN);
        assert_eq!(Refusal::NotConfigured("WXPROV_TOKEN".into()).status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn reasons_quote_nothing_from_the_request() {
        let wrong = CryptoError::WrongAppId { expected: "wxexpected".into(), got: "wxsomeone".into() };
        let shown = Refusal::Crypto(wrong.into()).to_string();
        assert!(!shown.contains("wxsomeone") && !shown.contains("wxexpected"), "{shown}");
        let malformed = EventError::Malformed("unrecognized entity `ticket123`".into());
        let shown = Refusal::BadBody(malformed.into()).to_string();
        assert!(!shown.contains("ticket123"), "{shown}");
    }
}
