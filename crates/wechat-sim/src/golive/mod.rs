//! Going live (`golive.md`): templates, code, the privacy scan and guide, domains, the code
//! audit and its platform-wide monthly quota, the release and the ICP filing state.
//!
//! wxprov's go-live steps (DESIGN §9) can only be tested against rules that bite: a privacy
//! scan that answers 61039 for a while after a commit, one audit at a time per mini-program
//! (85009), one monthly pool of submissions for the whole platform (85085), audits that end
//! when a person (the control API) or the clock says so, pushes of the outcome, a release only
//! after approval and 85052 on a second one. Each concept has its own file; this one holds the
//! endpoints' table and the state they share.
//!
//! What a mini-program has (its trial version, privacy guide, domains, release) lives in its
//! [`MiniProgram`](super::state::MiniProgram) record; what the platform has (templates, the
//! audit pool, every audit, the settings the fixture's `golive` section gave and control calls
//! changed) lives in [`Golive`]. Both are kept in the state file, so a rehearsal carries an
//! audit in review from one run to the next.

pub(super) mod audit;
pub(super) mod code;
pub(super) mod control;
pub(super) mod domain;
pub(super) mod icp;
pub(super) mod media;
pub(super) mod privacy;
pub(super) mod release;
pub(super) mod rules;
pub(super) mod template;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::{err, ApiError, Ctx, Reply, TokenKind};
use super::state::{MiniProgram, State};

pub(crate) use rules::GoliveFixture;

/// The platform's side of going live: the fixture's `golive` section as control calls left
/// it, the audit pool, and every code audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Golive {
    pub config: GoliveFixture,
    pub pool: audit::Pool,
    pub audits: BTreeMap<i64, audit::CodeAudit>,
    pub next_auditid: i64,
    /// Every audit push sent (or tried), oldest first.
    #[serde(default)]
    pub pushes: Vec<audit::PushRecord>,
    /// Pushes decided under the state lock, waiting to be sent once it is released.
    #[serde(skip)]
    pub outbox: Vec<audit::Outgoing>,
}

impl Golive {
    pub(super) fn new(config: GoliveFixture, now: u64) -> Golive {
        let pool = audit::Pool::from_fixture(&config.audit_quota, now);
        Golive {
            config,
            pool,
            audits: BTreeMap::new(),
            next_auditid: 552_341_087,
            pushes: Vec::new(),
            outbox: Vec::new(),
        }
    }
}

/// What one mini-program has of going live.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct AppGolive {
    /// The trial version (体验版) the last `commit` made.
    pub trial: Option<code::Trial>,
    /// The privacy scan the last commit started.
    pub scan: Option<privacy::Scan>,
    /// The privacy guide of the development version (`privacy_ver` 2).
    pub privacy_dev: Option<privacy::Guide>,
    /// The live guide (`privacy_ver` 1): the development one as of the last release.
    pub privacy_live: Option<privacy::Guide>,
    /// Restricted APIs (`get_privacy_interface`) applied for: api name → application.
    pub interfaces: BTreeMap<String, privacy::Application>,
    pub domains: domain::AppDomains,
    /// What `release` last published, and the ones before (newest last, at most five).
    pub releases: Vec<release::Release>,
    /// `undocodeaudit` calls: per Beijing day and month.
    pub undo: audit::UndoCount,
}

/// The Beijing calendar month of `now_ms`, as `YYYY-MM`: the audit pool and the domain
/// change counters start over with each.
pub(super) fn month_of(now_ms: u64) -> String {
    wechat_open::beijing::local(utc(now_ms)).format("%Y-%m").to_string()
}

/// The Beijing calendar day of `now_ms`, as `YYYY-MM-DD`.
pub(super) fn day_of(now_ms: u64) -> String {
    wechat_open::beijing::local(utc(now_ms)).format("%Y-%m-%d").to_string()
}

fn utc(now_ms: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(now_ms as i64).unwrap_or_default()
}

/// Unix seconds.
pub(super) fn secs(now_ms: u64) -> i64 {
    (now_ms / 1000) as i64
}

/// The mini-program the token acts for; official accounts get 85015 (该账号不是小程序账号)
/// on these endpoints, as the domain calls document it.
pub(super) fn app<'a>(st: &'a mut State, ctx: &Ctx) -> Result<&'a mut MiniProgram, ApiError> {
    let appid = ctx.appid()?;
    st.mini_programs.get_mut(appid).ok_or_else(|| err(85015, "this account is not a mini-program"))
}

/// A list of strings in the body, or 47001 when the field is there but is not one.
pub(super) fn strings(body: &Value, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(String::from).ok_or_else(|| err(47001, format!("data format error: {key}"))))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(err(47001, format!("data format error: {key} must be an array of strings"))),
    }
}

