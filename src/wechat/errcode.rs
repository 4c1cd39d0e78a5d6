//! The errcode catalogue: every errcode the API documents list, with its Chinese text, an
//! English gloss, a hint for ops staff and the class that decides what the runner does
//! (DESIGN §5). `wxprov explain CODE` prints an entry; the runner takes the class to decide
//! between retrying, refreshing a token, deferring a row and handing it to a person, and
//! copies the hint into `results.csv` and `failed.csv`.
//!
//! The Chinese texts are the documents' own (`fastregister-and-settings.md`,
//! `fastregister-intro.md`), typos included, so that ops staff can search for them; codes
//! that only `NOTES.md` names (tokens, quotas, general errors) carry the platform's wording.
//! A unit test re-reads copies of the three documents and fails if a code is missing.

use chrono::{DateTime, Utc};

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
    /// The platform's own credentials or setup: the run stops at once (exit 1), changing no
    /// step; the hint says what to fix outside the sheet.
    Stop,
    /// One account's authorization or a platform setting outside the sheet: the step is
    /// `blocked` and tried again when its cause may have changed, else once a Beijing day.
    Blocked,
    /// Needs a person: the hint says what to fix in the sheet.
    Human,
}

impl ErrClass {
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

    /// One sentence on what wxprov does with an error of this class.
    pub fn describe(self) -> &'static str {
        match self {
            ErrClass::Retry => "transient: wxprov backs off and retries, up to [retry] max_attempts",
            ErrClass::Token => "bad token: wxprov drops the cached token, refreshes it and calls once more",
            ErrClass::Defer => "quota spent: wxprov defers the row and a later run continues it",
            ErrClass::Stop => {
                "the platform's own credentials or setup: wxprov stops the run at once (exit 1) and changes no \
                 row; fix what the hint says and run again"
            }
            ErrClass::Blocked => {
                "outside the sheet: the step is blocked until what the hint names is fixed (a token \
                 imported or recovered, a new authorization); a later run tries it again, no sheet change \
                 needed"
            }
            ErrClass::Human => "needs a person: the row goes to failed.csv until its input changes",
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
/// one defers the nickname step to 1 January, Beijing time.
pub const NAME_CHANGES_RESET: DeferUntil = DeferUntil::NextYear;

impl DeferUntil {
    /// The moment after `now` at which the quota resets: midnight Beijing time of the next
    /// day, of the first of next month, or of 1 January next year (`crate::beijing`).
    pub fn not_before(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            DeferUntil::NextDay => crate::beijing::next_day(now),
            DeferUntil::NextMonth => crate::beijing::next_month(now),
            DeferUntil::NextYear => crate::beijing::next_year(now),
        }
    }

    /// The rule in words, for `explain` and reports.
    pub fn describe(self) -> &'static str {
        match self {
            DeferUntil::NextDay => "the next day, Beijing time (00:00 UTC+8)",
            DeferUntil::NextMonth => "the first of next month, Beijing time (00:00 UTC+8)",
            DeferUntil::NextYear => "1 January next year, Beijing time (00:00 UTC+8)",
        }
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct ErrInfo {
    pub code: i64,
    /// `None`: whatever token the call carried. `Some(kind)`: only for calls that carried
    /// that kind (DESIGN §5: 40013 on the component's credentials stops the run, on one
    /// account's call it is that row's problem). An entry for [`TokenKind::Component`] also
    /// covers `api_component_token` ([`TokenKind::None`]), which carries the component's
    /// secret instead of a token; a [`TokenKind::None`] entry covers that call alone.
    pub token: Option<TokenKind>,
    pub zh: &'static str,
    pub en: &'static str,
    pub hint: &'static str,
    pub class: ErrClass,
}

/// Builds an entry; keeps the table below to one call per code.
const fn e(code: i64, class: ErrClass, zh: &'static str, en: &'static str, hint: &'static str) -> ErrInfo {
    ErrInfo { code, token: None, zh, en, hint, class }
}

/// An entry for calls that carried `token` only.
const fn on(token: TokenKind, entry: ErrInfo) -> ErrInfo {
    ErrInfo { token: Some(token), ..entry }
}

pub use super::api::TokenKind;
use ErrClass::{Blocked, Defer, Human, Retry, Stop, Token};
use TokenKind::Component;

// Hints shared by several codes.
const H_TOKEN: &str = "wxprov drops the cached token, refreshes it and calls once more. If it \
    keeps coming back: check WXPROV_COMPONENT_SECRET, and make sure no other system refreshes \
    the same authorizer token (they invalidate each other's; share one through \
    WXPROV_TOKEN_COMMAND).";
const H_TICKET: &str = "The component_verify_ticket is stale (WeChat pushes one every 10 \
    minutes; it lives 12 h). Make sure `wxprov serve` is running and reachable at the \
    platform's authorization-event URL, or set WXPROV_COMPONENT_VERIFY_TICKET; then run again. \
    No row needs changing.";
const H_SECRET: &str = "The component secret is wrong: check WXPROV_COMPONENT_SECRET (or the \
    file named by WXPROV_COMPONENT_SECRET_FILE) against open.weixin.qq.com (管理中心 → 第三方平台 \
    → AppSecret), then run again. No row needs changing.";
/// The IP whitelist; [`hint_for`] puts the IP WeChat saw in place of "this machine's IP".
const H_WHITELIST: &str = "Add this machine's IP to the platform's IP whitelist on \
    open.weixin.qq.com (开发资料 → 白名单), then run again. No row needs changing.";
const H_AUTH_CODE: &str = "The authorization_code from fastregister could not be exchanged for \
    a refresh token (it is single-use and short-lived). The mini-program exists and its appid \
    is in the ledger: run `wxprov tokens recover` to fetch its refresh token through \
    api_get_authorizer_list, then run again.";
const H_NAME_TAKEN: &str = "The name is not available. Put another name in the nickname column \
    and run again.";
const H_NAME_SAME_PRINCIPAL: &str = "Only the entity that owns the similar name may use it. Put \
    another name in the nickname column, or, if this entity does own it, add proof (e.g. \
    《商标注册证》) in naming_materials and run again with --retry-failed.";
const H_NEW_ADMIN_QUOTA: &str = "The new admin already manages as many accounts as allowed. \
    Have them give up an admin role elsewhere or choose another person, then send the \
    merchant a fresh rebind link from `wxprov links` and have them redo it.";
const H_REUPLOAD: &str = "The image's media_id was not accepted: temporary media expire after \
    3 days and must be uploaded with the mini-program's own token. Run again with \
    --retry-failed so wxprov uploads the file again; if it repeats, report it with the run id.";

const CATALOGUE: &[ErrInfo] = &[
    // ---- General, tokens and quotas (NOTES.md; the platform's global return codes) ----
    e(
        -1,
        Retry,
        "系统繁忙，此时请开发者稍候再试",
        "system busy, try again later",
        "Transient: wxprov retries with backoff. If a row keeps ending with -1 over several \
        runs, run again later; nothing in the sheet needs changing.",
    ),
    e(
        40001,
        Token,
        "获取 access_token 时 AppSecret 错误，或者 access_token 无效",
        "invalid credential: wrong AppSecret or invalid access token",
        H_TOKEN,
    ),
    on(
        TokenKind::None,
        e(
            40001,
            Stop,
            "获取 access_token 时 AppSecret 错误，或者 access_token 无效",
            "wrong AppSecret (api_component_token's older answer; it now says 40125)",
            H_SECRET,
        ),
    ),
    e(40014, Token, "不合法的 access_token", "invalid access token", H_TOKEN),
    e(42001, Token, "access_token 超时", "access token expired", H_TOKEN),
    e(
        41001,
        Human,
        "缺少 access_token 参数",
        "access_token missing",
        "The call went out without a token. If WXPROV_TOKEN_COMMAND is set, check that it \
        prints a non-empty access_token for this appid; otherwise it is a wxprov bug: report \
        it with the run id.",
    ),
    e(
        40013,
        Human,
        "不合法的 AppID",
        "invalid AppID",
        "Check the appid / official_appid column: `wx` followed by 16 hex digits, no spaces or \
        stray characters, and an account that exists.",
    ),
    on(
        Component,
        e(
            40013,
            Stop,
            "不合法的 AppID",
            "invalid AppID: WeChat does not know the component appid",
            "WXPROV_COMPONENT_APPID is not the third-party platform's appid: copy it from \
            open.weixin.qq.com (管理中心 → 第三方平台), then run again. No row needs changing.",
        ),
    ),
    e(40125, Stop, "无效的 AppSecret", "invalid AppSecret", H_SECRET),
    e(
        41004,
        Stop,
        "缺少 secret 参数",
        "the AppSecret is missing",
        "The call went out without the component secret: set WXPROV_COMPONENT_SECRET (or \
        WXPROV_COMPONENT_SECRET_FILE naming a file that holds it), then run again. No row needs \
        changing.",
    ),
    e(
        40164,
        Stop,
        "调用接口的 IP 地址不在白名单中",
        "the calling IP address is not on the whitelist",
        H_WHITELIST,
    ),
    e(
        40005,
        Human,
        "不合法的文件类型",
        "invalid file type",
        "An uploaded image is not really BMP/JPEG/GIF/PNG (e.g. a renamed file). Re-save the \
        file named in the avatar, license, id_card, naming_materials or categories column as \
        JPEG or PNG and run again.",
    ),
    e(
        47001,
        Human,
        "解析 JSON/XML 内容错误",
        "the JSON/XML body could not be parsed",
        "WeChat could not read what wxprov sent: a wxprov bug, not a sheet problem. Report it \
        with the run id and the row's line number.",
    ),
    e(
        45009,
        Defer,
        "接口调用超过限制",
        "the API's daily call quota is reached",
        "The daily quota of this API is spent; wxprov defers the row to the next day (Beijing \
        time) and a later run continues. See what is left with `wxprov quota APPID`. Nothing \
        to fix in the sheet.",
    ),
    e(
        45011,
        Retry,
        "API 调用太频繁，请稍候再试",
        "API called too often (frequency limit)",
        "wxprov backs off and retries. If it recurs, lower calls_per_second or \
        per_appid_per_second under [limits] in the job file, or --concurrency.",
    ),
    e(
        48001,
        Blocked,
        "api 功能未授权",
        "API unauthorized for this account",
        "The account has not given the platform this API's permission set (or cannot use it \
        yet, e.g. not verified). Have its admin authorize the platform again with every \
        permission set ticked: `wxprov serve` stores the new refresh token from WeChat's push, \
        and the next run continues the row. No sheet change needed.",
    ),
    // ---- Component authorization (NOTES.md) ----
    e(
        61003,
        Blocked,
        "该帐号未授权给此第三方平台",
        "the component is not authorized by this account",
        "The account in the appid / official_appid column has not authorized this platform, or \
        has revoked it. If the column is right, have the account's admin authorize the \
        platform: `wxprov serve` stores the refresh token from WeChat's push (or run `wxprov \
        tokens recover`), and the next run continues the row.",
    ),
    e(
        61004,
        Stop,
        "access clientip is not registered（调用接口的 IP 未在第三方平台的 IP 白名单中）",
        "this machine's IP address is not on the platform's IP whitelist",
        H_WHITELIST,
    ),
    e(61005, Stop, "component_verify_ticket 已过期", "component verify ticket expired", H_TICKET),
    e(61006, Stop, "component_verify_ticket 无效", "component verify ticket invalid", H_TICKET),
    e(
        61007,
        Blocked,
        "该接口的权限集未授权给第三方平台",
        "API not authorized to the component by this account",
        "The account authorized the platform without this API's permission set. Have its admin \
        authorize again with every permission set ticked (fastregister-intro lists the five): \
        `wxprov serve` stores the new refresh token from WeChat's push, and the next run \
        continues the row. No sheet change needed.",
    ),
    e(61009, Human, "code 无效", "authorization code invalid (already used or wrong)", H_AUTH_CODE),
    e(61010, Human, "code 已过期", "authorization code expired", H_AUTH_CODE),
    e(
        61023,
        Blocked,
        "refresh_token 无效",
        "invalid refresh token",
        "The stored refresh token no longer works (re-authorized, revoked, or refreshed by \
        another system). Run `wxprov tokens recover`, or import a current one with `wxprov \
        tokens import FILE` (CSV appid,refresh_token); if the account unauthorized the \
        platform, have it authorize again (`wxprov serve` stores the new token from WeChat's \
        push). The next run continues the row; no sheet change needed.",
    ),
    // ---- fastregister (fastregister-and-settings.md §1.3) ----
    e(
        61051,
        Human,
        "公众号主体类型不允许快速创建",
        "the official account's principal type may not fast-register",
        "Only verified enterprise, media, government and other-organization official accounts \
        qualify. Put another official account in official_appid, or register this \
        mini-program by hand and remove the row.",
    ),
    e(
        61052,
        Human,
        "公众号未认证",
        "the official account is not verified (微信认证)",
        "The official account in official_appid must complete 微信认证 first. Once it has, \
        send the merchant a fresh link from `wxprov links` and have them scan it again.",
    ),
    e(
        61053,
        Human,
        "超过主体可注册数量上限",
        "the principal has registered as many accounts as allowed",
        "This entity cannot register more mini-programs. Remove the row, or use an official \
        account of another entity in official_appid.",
    ),
    e(
        61054,
        Human,
        "主体黑名单",
        "the principal is blacklisted",
        "WeChat has blacklisted this entity; the merchant must take it up with WeChat. Remove \
        the row.",
    ),
    e(
        61055,
        Defer,
        "超出公众号每月可快速创建限额",
        "the official account's monthly fast-registration limit (5) is reached",
        "This official account has already created 5 mini-programs this month. wxprov drops the \
        row's stored ticket (it will be stale) and keeps the row waiting until the first of next \
        month (Beijing time); then have the merchant scan the `wxprov links` link again (`wxprov \
        serve` stores the new ticket; replace a ticket pasted in the ticket column). Or put \
        another official account in official_appid.",
    ),
    e(
        61056,
        Human,
        "政府. 媒体. 其他组织必须复选微信认证",
        "government, media and other organizations must reuse the verification",
        "Set copy_wx_verify to 1 (or leave it empty) on this row, regenerate its link with \
        `wxprov links`, and have the merchant scan again.",
    ),
    e(
        61057,
        Human,
        "公众号仍有快速创建的账号在流程中",
        "the official account has a fast registration still in progress",
        "An earlier registration by this official account is unfinished (待完成注册). Have the \
        merchant finish or abandon it on mp.weixin.qq.com, then scan a fresh `wxprov links` \
        link.",
    ),
    e(
        61058,
        Human,
        "用户扫码凭证校验不通过",
        "the scan ticket failed verification (wrong, expired, used, or retried within 5 s)",
        "The ticket is no good (wxprov first looked through api_get_authorizer_list for a \
        mini-program this ticket may have created, and found none). Have the merchant scan the \
        `wxprov links` link again (`wxprov serve` stores the new ticket), or paste a new ticket \
        into the ticket column. Never reuse an old ticket.",
    ),
    e(
        61028,
        Stop,
        "第三方平台未发布",
        "the third-party platform is not published",
        "The platform (WXPROV_COMPONENT_APPID) or its latest changes are not fully published \
        (全网发布) on open.weixin.qq.com. Publish it, then run again; no row needs changing.",
    ),
    e(
        61029,
        Stop,
        "第三方平台缺少必备权限集(帐号服务权限. 程序帐号管理权限. 小程序开发管理与数据分析权限)",
        "the platform lacks required permission sets (account service, mini-program account \
        management, mini-program development management and analytics)",
        "Add the missing permission sets to the platform on open.weixin.qq.com and publish it \
        (see 61028); merchants who authorized before must then authorize again.",
    ),
    e(
        61060,
        Human,
        "转 uri 不合法",
        "invalid redirect URI (the document's 转 is 跳转)",
        "The redirect_uri in the authorization link must be on the platform's registered \
        login-authorization domain. Fix the callback base URL `wxprov links` uses, regenerate \
        the links and have the merchant scan again.",
    ),
    e(
        61061,
        Human,
        "海外帐号不允许快速创建",
        "overseas accounts may not fast-register",
        "Overseas official accounts cannot use fast registration. Remove the row and register \
        the mini-program by hand.",
    ),
    // ---- checkwxverifynickname (§3.1) ----
    e(
        53010,
        Human,
        "名称格式不合法",
        "invalid name format",
        "Fix the nickname column: 4-30 characters (a Chinese character counts as 2), no \
        \"小程序\", no special symbols.",
    ),
    e(
        53011,
        Retry,
        "名称检测命中频率限制",
        "name check rate-limited",
        "wxprov backs off and retries. If it recurs, lower the per-minute limit for \
        /cgi-bin/wxverify/checkwxverifynickname under [limits.per_minute] in the job file.",
    ),
    e(
        53012,
        Human,
        "禁止使用该名称",
        "this name is forbidden",
        "WeChat does not allow this name. Put another name in the nickname column and run \
        again.",
    ),
    e(
        53013,
        Human,
        "公众号：名称与已有公众号名称重复;小程序：该名称与已有小程序名称重复",
        "the name duplicates an existing account of the same kind",
        H_NAME_TAKEN,
    ),
    e(
        53014,
        Human,
        "公众号：公众号已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A};小程序：小程序已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A}",
        "an account of the same kind holds {name A+}; only its principal may apply for {name A}",
        H_NAME_SAME_PRINCIPAL,
    ),
    e(
        53015,
        Human,
        "公众号：该名称与已有小程序名称重复，需与该小程序帐号相同主体才可申请;小程序：该名称与已有公众号名称重复，需与该公众号帐号相同主体才可申请",
        "the name duplicates an account of the other kind; only its principal may apply",
        H_NAME_SAME_PRINCIPAL,
    ),
    e(
        53016,
        Human,
        "公众号：该名称与已有多个小程序名称重复，暂不支持申请;小程序：该名称与已有多个公众号名称重复，暂不支持申请",
        "the name duplicates several accounts of the other kind; not supported",
        H_NAME_TAKEN,
    ),
    e(
        53017,
        Human,
        "公众号：小程序已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A};小程序：公众号已有{名称 A+}时，需与该帐号相同主体才可申请{名称 A}",
        "an account of the other kind holds {name A+}; only its principal may apply for {name A}",
        H_NAME_SAME_PRINCIPAL,
    ),
    e(53018, Human, "名称命中微信号", "the name matches a WeChat ID", H_NAME_TAKEN),
    e(
        53019,
        Human,
        "名称在保护期内",
        "the name is in a protection period",
        "The name is reserved for now (e.g. recently given up by another account). Put another \
        name in the nickname column, or try this one again later with --retry-failed.",
    ),
    // ---- setnickname (§3.2) ----
    e(
        91001,
        Human,
        "不是公众号快速创建的小程序",
        "not a mini-program fast-registered through an official account",
        "Only mini-programs created by fastregister can be named this way. Check the appid \
        column; otherwise clear the nickname cell and set the name on mp.weixin.qq.com.",
    ),
    e(
        91002,
        Human,
        "小程序发布后不可改名",
        "a published mini-program cannot be renamed here",
        "Clear the nickname cell for this row; a published mini-program is renamed on \
        mp.weixin.qq.com.",
    ),
    e(
        91003,
        Human,
        "改名状态不合法",
        "the rename is not allowed in the account's current state",
        "Check `wxprov status` for a nickname audit still in review and wait for it. The \
        account's name changes for the year may also be spent (2 a calendar year, reset on 1 \
        January; wxprov checks getaccountbasicinfo first and defers such rows itself). If \
        neither, look at the account on mp.weixin.qq.com, then run again with --retry-failed.",
    ),
    e(
        91004,
        Human,
        "昵称不合法",
        "invalid nickname",
        "Fix the nickname column: 4-30 characters (a Chinese character counts as 2), no \
        \"小程序\", no special symbols.",
    ),
    e(
        91005,
        Human,
        "昵称命中主体保护",
        "the nickname is protected for another principal",
        H_NAME_SAME_PRINCIPAL,
    ),
    e(91006, Human, "昵称命中微信号", "the nickname matches a WeChat ID", H_NAME_TAKEN),
    e(91007, Human, "昵称已被占用", "the nickname is taken", H_NAME_TAKEN),
    e(
        91008,
        Human,
        "昵称命中 7 天侵权保护期",
        "the nickname is in a 7-day infringement protection period",
        "Put another name in the nickname column, or wait 7 days and run again with \
        --retry-failed.",
    ),
    e(
        91009,
        Human,
        "需要提交材料",
        "supporting materials are required",
        "Fill naming_materials with up to five images proving the right to the name (e.g. \
        《商标注册证》, an authorization letter), and make sure license (organizations) or \
        id_card (personal accounts) is set; then run again.",
    ),
    e(
        91010,
        Human,
        "其他错误",
        "other error (setnickname)",
        "WeChat gives no reason. Check the nickname and its materials, try the name on \
        mp.weixin.qq.com to see the message, then run again with --retry-failed.",
    ),
    e(
        91015,
        Human,
        "创建的小程序名称与对应公众号主体不一致",
        "the name does not match the official account's principal",
        "The name must fit the entity behind the official account. Put a matching name in the \
        nickname column, or add proof in naming_materials.",
    ),
    e(
        91019,
        Human,
        "小程序正在审核中",
        "the mini-program is under review (not necessarily a name audit)",
        "Something of this mini-program is under review: a name audit (perhaps one an earlier \
        call opened), or a code or category one. A name step stays in review and each run \
        settles it from the account's name; after 14 days without the name it fails: look in \
        the console for what is under review, and once it has ended run again with \
        --retry-failed.",
    ),
    // ---- api_wxa_querynickname (§3.3) ----
    e(
        91011,
        Human,
        "查不到昵称修改审核单信息",
        "no nickname audit found for this audit_id",
        "WeChat does not know the audit in the ledger (expired, or from another account). Run \
        again with --retry-failed to submit the name anew.",
    ),
    e(
        91012,
        Human,
        "其它错误",
        "other error (querynickname)",
        "The audit query failed without a reason. Run again later; if it persists, check the \
        audit on mp.weixin.qq.com.",
    ),
    // ---- modifyheadimage (§4) and media upload ----
    e(
        40097,
        Human,
        "参数错误",
        "invalid parameter",
        "For the avatar, check avatar_crop: four numbers x1,y1,x2,y2 in [0,1] with x1<x2 and \
        y1<y2. For the signature, check the signature column (4-120 characters).",
    ),
    e(
        41006,
        Human,
        "media_id 不能为空",
        "media_id is missing",
        "No image was sent. Check that the file in the avatar column exists and is not empty, \
        then run again with --retry-failed.",
    ),
    e(
        40007,
        Human,
        "非法的 media_id",
        "invalid media_id",
        "The media_id was rejected: uploaded with another account's token, expired (3 days), \
        or, for categories, certificate keys not in lower case. Run again with --retry-failed \
        so wxprov uploads the image again; if it repeats, report it with the run id.",
    ),
    e(46001, Human, "media_id 不存在", "media_id does not exist", H_REUPLOAD),
    e(
        40009,
        Human,
        "图片尺寸太大",
        "image too large",
        "Shrink the image in the avatar column (at most 2 MB; smaller pixel dimensions help) \
        and run again.",
    ),
    e(
        53202,
        Defer,
        "本月头像修改次数已用完",
        "the avatar change quota of this month is used up",
        "The avatar step is deferred to the first of next month (Beijing time) and a later run \
        continues it. Nothing to fix in the sheet.",
    ),
    // ---- modifysignature (§5) ----
    e(
        53200,
        Defer,
        "本月功能介绍修改次数已用完",
        "the signature change quota of this month is used up",
        "The signature step is deferred to the first of next month (Beijing time) and a later \
        run continues it. Nothing to fix in the sheet.",
    ),
    e(
        53201,
        Human,
        "功能介绍内容命中黑名单关键字",
        "the signature contains blacklisted words",
        "Reword the signature column (no sensitive words, superlatives, contact details or \
        links) and run again.",
    ),
    e(
        53204,
        Human,
        "功能介绍内容不合法",
        "invalid signature",
        "Fix the signature column: 4-120 characters of plain text, no links or special \
        symbols.",
    ),
    // ---- addcategory / modifycategory / deletecategory (§6) ----
    e(
        53300,
        Defer,
        "超出每月次数限制",
        "the monthly category change limit is exceeded",
        "The categories step is deferred to the first of next month (Beijing time) and a later \
        run continues it. Nothing to fix in the sheet.",
    ),
    e(
        53301,
        Human,
        "超出可配置类目总数限制",
        "too many categories for this account",
        "The account would exceed its category_limit. Drop categories from the categories \
        column, or remove existing ones with a leading `-`, and run again.",
    ),
    e(
        53302,
        Human,
        "当前账号主体类型不允许设置此种类目",
        "this category is not allowed for the account's principal type",
        "Pick a category this kind of entity may use (see `wxprov categories`) and fix the \
        categories column.",
    ),
    e(
        53303,
        Human,
        "提交的参数不合法",
        "invalid parameters",
        "Check the categories column: ids or names as `wxprov categories` lists them, and each \
        certificate named exactly as the category requires, in brackets with its image.",
    ),
    e(
        53304,
        Human,
        "与已有类目重复",
        "the category is already set",
        "The account already has this category: remove it from the categories column (wxprov \
        normally skips these; report it if it recurs).",
    ),
    e(
        53305,
        Human,
        "包含未通过 IPC 校验的类目",
        "contains a category that failed the ICP filing check (the document says IPC)",
        "The category needs an ICP filing (备案) the account does not have. Remove it from the \
        categories column, or complete the filing first.",
    ),
    e(
        53306,
        Human,
        "修改类目只允许修改类目资质，不允许修改类目 ID",
        "modifying a category may change its certificates, not its ids",
        "To change a category, remove the old one (`-first/second`) and add the new one in the \
        categories column.",
    ),
    e(
        53307,
        Human,
        "只有审核失败的类目允许修改",
        "only categories whose audit failed may be modified",
        "The category is in review or approved. Wait for its audit (`wxprov status`), or \
        remove and re-add it in the categories column.",
    ),
    e(
        53308,
        Human,
        "审核中的类目不允许删除",
        "a category in review cannot be deleted",
        "Wait until the category's audit ends (`wxprov status`), then run again with \
        --retry-failed to remove it.",
    ),
    // ---- componentrebindadmin (§7; also fastregister-intro §2.4.3) ----
    e(
        85060,
        Human,
        "无效的 taskid",
        "invalid taskid",
        "The rebind taskid is wrong or expired. Send the merchant a fresh rebind link from \
        `wxprov links` and have both admins redo it (`wxprov serve` stores the new taskid), or \
        paste a new taskid into rebind_taskid.",
    ),
    e(
        85027,
        Human,
        "身份证绑定管理员名额达到上限",
        "the new admin's ID card is bound to too many accounts",
        H_NEW_ADMIN_QUOTA,
    ),
    e(
        85061,
        Human,
        "手机号绑定管理员名额达到上限",
        "the new admin's phone number is bound to too many accounts",
        H_NEW_ADMIN_QUOTA,
    ),
    e(
        85026,
        Human,
        "微信号绑定管理员名额达到上限",
        "the new admin's WeChat ID is bound to too many accounts",
        H_NEW_ADMIN_QUOTA,
    ),
    e(
        85063,
        Human,
        "身份证黑名单",
        "the new admin's ID card is blacklisted",
        "Choose another person as the new admin, send a fresh rebind link from `wxprov links` \
        and have the admins redo it.",
    ),
    e(
        85062,
        Human,
        "手机号黑名单",
        "the new admin's phone number is blacklisted",
        "Have the new admin use another phone number (or choose another person), send a fresh \
        rebind link from `wxprov links` and have the admins redo it.",
    ),
    // ---- Codes NOTES.md lists beyond the two documents (uploads, quotas, live answers) ----
    e(
        40004,
        Human,
        "不合法的媒体文件类型",
        "invalid media type",
        "WeChat refused the upload's media type: the image named in the avatar, license, id_card, \
        naming_materials or categories column must be a PNG, JPEG or GIF (a BMP is converted). \
        Re-save it as PNG or JPEG and run again.",
    ),
    e(
        40006,
        Human,
        "不合法的文件大小",
        "invalid media size",
        "The uploaded image is empty or over 2 MB. Shrink or re-save the file the row names and run \
        again.",
    ),
    e(
        41005,
        Human,
        "缺少多媒体文件数据",
        "media data missing",
        "The upload carried no image data: check that the file the row names exists and is not \
        empty, then run again.",
    ),
    e(
        41033,
        Human,
        "非法的注册类型（帐号不是通过第三方平台接口创建的）",
        "invalid register type: the account was not created through the platform's APIs",
        "This mini-program was not fast-registered through this platform, so WeChat does not let the \
        platform read or set its name this way. Check the appid column; if it is right, clear the \
        nickname cell and set the name on mp.weixin.qq.com.",
    ),
    e(45035, Stop, "IP 不在白名单中", "the calling IP address is not on the whitelist", H_WHITELIST),
    e(
        47003,
        Human,
        "参数错误",
        "argument invalid",
        "WeChat found an argument invalid; its errmsg names which. Check the cell of the step in \
        results.csv (a name, signature, crop box or category) and fix it; if the cell is right, \
        report it with the run id.",
    ),
    e(
        48004,
        Blocked,
        "api 接口被封禁",
        "API banned for this account (irregularities)",
        "WeChat has banned this API for the account after irregularities; the merchant must see to \
        it on mp.weixin.qq.com. A later run tries the step again; no sheet change needed.",
    ),
    e(
        50002,
        Blocked,
        "用户受限，可能是违规后接口被封禁",
        "user limited: the account is frozen or closed",
        "The account is frozen, closed or restricted by WeChat; the merchant must restore it on \
        mp.weixin.qq.com. A later run tries the step again; no sheet change needed.",
    ),
    e(
        53203,
        Defer,
        "当前不可修改头像",
        "the avatar cannot be changed now",
        "WeChat does not take an avatar change now; the avatar step is deferred to the first of next \
        month (Beijing time) and a later run continues it. Nothing to fix in the sheet.",
    ),
    e(
        53205,
        Human,
        "头像裁剪框不合法",
        "the avatar crop box is invalid",
        "Fix avatar_crop: four numbers x1,y1,x2,y2 in [0,1] with x1<x2 and y1<y2 (empty for the \
        whole image), then run again.",
    ),
    e(
        76021,
        Human,
        "cgi_path 填错了",
        "invalid cgi_path (quota/get)",
        "The API path given to `wxprov quota` is not one WeChat knows: give it as it appears in \
        the call, e.g. /cgi-bin/account/modifysignature.",
    ),
    e(
        76022,
        Human,
        "当前调用接口使用的 token 与 api 所属账号不符，或该 api 无次数限制",
        "no quota for this cgi_path with this token (quota/get)",
        "WeChat keeps no quota for that path under this account's token. Ask about an API the \
        account itself calls, with its own appid.",
    ),
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

/// The hint for an error with `code` and WeChat's `errmsg` on a call that carried `token`:
/// the catalogue's, with the IP WeChat saw where the hint is about the IP whitelist.
pub fn hint_for(code: i64, token: TokenKind, errmsg: &str) -> Option<String> {
    let info = lookup_on(code, token)?;
    match whitelist_ip(errmsg) {
        Some(ip) if info.hint == H_WHITELIST => Some(info.hint.replacen("this machine's IP", &ip, 1)),
        _ => Some(info.hint.to_string()),
    }
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

/// For a `defer` code, when to try again.
pub fn defer_until(code: i64) -> Option<DeferUntil> {
    match code {
        45009 => Some(DeferUntil::NextDay),
        53200 | 53202 | 53203 | 53300 | 61055 => Some(DeferUntil::NextMonth),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Verbatim copies of `shared/api-docs/`, so that the test sees what the catalogue was
    /// written from.
    const SETTINGS: &str = include_str!("../../tests/fixtures/api-docs/fastregister-and-settings.md");
    const INTRO: &str = include_str!("../../tests/fixtures/api-docs/fastregister-intro.md");
    const NOTES: &str = include_str!("../../tests/fixtures/api-docs/NOTES.md");

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
                    assert!(!e.hint.trim().is_empty(), "{code}: empty hint");
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
            assert!(e.hint.trim().len() >= 20, "{}: hint too short", e.code);
            // A continuation line that lost its indentation would show as a double space.
            assert!(!e.hint.contains("  "), "{}: double space in hint", e.code);
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
    fn whitelist_hints_name_the_ip_wechat_saw() {
        let msg = "access clientip is not registered requestIP: 203.0.113.9 rid: 6571a2b3-1c2d3e4f-5a6b7c8d";
        assert_eq!(whitelist_ip(msg).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            hint_for(61004, TokenKind::None, msg).as_deref(),
            Some(
                "Add 203.0.113.9 to the platform's IP whitelist on open.weixin.qq.com (开发资料 → 白名单), \
                 then run again. No row needs changing."
            )
        );
        let v6 = "invalid ip 2001:db8::1 ipv6 2001:db8::1, not in whitelist rid: 1";
        assert_eq!(whitelist_ip(v6).as_deref(), Some("2001:db8::1"));
        assert_eq!(hint_for(61004, TokenKind::None, "no address here"), lookup(61004).map(|e| e.hint.to_string()));
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
        for e in all().iter().filter(|e| e.token.is_none()) {
            assert_eq!(defer_until(e.code).is_some(), e.class == ErrClass::Defer, "{}", e.code);
        }
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
