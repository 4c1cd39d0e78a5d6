//! WeChat's errcodes: every errcode the Open Platform documents list, with its Chinese text,
//! an English gloss and the class that says what a caller does about it — retry, refresh the
//! token, wait for a quota to reset (and until when), stop, or hand it to a person. The class
//! of a few codes depends on whose token the call carried (40013 on the component's own
//! credentials is the platform's setup; on one account's call, that account's appid).
//!
//! The Chinese texts are the documents' own (`fastregister-and-settings.md`,
//! `fastregister-intro.md`), typos included, so that people can search for them; codes that
//! only `NOTES.md` names (tokens, quotas, general errors) carry the platform's wording. A unit
//! test re-reads copies of the three documents and fails if a code is missing. What to do
//! about a code in a given tool (its hints for ops staff) is that tool's, not this crate's.

use chrono::{DateTime, Utc};

use crate::TokenKind;

/// What a caller does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrClass {
    /// Transient: back off with jitter and try again, a bounded number of times.
    Retry,
    /// The access token is bad: drop it (if still cached), refresh once, call again once.
    Token,
    /// A quota is spent: try again once it resets ([`defer_until`]).
    Defer,
    /// The platform's own credentials or setup (its secret, ticket, IP whitelist): no call
    /// can succeed until they are fixed, so stop.
    Stop,
    /// One account's authorization (permission sets, a revoked or replaced refresh token):
    /// nothing in the request can fix it; try again once the account has authorized again.
    Blocked,
    /// Needs a person: something in the request (a name, a file, an id) must change.
    Human,
}

impl ErrClass {
    /// The class's name in lower case, as reports and `serde` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrClass::Retry => "retry",
            ErrClass::Token => "token",
            ErrClass::Defer => "defer",
            ErrClass::Stop => "stop",
            ErrClass::Blocked => "blocked",
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
    /// 1 January of next year, Beijing time (the yearly name changes, [`NAME_CHANGES_RESET`]).
    NextYear,
}

/// The name-change quota (`getaccountbasicinfo` `nickname_info`: 2 a calendar year) resets
/// on 1 January and after a verification (the current setnickname page, NOTES.md): a spent
/// one waits for 1 January, Beijing time.
pub const NAME_CHANGES_RESET: DeferUntil = DeferUntil::NextYear;

impl DeferUntil {
    /// The moment after `now` at which the quota resets: midnight Beijing time of the next
    /// day, of the first of next month, or of 1 January next year ([`crate::beijing`]).
    pub fn not_before(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            DeferUntil::NextDay => crate::beijing::next_day(now),
            DeferUntil::NextMonth => crate::beijing::next_month(now),
            DeferUntil::NextYear => crate::beijing::next_year(now),
        }
    }

    /// The rule in words.
    pub fn describe(self) -> &'static str {
        match self {
            DeferUntil::NextDay => "the next day, Beijing time (00:00 UTC+8)",
            DeferUntil::NextMonth => "the first of next month, Beijing time (00:00 UTC+8)",
            DeferUntil::NextYear => "1 January next year, Beijing time (00:00 UTC+8)",
        }
    }
}

/// How a pacer reacts to a code, for the API path that answered it
/// ([`crate::pacing::Pacer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// The path's quota is spent: call it no more until the quota resets (the entry's
    /// [`ErrInfo::defer`]) — for the appid on an authorizer's call, for everyone on the
    /// component's own.
    Exhausted,
    /// Calls come too often: pause the path a while, longer each time it repeats.
    SlowDown,
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct ErrInfo {
    /// The errcode.
    pub code: i64,
    /// `None`: whatever token the call carried. `Some(kind)`: only for calls that carried
    /// that kind (40013 on the component's credentials is the platform's setup, on one
    /// account's call it is that account's appid). An entry for [`TokenKind::Component`] also
    /// covers `api_component_token` ([`TokenKind::None`]), which carries the component's
    /// secret instead of a token; a [`TokenKind::None`] entry covers that call alone.
    pub token: Option<TokenKind>,
    /// The documents' Chinese text.
    pub zh: &'static str,
    /// An English gloss.
    pub en: &'static str,
    /// What a caller does about it.
    pub class: ErrClass,
    /// For a `defer` code, when its quota resets.
    pub defer: Option<DeferUntil>,
    /// How a pacer reacts to it, if at all.
    pub pace: Option<Pace>,
}

