//! Secrets and their redaction.
//!
//! WeChat's access tokens travel in URL query strings (`access_token=…`,
//! `component_access_token=…`) and refresh tokens, secrets and tickets in JSON bodies, and
//! HTTP clients' errors print their URL. Everything that may end up in a log line, an error,
//! a report or a stored call log passes through [`redact`] first, and every secret value is
//! held as a [`Secret`], whose `Debug` and `Display` print no more than `***`.

use std::fmt;

use serde::Deserialize;

/// A secret string: an app secret, a token, an AES key. Prints as `***`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret in an answer (a token, a ticket) is read straight into a [`Secret`].
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret::new(String::deserialize(d)?))
    }
}

/// The query parameters and JSON fields of WeChat's APIs whose values are never shown.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "component_access_token",
    "authorizer_access_token",
    "authorizer_refresh_token",
    "refresh_token",
    "component_appsecret",
    "component_verify_ticket",
    "pre_auth_code",
];

/// Replaces the value of every secret query parameter or JSON field in `text` with `***`.
///
/// Handles `key=value` (up to `&`, whitespace, a quote or `)`) and `"key":"value"` forms.
pub fn redact(text: &str) -> String {
    // Both forms need one of these; most texts (step messages, errmsgs) have neither.
    if !text.contains(['=', '"']) {
        return text.to_string();
    }
    let mut out = text.to_string();
    for key in SECRET_KEYS {
        out = redact_key(&out, key);
    }
    out
}

fn redact_key(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(key) {
        let (before, after) = rest.split_at(pos);
        out.push_str(before);
        out.push_str(key);
        let mut tail = &after[key.len()..];
        // A longer key that merely ends with this one (`component_access_token` for
        // `access_token`) is handled when that key's turn comes; here we only look at what
        // follows the key.
        let sep_len = if tail.starts_with('=') {
            1
        } else if tail.starts_with("\":\"") {
            3
        } else if tail.starts_with("\": \"") {
            4
        } else {
            0
        };
        if sep_len == 0 {
            rest = tail;
            continue;
        }
        out.push_str(&tail[..sep_len]);
        tail = &tail[sep_len..];
        let end = tail
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == ')' || c.is_whitespace())
            .unwrap_or(tail.len());
        if end > 0 && &tail[..end] != "***" {
            out.push_str("***");
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_parameters() {
        let url = "http://127.0.0.1:9/cgi-bin/x?access_token=ABC123&type=image";
        assert_eq!(redact(url), "http://127.0.0.1:9/cgi-bin/x?access_token=***&type=image");
        let url = "https://h/p?component_access_token=XYZ";
        assert_eq!(redact(url), "https://h/p?component_access_token=***");
    }

    #[test]
    fn redacts_json_fields() {
        let body = r#"{"authorizer_refresh_token":"refresh@@@x","appid":"wx1"}"#;
        assert_eq!(redact(body), r#"{"authorizer_refresh_token":"***","appid":"wx1"}"#);
    }

    #[test]
    fn leaves_plain_text_alone() {
        let text = "access_token expired; refresh it";
        assert_eq!(redact(text), text);
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }
}
