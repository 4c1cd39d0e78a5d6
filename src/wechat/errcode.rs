//! The errcode catalogue as wxprov reads it: each entry of wechat-open's catalogue
//! ([`wechat_open::errcode`]: code, Chinese text, English gloss, class keyed by code and token
//! kind, defer rule) joined with wxprov's hint for ops staff ([`crate::hints`]). `wxprov
//! explain CODE` prints an entry; the runner takes the class to decide between retrying,
//! refreshing a token, deferring a row and handing it to a person (DESIGN §5), and copies the
//! hint into `results.csv` and `failed.csv`.

use std::sync::LazyLock;

use wechat_open::errcode::{self as protocol, whitelist_ip};
use wechat_open::TokenKind;

/// One catalogue entry with wxprov's hint; the entry's own facts (code, token kind, texts,
/// class, defer rule, pacing) are read through it (`Deref`).
#[derive(Debug, Clone, Copy)]
pub struct ErrInfo {
    /// The protocol's entry.
    pub entry: &'static protocol::ErrInfo,
    /// What ops staff do about it.
    pub hint: &'static str,
}

impl std::ops::Deref for ErrInfo {
    type Target = protocol::ErrInfo;

    fn deref(&self) -> &protocol::ErrInfo {
        self.entry
    }
}

/// The catalogue in its own order, each entry with its hint.
static JOINED: LazyLock<Vec<ErrInfo>> = LazyLock::new(|| {
    protocol::all()
        .iter()
        .map(|entry| ErrInfo {
            entry,
            // hints.rs's test: every entry has one.
            hint: crate::hints::hint(entry.code, entry.token).unwrap_or("(no hint: a wxprov bug, report it)"),
        })
        .collect()
});

/// wxprov's view of a protocol entry: the same entry (the catalogue is one static table).
fn joined(entry: &'static protocol::ErrInfo) -> &'static ErrInfo {
    JOINED.iter().find(|e| std::ptr::eq(e.entry, entry)).expect("every protocol entry is joined")
}

/// The catalogue entry for `code` whatever token the call carried
/// ([`protocol::lookup`]), if the documents list it.
pub fn lookup(code: i64) -> Option<&'static ErrInfo> {
    protocol::lookup(code).map(joined)
}

/// The entry for `code` on a call that carried `token` ([`protocol::lookup_on`]).
pub fn lookup_on(code: i64, token: TokenKind) -> Option<&'static ErrInfo> {
    protocol::lookup_on(code, token).map(joined)
}

/// Every entry for `code`: the general one first, then the token-specific ones.
pub fn entries(code: i64) -> Vec<&'static ErrInfo> {
    protocol::entries(code).into_iter().map(joined).collect()
}

/// Every entry, in catalogue order.
pub fn all() -> &'static [ErrInfo] {
    &JOINED
}

/// The hint for an error with `code` and WeChat's `errmsg` on a call that carried `token`:
/// the catalogue's, with the IP WeChat saw where the hint is about the IP whitelist.
pub fn hint_for(code: i64, token: TokenKind, errmsg: &str) -> Option<String> {
    let info = lookup_on(code, token)?;
    match whitelist_ip(errmsg) {
        Some(ip) if info.hint == crate::hints::H_WHITELIST => Some(info.hint.replacen("this machine's IP", &ip, 1)),
        _ => Some(info.hint.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_open::errcode::ErrClass;

    #[test]
    fn entries_carry_the_protocol_facts_and_their_hint() {
        assert_eq!(all().len(), protocol::all().len());
        for (mine, theirs) in all().iter().zip(protocol::all()) {
            assert_eq!(
                (mine.code, mine.token, mine.zh, mine.en, mine.class),
                (theirs.code, theirs.token, theirs.zh, theirs.en, theirs.class)
            );
        }
        let general = lookup(40013).expect("40013 is catalogued");
        assert_eq!(general.token, None);
        assert!(general.hint.starts_with("Check the appid / official_appid column"), "{}", general.hint);
        let component = lookup_on(40013, TokenKind::Component).expect("40013 on the component's call");
        assert_eq!(component.class, ErrClass::Stop);
        assert!(component.hint.starts_with("WXPROV_COMPONENT_APPID is not"), "{}", component.hint);
        assert!(std::ptr::eq(entries(40013)[0], general) && std::ptr::eq(entries(40013)[1], component));
        assert!(lookup(123_456).is_none());
    }

    #[test]
    fn whitelist_hints_name_the_ip_wechat_saw() {
        let msg = "access clientip is not registered requestIP: 203.0.113.9 rid: 6571a2b3-1c2d3e4f-5a6b7c8d";
        assert_eq!(
            hint_for(61004, TokenKind::None, msg).as_deref(),
            Some(
                "Add 203.0.113.9 to the platform's IP whitelist on open.weixin.qq.com (开发资料 → 白名单), \
                 then run again. No row needs changing."
            )
        );
        assert_eq!(hint_for(61004, TokenKind::None, "no address here"), lookup(61004).map(|e| e.hint.to_string()));
    }
}