/// Builds an entry; keeps the table below to one call per code.
const fn e(code: i64, class: ErrClass, zh: &'static str, en: &'static str) -> ErrInfo {
    ErrInfo { code, token: None, zh, en, class, defer: None, pace: None }
}

impl ErrInfo {
    /// The entry with its quota's reset.
    const fn until(self, defer: DeferUntil) -> ErrInfo {
        ErrInfo { defer: Some(defer), ..self }
    }

    /// The entry with a pacer's reaction.
    const fn pace(self, pace: Pace) -> ErrInfo {
        ErrInfo { pace: Some(pace), ..self }
    }
}

/// An entry for calls that carried `token` only.
const fn on(token: TokenKind, entry: ErrInfo) -> ErrInfo {
    ErrInfo { token: Some(token), ..entry }
}

use DeferUntil::{NextDay, NextMonth};
use ErrClass::{Blocked, Defer, Human, Retry, Stop, Token};
use Pace::{Exhausted, SlowDown};
use TokenKind::Component;

static CATALOGUE: &[ErrInfo] = &[
    // ---- General, tokens and quotas (NOTES.md; the platform's global return codes) ----
    e(-1, Retry, "系统繁忙，此时请开发者稍候再试", "system busy, try again later"),
    e(40001, Token, "获取 access_token 时 AppSecret 错误，或者 access_token 无效", "invalid credential: wrong AppSecret or invalid access token"),
    on(TokenKind::None, e(40001, Stop, "获取 access_token 时 AppSecret 错误，或者 access_token 无效", "wrong AppSecret (api_component_token's older answer; it now says 40125)")),
    e(40014, Token, "不合法的 access_token", "invalid access token"),
    e(42001, Token, "access_token 超时", "access token expired"),
    e(41001, Human, "缺少 access_token 参数", "access_token missing"),
    e(40013, Human, "不合法的 AppID", "invalid AppID"),
    on(Component, e(40013, Stop, "不合法的 AppID", "invalid AppID: WeChat does not know the component appid")),
    e(40125, Stop, "无效的 AppSecret", "invalid AppSecret"),
    e(41004, Stop, "缺少 secret 参数", "the AppSecret is missing"),
    e(40164, Stop, "调用接口的 IP 地址不在白名单中", "the calling IP address is not on the whitelist"),
    e(40005, Human, "不合法的文件类型", "invalid file type"),
    e(47001, Human, "解析 JSON/XML 内容错误", "the JSON/XML body could not be parsed"),
    e(45009, Defer, "接口调用超过限制", "the API's daily call quota is reached").until(NextDay).pace(Exhausted),
    e(45011, Retry, "API 调用太频繁，请稍候再试", "API called too often (frequency limit)").pace(SlowDown),
    e(48001, Blocked, "api 功能未授权", "API unauthorized for this account"),
    // ---- Component authorization (NOTES.md) ----
    e(61003, Blocked, "该帐号未授权给此第三方平台", "the component is not authorized by this account"),
    e(61004, Stop, "access clientip is not registered（调用接口的 IP 未在第三方平台的 IP 白名单中）", "this machine's IP address is not on the platform's IP whitelist"),
    e(61005, Stop, "component_verify_ticket 已过期", "component verify ticket expired"),
    e(61006, Stop, "component_verify_ticket 无效", "component verify ticket invalid"),
    e(61007, Blocked, "该接口的权限集未授权给第三方平台", "API not authorized to the component by this account"),
    e(61009, Human, "code 无效", "authorization code invalid (already used or wrong)"),
    e(61010, Human, "code 已过期", "authorization code expired"),
    e(61023, Blocked, "refresh_token 无效", "invalid refresh token"),
    // ---- fastregister (fastregister-and-settings.md §1.3) ----
    e(61051, Human, "公众号主体类型不允许快速创建", "the official account's principal type may not fast-register"),
    e(61052, Human, "公众号未认证", "the official account is not verified (微信认证)"),
    e(61053, Human, "超过主体可注册数量上限", "the principal has registered as many accounts as allowed"),
    e(61054, Human, "主体黑名单", "the principal is blacklisted"),
    e(61055, Defer, "超出公众号每月可快速创建限额", "the official account's monthly fast-registration limit (5) is reached").until(NextMonth),
    e(61056, Human, "政府. 媒体. 其他组织必须复选微信认证", "government, media and other organizations must reuse the verification"),
    e(61057, Human, "公众号仍有快速创建的账号在流程中", "the official account has a fast registration still in progress"),
    e(61058, Human, "用户扫码凭证校验不通过", "the scan ticket failed verification (wrong, expired, used, or retried within 5 s)"),
    e(61028, Stop, "第三方平台未发布", "the third-party platform is not published"),
    e(61029, Stop, "第三方平台缺少必备权限集(帐号服务权限. 程序帐号管理权限. 小程序开发管理与数据分析权限)", "the platform lacks required permission sets (account service, mini-program account \
        management, mini-program development management and analytics)"),
    e(61060, Human, "转 uri 不合法", "invalid redirect URI (the document's 转 is 跳转)"),
    e(61061, Human, "海外帐号不允许快速创建", "overseas accounts may not fast-register"),
    // ---- checkwxverifynickname (§3.1) ----
    e(53010, Human, "名称格式不合法", "invalid name format"),
    e(53011, Retry, "名称检测命中频率限制", "name check rate-limited").pace(SlowDown),
    e(53012, Human, "禁止使用该名称", "this name is forbidden"),
    e(53013, Human, "公众号：名称与已有公众号名称重复;小程序：该名称与已有小程序名称重复", "the name duplicates an existing account of the same kind"),
    e(53014, Human, "公众号：公众号已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A};小程序：小程序已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A}", "an account of the same kind holds {name A+}; only its principal may apply for {name A}"),
    e(53015, Human, "公众号：该名称与已有小程序名称重复，需与该小程序帐号相同主体才可申请;小程序：该名称与已有公众号名称重复，需与该公众号帐号相同主体才可申请", "the name duplicates an account of the other kind; only its principal may apply"),
    e(53016, Human, "公众号：该名称与已有多个小程序名称重复，暂不支持申请;小程序：该名称与已有多个公众号名称重复，暂不支持申请", "the name duplicates several accounts of the other kind; not supported"),
    e(53017, Human, "公众号：小程序已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A};小程序：公众号已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A}", "an account of the other kind holds {name A+}; only its principal may apply for {name A}"),
    e(53018, Human, "名称命中微信号", "the name matches a WeChat ID"),
    e(53019, Human, "名称在保护期内", "the name is in a protection period"),
    // ---- setnickname (§3.2) ----
    e(91001, Human, "不是公众号快速创建的小程序", "not a mini-program fast-registered through an official account"),
    e(91002, Human, "小程序发布后不可改名", "a published mini-program cannot be renamed here"),
    e(91003, Human, "改名状态不合法", "the rename is not allowed in the account's current state"),
    e(91004, Human, "昵称不合法", "invalid nickname"),
    e(91005, Human, "昵称命中主体保护", "the nickname is protected for another principal"),
    e(91006, Human, "昵称命中微信号", "the nickname matches a WeChat ID"),
    e(91007, Human, "昵称已被占用", "the nickname is taken"),
    e(91008, Human, "昵称命中 7 天侵权保护期", "the nickname is in a 7-day infringement protection period"),
    e(91009, Human, "需要提交材料", "supporting materials are required"),
    e(91010, Human, "其他错误", "other error (setnickname)"),
    e(91015, Human, "创建的小程序名称与对应公众号主体不一致", "the name does not match the official account's principal"),
    e(91019, Human, "小程序正在审核中", "the mini-program is under review (not necessarily a name audit)"),
    // ---- api_wxa_querynickname (§3.3) ----
    e(91011, Human, "查不到昵称修改审核单信息", "no nickname audit found for this audit_id"),
    e(91012, Human, "其它错误", "other error (querynickname)"),
    // ---- modifyheadimage (§4) and media upload ----
    e(40097, Human, "参数错误", "invalid parameter"),
    e(41006, Human, "media_id 不能为空", "media_id is missing"),
    e(40007, Human, "非法的 media_id", "invalid media_id"),
    e(46001, Human, "media_id 不存在", "media_id does not exist"),
    e(40009, Human, "图片尺寸太大", "image too large"),
    e(53202, Defer, "本月头像修改次数已用完", "the avatar change quota of this month is used up").until(NextMonth),
    // ---- modifysignature (§5) ----
    e(53200, Defer, "本月功能介绍修改次数已用完", "the signature change quota of this month is used up").until(NextMonth),
    e(53201, Human, "功能介绍内容命中黑名单关键字", "the signature contains blacklisted words"),
    e(53204, Human, "功能介绍内容不合法", "invalid signature"),
    // ---- addcategory / modifycategory / deletecategory (§6) ----
    e(53300, Defer, "超出每月次数限制", "the monthly category change limit is exceeded").until(NextMonth),
    e(53301, Human, "超出可配置类目总数限制", "too many categories for this account"),
    e(53302, Human, "当前账号主体类型不允许设置此种类目", "this category is not allowed for the account's principal type"),
    e(53303, Human, "提交的参数不合法", "invalid parameters"),
    e(53304, Human, "与已有类目重复", "the category is already set"),
    e(53305, Human, "包含未通过 IPC 校验的类目", "contains a category that failed the ICP filing check (the document says IPC)"),
    e(53306, Human, "修改类目只允许修改类目资质，不允许修改类目 ID", "modifying a category may change its certificates, not its ids"),
    e(53307, Human, "只有审核失败的类目允许修改", "only categories whose audit failed may be modified"),
    e(53308, Human, "审核中的类目不允许删除", "a category in review cannot be deleted"),
    // ---- componentrebindadmin (§7; also fastregister-intro §2.4.3) ----
    e(85060, Human, "无效的 taskid", "invalid taskid"),
    e(85027, Human, "身份证绑定管理员名额达到上限", "the new admin's ID card is bound to too many accounts"),
    e(85061, Human, "手机号绑定管理员名额达到上限", "the new admin's phone number is bound to too many accounts"),
    e(85026, Human, "微信号绑定管理员名额达到上限", "the new admin's WeChat ID is bound to too many accounts"),
    e(85063, Human, "身份证黑名单", "the new admin's ID card is blacklisted"),
    e(85062, Human, "手机号黑名单", "the new admin's phone number is blacklisted"),
    // ---- Codes NOTES.md lists beyond the two documents (uploads, quotas, live answers) ----
    e(40004, Human, "不合法的媒体文件类型", "invalid media type"),
    e(40006, Human, "不合法的文件大小", "invalid media size"),
    e(41005, Human, "缺少多媒体文件数据", "media data missing"),
    e(41033, Human, "非法的注册类型（帐号不是通过第三方平台接口创建的）", "invalid register type: the account was not created through the platform's APIs"),
    e(45035, Stop, "IP 不在白名单中", "the calling IP address is not on the whitelist"),
    e(47003, Human, "参数错误", "argument invalid"),
    e(48004, Blocked, "api 接口被封禁", "API banned for this account (irregularities)"),
    e(50002, Blocked, "用户受限，可能是违规后接口被封禁", "user limited: the account is frozen or closed"),
    e(53203, Defer, "当前不可修改头像", "the avatar cannot be changed now").until(NextMonth),
    e(53205, Human, "头像裁剪框不合法", "the avatar crop box is invalid"),
    e(76021, Human, "cgi_path 填错了", "invalid cgi_path (quota/get)"),
    e(76022, Human, "当前调用接口使用的 token 与 api 所属账号不符，或该 api 无次数限制", "no quota for this cgi_path with this token (quota/get)"),
];