/// Every go-live endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    TemplateList,
    Commit,
    VersionInfo,
    GetPage,
    WxaCategory,
    Qrcode,
    GetPrivacySetting,
    SetPrivacySetting,
    CodePrivacyInfo,
    PrivacyInterface,
    ApplyPrivacyInterface,
    ModifyDomain,
    ModifyDomainDirectly,
    WebviewDomain,
    WebviewDomainDirectly,
    WebviewConfirmFile,
    EffectiveDomain,
    EffectiveWebviewDomain,
    PlatformServerDomain,
    PlatformJumpDomain,
    PlatformConfirmFile,
    SubmitAudit,
    AuditStatus,
    LatestAuditStatus,
    UndoAudit,
    SpeedupAudit,
    QueryQuota,
    Release,
    RevertRelease,
    IcpEntrance,
    IcpVerifyTask,
    UploadMedia,
    UploadPrivacyExtFile,
}

impl Endpoint {
    pub(super) const ALL: [Endpoint; 33] = [
        Endpoint::TemplateList,
        Endpoint::Commit,
        Endpoint::VersionInfo,
        Endpoint::GetPage,
        Endpoint::WxaCategory,
        Endpoint::Qrcode,
        Endpoint::GetPrivacySetting,
        Endpoint::SetPrivacySetting,
        Endpoint::CodePrivacyInfo,
        Endpoint::PrivacyInterface,
        Endpoint::ApplyPrivacyInterface,
        Endpoint::ModifyDomain,
        Endpoint::ModifyDomainDirectly,
        Endpoint::WebviewDomain,
        Endpoint::WebviewDomainDirectly,
        Endpoint::WebviewConfirmFile,
        Endpoint::EffectiveDomain,
        Endpoint::EffectiveWebviewDomain,
        Endpoint::PlatformServerDomain,
        Endpoint::PlatformJumpDomain,
        Endpoint::PlatformConfirmFile,
        Endpoint::SubmitAudit,
        Endpoint::AuditStatus,
        Endpoint::LatestAuditStatus,
        Endpoint::UndoAudit,
        Endpoint::SpeedupAudit,
        Endpoint::QueryQuota,
        Endpoint::Release,
        Endpoint::RevertRelease,
        Endpoint::IcpEntrance,
        Endpoint::IcpVerifyTask,
        Endpoint::UploadMedia,
        Endpoint::UploadPrivacyExtFile,
    ];

