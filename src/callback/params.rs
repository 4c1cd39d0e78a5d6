//! The query strings of callbacks, read strictly: a parameter given twice is refused rather
//! than guessed at, and appids, tickets and task ids must have the form WeChat gives them
//! before anything is stored. Nothing here panics on any input.

use url::form_urlencoded;

use super::refusal::Refusal;
use wechat_open::appid::{self, Appid};

/// The longest ticket or taskid accepted.
pub const MAX_TICKET_LEN: usize = 128;

/// The decoded parameters of one query string.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes a raw query string (percent escapes and `+`; invalid UTF-8 is replaced).
    pub fn parse(raw: Option<&str>) -> Params {
        let pairs = raw
            .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
            .unwrap_or_default();
        Params { pairs }
    }

    /// The parameter's value, if given once; empty counts as absent.
    pub fn optional(&self, name: &'static str) -> Result<Option<&str>, Refusal> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Refusal::DuplicateParam(name));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// The parameter's value, which must be given once and not be empty.
    pub fn required(&self, name: &'static str) -> Result<&str, Refusal> {
        self.optional(name)?.ok_or(Refusal::MissingParam(name))
    }
}

/// Whether `s` has the form of a ticket or taskid: 1–128 of `[A-Za-z0-9_-]`.
pub fn is_ticket(s: &str) -> bool {
    (1..=MAX_TICKET_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A required appid parameter, by the one rule ([`Appid::parse`]).
pub fn appid(params: &Params, name: &'static str) -> Result<Appid, Refusal> {
    Appid::parse(params.required(name)?).map_err(|_| Refusal::BadParam { name, expected: appid::FORM })
}

/// A required ticket or taskid parameter.
pub fn ticket<'a>(params: &'a Params, name: &'static str) -> Result<&'a str, Refusal> {
    let value = params.required(name)?;
    if is_ticket(value) {
        Ok(value)
    } else {
        Err(Refusal::BadParam { name, expected: "1 to 128 letters, digits, _ or -" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let p = Params::parse(Some("a=1&b=&c=x%20y+z&d=1&d=2&e=%ff"));
        assert_eq!(p.required("a"), Ok("1"));
        assert_eq!(p.required("b"), Err(Refusal::MissingParam("b")));
        assert_eq!(p.optional("b"), Ok(None));
        assert_eq!(p.required("c"), Ok("x y z"));
        assert_eq!(p.required("d"), Err(Refusal::DuplicateParam("d")));
        assert_eq!(p.required("e"), Ok("\u{fffd}"));
        assert_eq!(Params::parse(None).optional("a"), Ok(None));
    }

    #[test]
    fn forms() {
        let p = Params::parse(Some("a=wx28f759479ea1e090&b=WX28F759479EA1E090&c=wx28f759479ea1e09&d=gh_1"));
        assert_eq!(appid(&p, "a").map(|a| a.to_string()), Ok("wx28f759479ea1e090".into()));
        assert_eq!(appid(&p, "b").map(|a| a.to_string()), Ok("wx28f759479ea1e090".into()));
        for name in ["c", "d"] {
            assert_eq!(appid(&p, name), Err(Refusal::BadParam { name, expected: "wx followed by 16 hex digits" }));
        }
        assert_eq!(appid(&p, "e"), Err(Refusal::MissingParam("e")));
        assert!(is_ticket("ticket_AB-09"));
        assert!(is_ticket(&"a".repeat(128)));
        assert!(!is_ticket(&"a".repeat(129)));
        assert!(!is_ticket(""));
        assert!(!is_ticket("a b"));
        assert!(!is_ticket("a<b"));
    }
}