/// The catalogue entry for `code` whatever token the call carried (the first entry for a
/// code that only has token-specific ones), if the documents list it.
pub fn lookup(code: i64) -> Option<&'static ErrInfo> {
    let mut entries = CATALOGUE.iter().filter(|e| e.code == code);
    let first = entries.next()?;
    Some(if first.token.is_none() { first } else { entries.find(|e| e.token.is_none()).unwrap_or(first) })
}

/// The entry for `code` on a call that carried `token`: the entry for that token kind where
/// there is one, else the code's general entry.
pub fn lookup_on(code: i64, token: TokenKind) -> Option<&'static ErrInfo> {
    let exact = |kind| CATALOGUE.iter().find(|e| e.code == code && e.token == Some(kind));
    let component = (token == TokenKind::None).then(|| exact(TokenKind::Component)).flatten();
    exact(token).or(component).or_else(|| CATALOGUE.iter().find(|e| e.code == code && e.token.is_none()))
}

/// Every entry for `code`: the general one first, then the token-specific ones.
pub fn entries(code: i64) -> Vec<&'static ErrInfo> {
    let mut all: Vec<_> = CATALOGUE.iter().filter(|e| e.code == code).collect();
    all.sort_by_key(|e| e.token.is_some());
    all
}

/// The IP address in WeChat's IP-whitelist errmsg: `access clientip is not registered
/// requestIP: 203.0.113.9 rid: …` (61004), `invalid ip 203.0.113.9 ipv6 …, not in whitelist`
/// (40164).
pub fn whitelist_ip(errmsg: &str) -> Option<String> {
    ["requestIP:", "requestIP :", "invalid ip"].iter().find_map(|marker| {
        let at = errmsg.find(marker)? + marker.len();
        let ip: String =
            errmsg[at..].trim_start().chars().take_while(|c| c.is_ascii_hexdigit() || *c == '.' || *c == ':').collect();
        let ip = ip.trim_end_matches(':');
        (ip.contains('.') || ip.contains(':')).then(|| ip.to_string())
    })
}

