//! What an appid is, decided in one place.
//!
//! Appids reach a tool from many places — a sheet cell, a command-line argument, a token
//! import file, the query strings and paths of the platform's callbacks. Each of them parses
//! it with [`Appid::parse`], so a value that one entry point takes is taken by every other,
//! and stored the same way.
//!
//! The rule: `wx` and 16 hex digits, 18 characters, as WeChat issues them to mini-programs,
//! official accounts and third-party platforms alike (`wx28f759479ea1e090`). WeChat's appids
//! are lower case; a sheet or a shell may hold one in upper case (`WXE5F52902CF4DE896`), which
//! is the same account, so either case is taken and the appid is kept, sent and stored in
//! lower case. Nothing else is trimmed or guessed at: a space or a seventeenth digit is an error.

use std::fmt;

/// How an appid is written, for error messages.
pub const FORM: &str = "wx followed by 16 hex digits";

/// [`FORM`] in Chinese.
pub const FORM_ZH: &str = "wx 加 16 位十六进制数字";

/// Length of an appid.
const LEN: usize = 18;

/// An appid, in lower case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Appid([u8; LEN]);

/// A value that is not an appid (its text is not kept: it may be anything a user typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an appid ({FORM})")]
pub struct NotAnAppid;

impl Appid {
    /// Parses `text` by the one rule: `wx` and 16 hex digits, either case; the result is lower
    /// case.
    pub fn parse(text: &str) -> Result<Appid, NotAnAppid> {
        let bytes: [u8; LEN] = text.as_bytes().try_into().map_err(|_| NotAnAppid)?;
        let lower = bytes.map(|b| b.to_ascii_lowercase());
        if !lower.starts_with(b"wx") || !lower[2..].iter().all(u8::is_ascii_hexdigit) {
            return Err(NotAnAppid);
        }
        Ok(Appid(lower))
    }

    /// The appid as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII gets in (`parse`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::str::FromStr for Appid {
    type Err = NotAnAppid;

    fn from_str(text: &str) -> Result<Appid, NotAnAppid> {
        Appid::parse(text)
    }
}

impl fmt::Display for Appid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Appid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Appid({})", self.as_str())
    }
}

impl AsRef<str> for Appid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<Appid> for String {
    fn from(appid: Appid) -> String {
        appid.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        for good in ["wx28f759479ea1e090", "wxe5f52902cf4de896", "wx0000000000000000"] {
            assert_eq!(Appid::parse(good).map(|a| a.to_string()), Ok(good.to_string()));
        }
        // Either case is the same account, kept in lower case.
        assert_eq!(Appid::parse("WXE5F52902CF4DE896").unwrap().as_str(), "wxe5f52902cf4de896");
        assert_eq!(Appid::parse("wxE5f52902Cf4de896").unwrap().as_str(), "wxe5f52902cf4de896");
        assert_eq!(Appid::parse("Wxe5f52902cf4de896").unwrap().as_str(), "wxe5f52902cf4de896");
        for bad in [
            "",
            "wx",
            // The documents' own example, a digit short.
            "wx28f759479ea1e09",
            "wx28f759479ea1e0901",
            "wx28f759479ea1e09g",
            "xx28f759479ea1e090",
            "gh_e5f52902cf4de8",
            " wx28f759479ea1e09",
            "wx28f759479ea1e090 ",
            "wx+5f52902cf4de896",
            "wx28f759479ea1e09é",
            "ｗｘ28f759479ea1e090",
        ] {
            assert_eq!(Appid::parse(bad), Err(NotAnAppid), "{bad:?}");
        }
        assert_eq!(NotAnAppid.to_string(), "not an appid (wx followed by 16 hex digits)");
    }

    #[test]
    fn is_small_and_shows_itself() {
        let appid: Appid = "wx28f759479ea1e090".parse().unwrap();
        assert_eq!(format!("{appid:?}"), "Appid(wx28f759479ea1e090)");
        assert_eq!(String::from(appid), "wx28f759479ea1e090");
        assert_eq!(std::mem::size_of::<Appid>(), 18);
    }
}
