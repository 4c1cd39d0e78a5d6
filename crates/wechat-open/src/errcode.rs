//! WeChat's errcodes: every errcode the Open Platform documents list, with its Chinese text,
//! an English gloss and the class that says what a caller does about it — retry, refresh the
//! token, wait for a quota to reset (and until when), stop, or hand it to a person. The class
//! of a few codes depends on whose token the call carried (40013 on the component's own
//! credentials is the platform's setup; on one account's call, that account's appid).
//!
//! The Chinese texts are the documents' own (`fastregister-and-settings.md`,
//! `fastregister-intro.md`, `golive.md`), typos included, so that people can search for them;
//! codes that only `NOTES.md` names (tokens, quotas, general errors) carry the platform's
//! wording. The go-live codes take the classes of `golive.md` §6 as DESIGN §5 refines them:
//! two classes exist for go-live alone ([`ErrClass::Review`], [`ErrClass::Done`]), and two
//! waits ([`DeferUntil::AMinute`], [`DeferUntil::AuditQuota`]). A unit test re-reads copies of
//! the four documents and fails if a code is missing or, for `golive.md`, has another class. What to do
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
    /// An audit is already running (85009): follow it if it is this row's version
    /// (`get_latest_auditstatus`), never submit again while it runs; someone else's is
    /// the row's `blocked`.
    Review,
    /// What the call asks for is already so (85052 on `release`, 89019 on
    /// `setwebviewdomain`): done, once live state confirms it.
    Done,
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
            ErrClass::Review => "review",
            ErrClass::Done => "done",
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
    /// A minute from now, within the same run (61039: the privacy scan after a commit is still
    /// running); the step is taken up again, never committed again ([`DeferUntil::within_run`]).
    AMinute,
    /// The platform's monthly audit quota (85085): until `queryquota`, read at each run, shows
    /// `rest > 0`; at the latest the first of next month, Beijing time, which is what
    /// [`DeferUntil::not_before`] gives ([`DeferUntil::ends_when_quota_returns`]).
    AuditQuota,
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
            DeferUntil::AMinute => now + chrono::Duration::minutes(1),
            DeferUntil::AuditQuota => crate::beijing::next_month(now),
        }
    }

    /// True when the wait is short enough that the same run takes the step up again (61039).
    pub fn within_run(self) -> bool {
        self == DeferUntil::AMinute
    }

    /// True when a later run may end the wait before [`DeferUntil::not_before`]: as soon as
    /// `queryquota` shows `rest > 0` (a temporary increase, 85085).
    pub fn ends_when_quota_returns(self) -> bool {
        self == DeferUntil::AuditQuota
    }

    /// The rule in words.
    pub fn describe(self) -> &'static str {
        match self {
            DeferUntil::NextDay => "the next day, Beijing time (00:00 UTC+8)",
            DeferUntil::NextMonth => "the first of next month, Beijing time (00:00 UTC+8)",
            DeferUntil::NextYear => "1 January next year, Beijing time (00:00 UTC+8)",
            DeferUntil::AMinute => "a minute later, in the same run (never committing again)",
            DeferUntil::AuditQuota => {
                "the first run whose queryquota shows rest > 0; at the latest the first of next month, \
                 Beijing time (00:00 UTC+8)"
            }
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

use DeferUntil::{AMinute, AuditQuota, NextDay, NextMonth};
use ErrClass::{Blocked, Defer, Done, Human, Retry, Review, Stop, Token};
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
    // ---- Go-live (golive.md): privacy (§1) ----
    e(86069, Human, "owner_setting 必填字段缺失", "owner_setting is missing a required field (or gives no contact)"),
    e(86070, Human, "notice_method 必填字段缺失", "owner_setting.notice_method is missing"),
    e(86071, Human, "privacy_ver参数无效", "invalid privacy_ver"),
    e(86072, Human, "store_expire_timestamp 参数无效", "invalid store_expire_timestamp (digits followed by 天, e.g. 180天)"),
    e(86073, Human, "ext_file_media_id 参数无效", "invalid ext_file_media_id"),
    e(86074, Human, "现网隐私协议不存在", "no live privacy guide exists (privacy_ver 1 before the first release)"),
    e(86075, Human, "现网隐私协议的 ext_file_media_id 禁止修改", "the live guide's ext_file_media_id cannot be changed"),
    e(61039, Defer, "隐私接口检查任务未完成，请稍等一分钟再重试", "the privacy scan of the committed code has not finished: wait a minute, do not commit again").until(AMinute),
    e(61040, Human, "ext.json 配置或代码中的隐私接口无权限/未声明", "a privacy API in ext_json or the code is not permitted or not declared"),
    e(61031, Human, "审核中，请不要重复申请", "the privacy-interface application is already in review"),
    e(61032, Human, "视频格式不对，须为 mp4", "the supporting video must be an mp4"),
    e(61033, Human, "视频下载失败", "the supporting video could not be downloaded"),
    e(61034, Human, "必填参数缺失", "a required field of the application is missing"),
    e(61035, Human, "该 api 无需申请", "this API needs no application (check its exact, case-sensitive name)"),
    // ---- Go-live: domains (§2) ----
    e(85015, Human, "该账号不是小程序账号", "the account is not a mini-program"),
    e(85016, Human, "域名数量超过限制", "too many domains of one type"),
    e(85017, Human, "没有新增域名（为空，或未在第三方平台登记，或已存在）", "no domain added: the list is empty, not on the platform's list, or already set"),
    e(85018, Blocked, "域名没有在第三方平台设置", "the domain is not on the third-party platform's own server-domain list"),
    e(85301, Human, "存在不符合域名规则的域名，导致无修改", "a domain breaks the domain rules: nothing was changed"),
    e(85302, Human, "存在缺少 ICP 备案的域名，导致无修改", "a domain has no ICP filing: nothing was changed"),
    e(85303, Human, "同时存在以上两种情况", "domains both break the rules and lack ICP filing: nothing was changed"),
    e(86100, Human, "该 URL 的协议头有误", "the URL's scheme is wrong for its domain type"),
    e(86101, Human, "不支持配置 api.weixin.qq.com", "api.weixin.qq.com cannot be configured as a domain"),
    e(86102, Defer, "每个月只能修改 50 次，超过域名修改次数限制", "the 50 domain changes a month are used up").until(NextMonth),
    e(45082, Human, "域名需要 ICP 备案", "the domain needs an ICP filing"),
    e(89019, Done, "业务域名无更改，无需重复设置", "the business domains are already so: nothing to change"),
    e(89020, Blocked, "尚未设置小程序业务域名（第三方平台未登记）", "the platform has registered no business domain"),
    e(89021, Blocked, "请求保存的域名不是第三方平台已设置的业务域名或其子域名", "the business domain is not one the platform registered, nor a sub-domain of one"),
    e(89029, Human, "业务域名数量超过限制", "too many business domains"),
    e(89231, Human, "个人小程序不支持调用 setwebviewdomain", "a person's mini-program cannot have business domains"),
    e(86103, Human, "check confirmfile fail", "the business domain's confirm file was not reachable or differed"),
    e(44002, Human, "空包体", "empty post data: a POST without a body"),
    // ---- Go-live: code and audit (§3) ----
    e(85064, Human, "找不到模板", "template not found"),
    e(85065, Human, "模板库已满", "the template library is full (200)"),
    e(85013, Human, "无效的自定义配置", "invalid ext_json (unparsable, or with invalid paths)"),
    e(85014, Human, "无效的模板编号", "invalid template_id"),
    e(85043, Human, "模板错误", "template error"),
    e(85044, Human, "代码包超过大小限制", "the code package is over the size limit"),
    e(85045, Human, "ext_json 有不存在的路径", "ext_json names a path that does not exist"),
    e(85046, Human, "tabBar 中缺少 path", "a tabBar item has no path"),
    e(85047, Human, "pages 字段为空", "ext_json's pages is empty"),
    e(85048, Human, "ext_json 解析失败", "ext_json could not be parsed"),
    e(80066, Human, "非法的插件版本", "invalid plugin version"),
    e(80067, Human, "找不到使用的插件", "a plugin the code uses was not found"),
    e(80082, Human, "没有权限使用该插件", "no permission to use the plugin"),
    e(85310, Human, "requiredPrivateInfos 格式或 api 名称错误", "requiredPrivateInfos is malformed or names an unknown API"),
    e(85311, Human, "包含互斥的 api", "requiredPrivateInfos holds mutually exclusive APIs"),
    e(85312, Human, "配置了无权限的 api", "requiredPrivateInfos names an API the account may not use"),
    e(9402202, Retry, "请勿频繁提交，待上一次操作完成后再提交", "one operation at a time: the previous commit or submit of this mini-program has not finished"),
    e(9402203, Human, "标准模板 ext_json 含不合法参数", "a standard template's ext_json holds more than extAppid, ext and window"),
    e(86000, Human, "不是由第三方代小程序调用", "not called by a third-party platform on the mini-program's behalf"),
    e(86001, Human, "不存在第三方已提交的代码", "the platform has committed no code to this mini-program"),
    e(85006, Human, "标签格式错误", "invalid audit item tag"),
    e(85007, Human, "页面路径错误", "invalid audit item page path"),
    e(85011, Human, "标题填写错误", "invalid audit item title"),
    e(85008, Human, "没有审核通过的类目，或类目不属于该小程序", "no approved category, or the category is not the mini-program's"),
    e(85009, Review, "已经有正在审核的版本", "a version is already in audit (one at a time per mini-program)"),
    e(85010, Human, "item_list 有项目为空", "an item_list entry is empty"),
    e(85023, Human, "审核列表填写的项目数不在 1-5 以内", "item_list must hold 1 to 5 items"),
    e(85051, Human, "version_desc 或者 preview_info 超限", "version_desc or preview_info is too long"),
    e(85077, Human, "小程序类目信息失效（含官方下架的类目）", "a category is no longer valid (including ones WeChat withdrew)"),
    e(85085, Defer, "小程序提审数量已达本月上限", "the platform's monthly audit quota is used up").until(AuditQuota),
    e(85086, Human, "提交代码审核之前需提前上传代码", "commit code before submitting it for audit"),
    e(85087, Human, "使用了 navigateToMiniProgram，需声明跳转 appid 列表", "navigateToMiniProgram is used: declare navigateToMiniProgramAppIdList"),
    e(85092, Human, "preview_info 格式错误", "invalid preview_info"),
    e(85093, Human, "视频或图片个数超限", "too many preview videos or pictures"),
    e(85094, Human, "需提供审核机制说明信息", "a content-moderation declaration (ugc_declare) is required"),
    e(86002, Human, "小程序还未设置昵称、头像、简介", "the mini-program's name, avatar or signature is not set yet"),
    e(86007, Human, "小程序禁止提交", "this mini-program may not submit code"),
    e(86009, Human, "服务商新增小程序代码提审能力被限制", "the platform may not submit new mini-programs' code for audit now"),
    e(86010, Human, "服务商迭代小程序代码提审能力被限制", "the platform may not submit updated mini-programs' code for audit now"),
    e(87006, Human, "小游戏不能提交", "a mini-game cannot be submitted this way"),
    e(9400001, Human, "开发小程序已开通直播权限，不支持发布版本", "the mini-program has live streaming enabled: releases are not supported"),
    e(85012, Human, "无效的审核 id", "invalid auditid"),
    e(87013, Defer, "撤回次数达到上限", "the withdrawals allowed (a day, a month) are used up").until(NextDay),
    e(89401, Retry, "系统不稳定，请稍后再试", "system unstable, try again later"),
    e(89402, Human, "该小程序不在待审核队列", "the mini-program has no audit waiting"),
    e(89403, Human, "本单属于平台不支持加急种类", "this audit cannot be expedited"),
    e(89404, Human, "本单已加速成功，请勿重复提交", "this audit is already expedited"),
    e(89405, Defer, "本月加急额度已用完", "the platform's monthly speed-ups are used up: skip the speed-up").until(NextMonth),
    e(85019, Human, "没有审核版本", "no audited version to release"),
    e(85020, Human, "审核状态未满足发布", "the audit has not been approved: nothing to release"),
    e(85052, Done, "版本已发布", "the approved version is already released"),
    e(87011, Human, "现网已经在灰度发布，不能回退", "a phased release is under way: no rollback"),
    e(87012, Human, "该版本不能回退", "this version cannot be rolled back"),
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
    const GOLIVE: &str = include_str!("../fixtures/api-docs/golive.md");

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
        text_codes_of(doc, &[5])
    }

    /// [`text_codes`] with the lengths a positive code may have (`golive.md` also names the
    /// 7-digit codes 94xxxxx).
    fn text_codes_of(doc: &str, lengths: &[usize]) -> BTreeSet<i64> {
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
            } else if lengths.contains(&digits.len()) {
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

    /// Codes the catalogue had from the older documents before golive.md (47001, 48001,
    /// 61007…): their texts and classes are those documents'.
    fn older_codes() -> BTreeSet<i64> {
        let golive_start = all().iter().position(|e| e.code == 86069).expect("the go-live section starts with 86069");
        all()[..golive_start].iter().map(|e| e.code).collect()
    }

    /// A 5- or 7-digit errcode, as `golive.md` writes them.
    fn golive_code(text: &str) -> Option<i64> {
        let text = text.trim();
        (matches!(text.len(), 5 | 7) && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    }

    /// `golive.md`'s table rows whose first cell is one code or several joined by ` / `
    /// (`85092 / 85093`), each with its part of the second cell (`preview_info 格式错误 /
    /// 视频或图片个数超限`), or the whole cell when it has fewer parts.
    fn golive_table_codes() -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for line in GOLIVE.lines().filter(|l| l.trim_start().starts_with('|')) {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            let codes: Vec<Option<i64>> = cells[0].split(" / ").map(golive_code).collect();
            if codes.iter().any(Option::is_none) {
                continue;
            }
            let texts: Vec<&str> = cells.get(1).copied().unwrap_or("").split(" / ").collect();
            for (i, code) in codes.into_iter().flatten().enumerate() {
                let text = if texts.len() == cells[0].split(" / ").count() { texts[i] } else { cells[1] };
                out.push((code, text.to_string()));
            }
        }
        out
    }

    /// Every code `golive.md` names, in its tables or its text.
    fn golive_codes() -> BTreeSet<i64> {
        let mut codes: BTreeSet<i64> = golive_table_codes().into_iter().map(|(c, _)| c).collect();
        codes.extend(text_codes_of(GOLIVE, &[5, 7]));
        codes
    }

    /// The classes of `golive.md` §6 ("Errcode classes for the runner"), read from its table:
    /// each code with its class and wait, ranges (`85013–85048`) standing for the codes of
    /// `golive.md` in them, then refined as DESIGN §5 says.
    fn golive_classes() -> BTreeMap<i64, (ErrClass, Option<DeferUntil>)> {
        let start = GOLIVE.find("## 6. Errcode classes").expect("golive.md has its §6");
        let section = &GOLIVE[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
        let named = golive_codes();
        let mut classes = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let label = cells[0];
            let class = match label {
                l if l.starts_with("retry") => (Retry, None),
                l if l.starts_with("wait-then-retry") => (Defer, Some(AMinute)),
                l if l.starts_with("in review") => (Review, None),
                "defer to next month" => (Defer, Some(NextMonth)),
                "defer to next day" => (Defer, Some(NextDay)),
                "human" => (Human, None),
                l if l.starts_with("already done") => (Done, None),
                "Class" | "---" => continue,
                other => panic!("golive.md §6 has a class this test does not know: {other:?}"),
            };
            for item in cells[1].split(',') {
                // `85052 on release`, `85085 (or a temporary increase)`, `−1`, `85013–85048`.
                let word: String = item
                    .trim()
                    .replace('\u{2212}', "-")
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '–'))
                    .collect();
                let codes: Vec<i64> = match word.split_once('–') {
                    Some((from, to)) => {
                        let (from, to) = (golive_code(from).expect("range start"), golive_code(to).expect("range end"));
                        named.range(from..=to).copied().collect()
                    }
                    None => word.parse().ok().into_iter().collect(),
                };
                for code in codes {
                    classes.insert(code, class);
                }
            }
        }
        // DESIGN §5: a domain not on the platform's list is outside the sheet (blocked); the
        // audit quota waits for queryquota's rest > 0, at the latest the first of next month.
        for code in [85018, 89020, 89021] {
            classes.insert(code, (Blocked, None));
        }
        classes.insert(85085, (Defer, Some(AuditQuota)));
        classes
    }

    #[test]
    fn golive_extraction_finds_what_the_document_lists() {
        let codes = golive_codes();
        for c in [-1, 61039, 85009, 85085, 85052, 89019, 86074, 85093, 9402202, 9400001, 87013, 45082] {
            assert!(codes.contains(&c), "extractor missed {c}");
        }
        assert!(codes.len() >= 85, "only {} codes extracted", codes.len());
        for c in &codes {
            assert!(*c == -1 || (40000..100000).contains(c) || (9_400_000..9_500_000).contains(c), "odd code {c}");
        }
        let classes = golive_classes();
        assert!(classes.len() >= 40, "only {} codes in §6", classes.len());
        // Ranges stand for the codes golive.md names in them, no others.
        assert!(classes.contains_key(&85043) && !classes.contains_key(&85030));
        assert_eq!(classes.get(&-1), Some(&(Retry, None)));
    }

    /// Every code of golive.md is in the catalogue, with the class (and wait) of its §6 as
    /// DESIGN §5 refines it; the codes §6 does not name need a person, unless an older
    /// document gave them a class already (48001, 61007: the permission set).
    #[test]
    fn every_golive_code_is_catalogued_with_its_class() {
        let classes = golive_classes();
        let older = older_codes();
        let mut wrong = Vec::new();
        for code in golive_codes() {
            let Some(entry) = lookup(code) else {
                wrong.push(format!("{code}: not in the catalogue"));
                continue;
            };
            let expected = match classes.get(&code) {
                Some(&class) => class,
                None if older.contains(&code) => continue,
                None => (Human, None),
            };
            if (entry.class, entry.defer) != expected {
                wrong.push(format!("{code}: {:?}/{:?}, golive.md says {expected:?}", entry.class, entry.defer));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// The Chinese text of a code golive.md brings is the document's own: its table cell (a
    /// note in brackets after it aside; a shared cell such as `服务商新增 / 迭代…` spelt out),
    /// or, for a code only its text names, words of the document.
    #[test]
    fn golive_chinese_text_is_the_documents_own() {
        let older = older_codes();
        let table = golive_table_codes();
        // A code in two tables (85015 in §2.1 and §2.2) has the text of one of them.
        let mut cells: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for (code, cell) in table.iter().filter(|(c, _)| !older.contains(c)) {
            // The text without the document's markers and notes: `… [seen]`, `… (note)`, `… — note`.
            let cell = [" [", " (", " — "].iter().fold(cell.as_str(), |c, cut| c.split(cut).next().unwrap_or(c));
            cells.entry(*code).or_default().push(cell);
        }
        for (code, cells) in cells {
            let entry = lookup(code).unwrap_or_else(|| panic!("{code} missing"));
            assert!(
                cells.iter().any(|cell| !cell.is_empty() && (cell.starts_with(entry.zh) || entry.zh.contains(cell))),
                "{code}: {:?} is not the document's {cells:?}",
                entry.zh
            );
        }
        for code in golive_codes().into_iter().filter(|c| !older.contains(c) && !table.iter().any(|(t, _)| t == c)) {
            let entry = lookup(code).unwrap_or_else(|| panic!("{code} missing"));
            assert!(GOLIVE.contains(entry.zh), "{code}: {:?} is not in golive.md", entry.zh);
        }
    }

    /// The copy the tests read is the shared document, when the checkout sits beside it
    /// (`../shared/api-docs`, as on the build machine and in CI's clean clone).
    #[test]
    fn the_golive_copy_is_the_shared_document() {
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/api-docs/golive.md");
        if let Ok(text) = std::fs::read_to_string(&shared) {
            assert!(text == GOLIVE, "fixtures/api-docs/golive.md differs from {}: copy it again", shared.display());
        }
    }

    #[test]
    fn golive_waits() {
        let now = utc("2026-11-30T17:00:00Z");
        assert_eq!(defer_until(61039).map(|d| d.not_before(now)), Some(utc("2026-11-30T17:01:00Z")));
        assert!(DeferUntil::AMinute.within_run() && !DeferUntil::NextDay.within_run());
        // 30 Nov 17:00 UTC is already 1 December in Beijing: at the latest 1 January.
        assert_eq!(defer_until(85085).map(|d| d.not_before(now)), Some(utc("2026-12-31T16:00:00Z")));
        assert!(DeferUntil::AuditQuota.ends_when_quota_returns() && !DeferUntil::NextMonth.ends_when_quota_returns());
        assert_eq!(defer_until(89405), Some(DeferUntil::NextMonth));
        assert_eq!(defer_until(87013), Some(DeferUntil::NextDay));
        assert_eq!(class_of(85009), ErrClass::Review);
        assert_eq!(class_of(85052), ErrClass::Done);
        assert_eq!(ErrClass::Review.as_str(), "review");
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

    const RETRY: &[i64] = &[-1, 45011, 53011, 89401, 9402202];
    const TOKEN: &[i64] = &[40001, 40014, 42001];
    /// 61055 is a registration code, but a quota: the row waits for next month (DESIGN §5).
    const DEFER: &[i64] = &[45009, 53200, 53202, 53203, 53300, 61055, 61039, 85085, 86102, 87013, 89405];
    /// Whatever the token (40013 only on the component's: below).
    const STOP: &[i64] = &[40125, 41004, 40164, 45035, 61004, 61005, 61006, 61028, 61029];
    const BLOCKED: &[i64] = &[61023, 61003, 61007, 48001, 48004, 50002, 85018, 89020, 89021];
    const REVIEW: &[i64] = &[85009];
    const DONE: &[i64] = &[85052, 89019];

    #[test]
    fn design_classes() {
        for (codes, class) in [
            (RETRY, ErrClass::Retry),
            (TOKEN, ErrClass::Token),
            (DEFER, ErrClass::Defer),
            (STOP, ErrClass::Stop),
            (BLOCKED, ErrClass::Blocked),
            (REVIEW, ErrClass::Review),
            (DONE, ErrClass::Done),
        ] {
            for &c in codes {
                assert_eq!(class_of(c), class, "{c}");
                assert_eq!(class_on(c, TokenKind::Authorizer), class, "{c} on an authorizer's call");
            }
        }
        let special: Vec<i64> = [RETRY, TOKEN, DEFER, STOP, BLOCKED, REVIEW, DONE].concat();
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