    pub(super) fn path(self) -> &'static str {
        match self {
            Endpoint::TemplateList => "/wxa/gettemplatelist",
            Endpoint::Commit => "/wxa/commit",
            Endpoint::VersionInfo => "/wxa/getversioninfo",
            Endpoint::GetPage => "/wxa/get_page",
            Endpoint::WxaCategory => "/wxa/get_category",
            Endpoint::Qrcode => "/wxa/get_qrcode",
            Endpoint::GetPrivacySetting => "/cgi-bin/component/getprivacysetting",
            Endpoint::SetPrivacySetting => "/cgi-bin/component/setprivacysetting",
            Endpoint::CodePrivacyInfo => "/wxa/security/get_code_privacy_info",
            Endpoint::PrivacyInterface => "/wxa/security/get_privacy_interface",
            Endpoint::ApplyPrivacyInterface => "/wxa/security/apply_privacy_interface",
            Endpoint::ModifyDomain => "/wxa/modify_domain",
            Endpoint::ModifyDomainDirectly => "/wxa/modify_domain_directly",
            Endpoint::WebviewDomain => "/wxa/setwebviewdomain",
            Endpoint::WebviewDomainDirectly => "/wxa/setwebviewdomain_directly",
            Endpoint::WebviewConfirmFile => "/wxa/get_webviewdomain_confirmfile",
            Endpoint::EffectiveDomain => "/wxa/get_effective_domain",
            Endpoint::EffectiveWebviewDomain => "/wxa/get_effective_webviewdomain",
            Endpoint::PlatformServerDomain => "/cgi-bin/component/modify_wxa_server_domain",
            Endpoint::PlatformJumpDomain => "/cgi-bin/component/modify_wxa_jump_domain",
            Endpoint::PlatformConfirmFile => "/cgi-bin/component/get_domain_confirmfile",
            Endpoint::SubmitAudit => "/wxa/submit_audit",
            Endpoint::AuditStatus => "/wxa/get_auditstatus",
            Endpoint::LatestAuditStatus => "/wxa/get_latest_auditstatus",
            Endpoint::UndoAudit => "/wxa/undocodeaudit",
            Endpoint::SpeedupAudit => "/wxa/speedupaudit",
            Endpoint::QueryQuota => "/wxa/queryquota",
            Endpoint::Release => "/wxa/release",
            Endpoint::RevertRelease => "/wxa/revertcoderelease",
            Endpoint::IcpEntrance => "/wxa/icp/get_icp_entrance_info",
            Endpoint::IcpVerifyTask => "/wxa/icp/query_icp_verifytask",
            Endpoint::UploadMedia => "/wxa/uploadmedia",
            Endpoint::UploadPrivacyExtFile => "/cgi-bin/component/uploadprivacyextfile",
        }
    }

    /// Which token it takes: the template library and the platform's own domain lists take
    /// the component's (as `access_token`, golive.md's conventions, or as
    /// `component_access_token`), the rest an authorizer's.
    pub(super) fn token(self) -> TokenKind {
        match self {
            Endpoint::TemplateList
            | Endpoint::PlatformServerDomain
            | Endpoint::PlatformJumpDomain
            | Endpoint::PlatformConfirmFile => TokenKind::ComponentAsAccessToken,
            _ => TokenKind::Authorizer,
        }
    }

    /// The GET endpoints (they take no body).
    pub(super) fn is_get(self) -> bool {
        matches!(
            self,
            Endpoint::TemplateList
                | Endpoint::GetPage
                | Endpoint::WxaCategory
                | Endpoint::Qrcode
                | Endpoint::CodePrivacyInfo
                | Endpoint::PrivacyInterface
                | Endpoint::LatestAuditStatus
                | Endpoint::UndoAudit
                | Endpoint::QueryQuota
                | Endpoint::RevertRelease
                | Endpoint::IcpEntrance
        )
    }

    /// The multipart field of the upload endpoints.
    pub(super) fn multipart_field(self) -> Option<&'static str> {
        match self {
            Endpoint::UploadMedia => Some("media"),
            Endpoint::UploadPrivacyExtFile => Some("file"),
            _ => None,
        }
    }

    /// GET endpoints that refuse POST: `gettemplatelist` withdrew it (golive.md §3.1).
    pub(super) fn get_only(self) -> bool {
        matches!(self, Endpoint::TemplateList)
    }

    pub(super) fn handle(self, st: &mut State, ctx: &Ctx) -> Reply {
        audit::settle_due(st, ctx.now);
        match self {
            Endpoint::TemplateList => template::list(st, ctx),
            Endpoint::Commit => code::commit(st, ctx),
            Endpoint::VersionInfo => code::version_info(st, ctx),
            Endpoint::GetPage => code::get_page(st, ctx),
            Endpoint::WxaCategory => code::categories(st, ctx),
            Endpoint::Qrcode => code::qrcode(st, ctx),
            Endpoint::GetPrivacySetting => privacy::get_setting(st, ctx),
            Endpoint::SetPrivacySetting => privacy::set_setting(st, ctx),
            Endpoint::CodePrivacyInfo => privacy::code_privacy_info(st, ctx),
            Endpoint::PrivacyInterface => privacy::interfaces(st, ctx),
            Endpoint::ApplyPrivacyInterface => privacy::apply_interface(st, ctx),
            Endpoint::ModifyDomain => domain::modify(st, ctx, domain::Method::Platform),
            Endpoint::ModifyDomainDirectly => domain::modify(st, ctx, domain::Method::Direct),
            Endpoint::WebviewDomain => domain::webview(st, ctx, domain::Method::Platform),
            Endpoint::WebviewDomainDirectly => domain::webview(st, ctx, domain::Method::Direct),
            Endpoint::WebviewConfirmFile => domain::confirm_file(st, ctx),
            Endpoint::EffectiveDomain => domain::effective(st, ctx),
            Endpoint::EffectiveWebviewDomain => domain::effective_webview_answer(st, ctx),
            Endpoint::PlatformServerDomain => domain::platform_list(st, ctx, domain::PlatformList::Server),
            Endpoint::PlatformJumpDomain => domain::platform_list(st, ctx, domain::PlatformList::Jump),
            Endpoint::PlatformConfirmFile => domain::platform_confirm_file(st, ctx),
            Endpoint::SubmitAudit => audit::submit(st, ctx),
            Endpoint::AuditStatus => audit::status(st, ctx),
            Endpoint::LatestAuditStatus => audit::latest(st, ctx),
            Endpoint::UndoAudit => audit::undo(st, ctx),
            Endpoint::SpeedupAudit => audit::speedup(st, ctx),
            Endpoint::QueryQuota => audit::query_quota(st, ctx),
            Endpoint::Release => release::release(st, ctx),
            Endpoint::RevertRelease => release::revert(st, ctx),
            Endpoint::IcpEntrance => icp::entrance_info(st, ctx),
            Endpoint::IcpVerifyTask => icp::verify_task(st, ctx),
            Endpoint::UploadMedia => media::upload_media(st, ctx),
            Endpoint::UploadPrivacyExtFile => media::upload_privacy_file(st, ctx),
        }
    }
}
