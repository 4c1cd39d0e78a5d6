//! `release` (`golive.md` §3.11): publishes the last approved version. Its body is exactly
//! `{}` — no parameters, yet an empty body is refused (44002) — and a lost answer is
//! reconciled with [`GetVersionInfo`](super::code::GetVersionInfo) before anything is sent
//! again; 85052 (already released) is the catalogue's `done`.

use serde::Serialize;

use crate::api::{endpoint, Empty};

/// `POST /wxa/release`, body `{}`: publishes the approved version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Release {}
endpoint!(Release, "/wxa/release", Post, Authorizer, true, Empty);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    #[tokio::test]
    async fn release_posts_an_empty_object() {
        let (answer, sent) = exchange(&Release {}, r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is("POST", "/wxa/release?access_token=TOKEN", "{}");
    }

    #[tokio::test]
    async fn already_released_is_the_catalogues_done() {
        let (answer, _) = exchange(&Release {}, r#"{"errcode":85052,"errmsg":"app is already released rid: 1"}"#).await;
        let err = answer.unwrap_err();
        assert_eq!(err.errcode(), Some(85052));
        assert_eq!(err.class(), crate::errcode::ErrClass::Done);
    }
}