/// Every entry, in catalogue order.
pub fn all() -> &'static [ErrInfo] {
    CATALOGUE
}

/// The class `code` is treated as whatever the token; an unknown code needs a person.
pub fn class_of(code: i64) -> ErrClass {
    lookup(code).map(|e| e.class).unwrap_or(ErrClass::Human)
}

/// The class `code` is treated as on a call that carried `token`.
pub fn class_on(code: i64, token: TokenKind) -> ErrClass {
    lookup_on(code, token).map(|e| e.class).unwrap_or(ErrClass::Human)
}

/// For a `defer` code, when to try again (the entry's [`ErrInfo::defer`]).
pub fn defer_until(code: i64) -> Option<DeferUntil> {
    lookup(code).and_then(|e| e.defer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Verbatim copies of `shared/api-docs/`, so that the test sees what the catalogue was
    /// written from.
    const SETTINGS: &str = include_str!("../fixtures/api-docs/fastregister-and-settings.md");
    const INTRO: &str = include_str!("../fixtures/api-docs/fastregister-intro.md");
    const NOTES: &str = include_str!("../fixtures/api-docs/NOTES.md");

    /// Codes from markdown table rows whose first cell is a 5-digit number, with the row's
    /// second cell (the document's Chinese text). Handles rows with and without a leading `|`.
    fn table_codes(doc: &str) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for line in doc.lines() {
            if !line.contains('|') {
                continue;
            }
            let mut cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.first() == Some(&"") {
                cells.remove(0);
            }
            let Some(first) = cells.first() else { continue };
            if first.len() == 5 && first.bytes().all(|b| b.is_ascii_digit()) {
                let code: i64 = first.parse().expect("five ASCII digits parse");
                out.push((code, cells.get(1).copied().unwrap_or("").to_string()));
            }
        }
        out
    }

    /// Codes mentioned in running text: 5-digit numbers standing alone (not inside an appid,
    /// a ticket or a longer number), and negative numbers such as `−1` (U+2212 or `-`)
    /// preceded by a space.
    fn text_codes(doc: &str) -> BTreeSet<i64> {
        let chars: Vec<char> = doc.chars().collect();
        let mut out = BTreeSet::new();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let before = start.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i).copied();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            let minus = matches!(before, Some('−') | Some('-'))
                && start.checked_sub(2).map(|j| chars[j].is_whitespace()).unwrap_or(true);
            let Ok(n) = digits.parse::<i64>() else {
                continue;
            };
            if minus {
                out.insert(-n);
            } else if digits.len() == 5 {
                out.insert(n);
            }
        }
        out
    }

    fn documented_codes() -> BTreeSet<i64> {
        let mut codes: BTreeSet<i64> = BTreeSet::new();
        for doc in [SETTINGS, INTRO, NOTES] {
            codes.extend(table_codes(doc).into_iter().map(|(c, _)| c));
        }
        codes.extend(text_codes(NOTES));
        codes
    }

    #[test]
    fn extraction_finds_what_the_documents_list() {
        let codes = documented_codes();
        // Spot checks from each source, so a broken extractor cannot pass vacuously.
        for c in [-1, 61051, 53010, 91015, 53202, 53308, 85062, 45009, 61005, 61006, 91019] {
            assert!(codes.contains(&c), "extractor missed {c}");
        }
        assert!(codes.len() >= 70, "only {} codes extracted", codes.len());
        // Nothing that is not an errcode: no timestamps, appid fragments or quotas.
        for c in &codes {
            assert!(*c == -1 || (40000..100000).contains(c), "odd code {c}");
        }
    }

    #[test]
    fn every_documented_code_is_catalogued() {
        let mut missing = Vec::new();
        for code in documented_codes() {
            match lookup(code) {
                None => missing.push(code),
                Some(e) => {
                    assert!(!e.zh.trim().is_empty(), "{code}: empty zh");
                    assert!(!e.en.trim().is_empty(), "{code}: empty en");
                }
            }
        }
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    #[test]
    fn chinese_text_is_the_documents_own() {
        for doc in [SETTINGS, INTRO] {
            for (code, text) in table_codes(doc) {
                let entry = lookup(code).unwrap_or_else(|| panic!("{code} missing"));
                assert_eq!(entry.zh, text, "{code}: zh differs from the document");
            }
        }
    }

    #[test]
    fn every_entry_is_filled() {
        for e in all() {
            assert!(!e.zh.trim().is_empty(), "{}: empty zh", e.code);
            assert!(!e.en.trim().is_empty(), "{}: empty en", e.code);
            // A continuation line that lost its indentation would show as a double space.
            assert!(!e.en.contains("  "), "{}: double space in the gloss", e.code);
        }
    }

    const RETRY: &[i64] = &[-1, 45011, 53011];
    const TOKEN: &[i64] = &[40001, 40014, 42001];
    /// 61055 is a registration code, but a quota: the row waits for next month (DESIGN §5).
    const DEFER: &[i64] = &[45009, 53200, 53202, 53203, 53300, 61055];
    /// Whatever the token (40013 only on the component's: below).
    const STOP: &[i64] = &[40125, 41004, 40164, 45035, 61004, 61005, 61006, 61028, 61029];
    const BLOCKED: &[i64] = &[61023, 61003, 61007, 48001, 48004, 50002];

    #[test]
    fn design_classes() {
        for (codes, class) in [
            (RETRY, ErrClass::Retry),
            (TOKEN, ErrClass::Token),
            (DEFER, ErrClass::Defer),
            (STOP, ErrClass::Stop),
            (BLOCKED, ErrClass::Blocked),
        ] {
            for &c in codes {
                assert_eq!(class_of(c), class, "{c}");
                assert_eq!(class_on(c, TokenKind::Authorizer), class, "{c} on an authorizer's call");
            }
        }
        let special: Vec<i64> = [RETRY, TOKEN, DEFER, STOP, BLOCKED].concat();
        for e in all().iter().filter(|e| !special.contains(&e.code) && e.token.is_none()) {
            assert_eq!(e.class, ErrClass::Human, "{}", e.code);
        }
        for c in (61051..=61061).filter(|c| *c != 61055) {
            assert_eq!(class_of(c), ErrClass::Human, "{c}");
        }
        assert_eq!(class_of(123_456), ErrClass::Human, "unknown codes need a person");
        assert!(lookup(123_456).is_none());
    }

    /// DESIGN §5: 40013 on the component's credentials stops the run, on one account's call
    /// it is that row's; a wrong secret answered the older way (40001 from
    /// api_component_token) stops it too, while 40001 on a component_access_token call is a
    /// token to refresh.
    #[test]
    fn classes_that_depend_on_the_token() {
        assert_eq!(class_on(40013, TokenKind::Component), ErrClass::Stop);
        assert_eq!(class_on(40013, TokenKind::None), ErrClass::Stop);
        assert_eq!(class_on(40013, TokenKind::Authorizer), ErrClass::Human);
        assert_eq!(class_of(40013), ErrClass::Human);
        assert_eq!(class_on(40001, TokenKind::None), ErrClass::Stop);
        assert_eq!(class_on(40001, TokenKind::Component), ErrClass::Token);
        assert_eq!(class_on(40001, TokenKind::Authorizer), ErrClass::Token);
        assert_eq!(lookup(40013).map(|e| e.token), Some(None), "lookup gives the general entry");
        assert_eq!(entries(40013).len(), 2);
        assert_eq!(class_on(123_456, TokenKind::Component), ErrClass::Human);
    }

    #[test]
    fn whitelist_errmsgs_name_the_ip_wechat_saw() {
        let msg = "access clientip is not registered requestIP: 203.0.113.9 rid: 6571a2b3-1c2d3e4f-5a6b7c8d";
        assert_eq!(whitelist_ip(msg).as_deref(), Some("203.0.113.9"));
        let v6 = "invalid ip 2001:db8::1 ipv6 2001:db8::1, not in whitelist rid: 1";
        assert_eq!(whitelist_ip(v6).as_deref(), Some("2001:db8::1"));
        assert_eq!(whitelist_ip("no address here"), None);
        assert_eq!(whitelist_ip("access clientip is not registered"), None);
    }

    #[test]
    fn no_duplicate_codes() {
        let mut seen = BTreeMap::new();
        for (i, e) in all().iter().enumerate() {
            if let Some(first) = seen.insert((e.code, e.token.map(|t| t as u8)), i) {
                panic!("{} is at {first} and {i}", e.code);
            }
        }
        for e in all().iter().filter(|e| e.token.is_some()) {
            assert!(all().iter().any(|g| g.code == e.code && g.token.is_none()), "{}: no general entry", e.code);
        }
    }

    #[test]
    fn defer_until_matches_defer_class() {
        for e in all() {
            assert_eq!(e.defer.is_some(), e.class == ErrClass::Defer, "{}", e.code);
            // A spent quota waits for its reset, the one the entry names.
            assert!(e.pace != Some(Pace::Exhausted) || e.defer.is_some(), "{}", e.code);
        }
        for e in all().iter().filter(|e| e.token.is_none()) {
            assert_eq!(defer_until(e.code).is_some(), e.class == ErrClass::Defer, "{}", e.code);
        }
        let paced: Vec<_> = all().iter().filter_map(|e| Some((e.code, e.pace?))).collect();
        assert_eq!(paced, [(45009, Pace::Exhausted), (45011, Pace::SlowDown), (53011, Pace::SlowDown)]);
        assert_eq!(defer_until(45009), Some(DeferUntil::NextDay));
        for c in [53200, 53202, 53300] {
            assert_eq!(defer_until(c), Some(DeferUntil::NextMonth), "{c}");
        }
        assert_eq!(defer_until(123_456), None);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test timestamp").with_timezone(&Utc)
    }

    #[test]
    fn not_before_is_beijing_midnight() {
        // 15:59 UTC is 23:59 in Beijing: the next Beijing day starts a minute later.
        let now = utc("2026-11-21T15:59:00Z");
        assert_eq!(DeferUntil::NextDay.not_before(now), utc("2026-11-21T16:00:00Z"));
        // 16:00 UTC is already the 22nd in Beijing.
        let now = utc("2026-11-21T16:00:00Z");
        assert_eq!(DeferUntil::NextDay.not_before(now), utc("2026-11-22T16:00:00Z"));
        // 30 Nov 17:00 UTC is 1 Dec in Beijing: next month is January.
        let now = utc("2026-11-30T17:00:00Z");
        assert_eq!(DeferUntil::NextMonth.not_before(now), utc("2026-12-31T16:00:00Z"));
        let now = utc("2026-11-30T15:00:00Z");
        assert_eq!(DeferUntil::NextMonth.not_before(now), utc("2026-11-30T16:00:00Z"));
        // 31 Dec 16:30 UTC is already 1 January in Beijing: the next reset is a year away.
        let now = utc("2026-12-31T16:30:00Z");
        assert_eq!(DeferUntil::NextYear.not_before(now), utc("2027-12-31T16:00:00Z"));
        let now = utc("2026-12-31T15:30:00Z");
        assert_eq!(NAME_CHANGES_RESET.not_before(now), utc("2026-12-31T16:00:00Z"));
    }
}
