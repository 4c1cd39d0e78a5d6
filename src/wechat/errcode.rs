//! The errcode catalogue: every errcode the API documents list, with its Chinese text, an
//! English gloss, a hint for ops staff and the class that decides what the runner does
//! (DESIGN §5). `wxprov explain CODE` prints an entry.
//!
//! SKELETON: the full catalogue is being written; the entries below are placeholders.

/// What the runner does about an error (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrClass {
    /// Transient: back off with jitter and try again, up to `max_attempts`.
    Retry,
    /// The access token is bad: drop it (if still cached), refresh once, call again once.
    Token,
    /// A quota is spent: try again after `not_before`.
    Defer,
    /// Needs a person: the hint says what to fix in the sheet.
    Human,
}

impl ErrClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrClass::Retry => "retry",
            ErrClass::Token => "token",
            ErrClass::Defer => "defer",
            ErrClass::Human => "human",
        }
    }
}

/// When a deferred call may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferUntil {
    /// The next Beijing-time day (daily quotas, 45009).
    NextDay,
    /// The first of next month, Beijing time (monthly quotas, 53200/53202/53300).
    NextMonth,
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct ErrInfo {
    pub code: i64,
    pub zh: &'static str,
    pub en: &'static str,
    pub hint: &'static str,
    pub class: ErrClass,
}

const CATALOGUE: &[ErrInfo] = &[
    ErrInfo {
        code: -1,
        zh: "系统繁忙",
        en: "system busy",
        hint: "Transient; wxprov retries with backoff.",
        class: ErrClass::Retry,
    },
    ErrInfo {
        code: 40001,
        zh: "获取 access_token 时 AppSecret 错误，或者 access_token 无效",
        en: "invalid credential",
        hint: "wxprov refreshes the token and retries once.",
        class: ErrClass::Token,
    },
    ErrInfo {
        code: 42001,
        zh: "access_token 超时",
        en: "access token expired",
        hint: "wxprov refreshes the token and retries once.",
        class: ErrClass::Token,
    },
    ErrInfo {
        code: 61023,
        zh: "refresh_token 无效",
        en: "invalid refresh token",
        hint: "Re-import the refresh token or run `wxprov tokens recover`.",
        class: ErrClass::Human,
    },
];

/// The catalogue entry for `code`, if the documents list it.
pub fn lookup(code: i64) -> Option<&'static ErrInfo> {
    CATALOGUE.iter().find(|e| e.code == code)
}

/// Every entry, in catalogue order.
pub fn all() -> &'static [ErrInfo] {
    CATALOGUE
}

/// The class `code` is treated as; an unknown code needs a person.
pub fn class_of(code: i64) -> ErrClass {
    lookup(code).map(|e| e.class).unwrap_or(ErrClass::Human)
}

/// For a `defer` code, when to try again.
pub fn defer_until(code: i64) -> Option<DeferUntil> {
    match code {
        45009 => Some(DeferUntil::NextDay),
        53200 | 53202 | 53300 => Some(DeferUntil::NextMonth),
        _ => None,
    }
}
