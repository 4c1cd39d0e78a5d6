//! The fixture's `golive` section: the template library, how long the privacy scan and the
//! audits take, the platform's audit quota, which domains are ICP-filed, each mini-program's
//! ICP filing state, where audit results are pushed, and the answer shapes where the live
//! platform and the documents differ (golive.md §5).
//!
//! Every key is optional (`fixtures/example.json` shows them all):
//! - `templates`: `[{template_id, user_version, user_desc, template_type (0), create_time,
//!   draft_id, source_miniprogram_appid, source_miniprogram, developer, pages, privacy_keys,
//!   location_apis}]`. `pages` are the code's pages (default `["pages/index/index"]`);
//!   `privacy_keys` what the privacy scan finds in the code (`getprivacysetting`'s
//!   `privacy_list`); `location_apis` the restricted APIs the code calls (`getLocation`…),
//!   which `ext_json`'s `requiredPrivateInfos` must declare and `apply_privacy_interface` must
//!   open, else `submit_audit` answers 61040. `POST /__sim/template` adds or replaces one.
//! - `privacy_scan`: `{secs (0), calls (1)}`: after a commit, the scan runs until `secs` have
//!   passed and `calls` calls have been answered 61039 (`getprivacysetting`,
//!   `setprivacysetting`, `get_code_privacy_info`, `submit_audit`).
//! - `audit_quota`: `{limit (20), rest (= limit), speedup_limit (5), speedup_rest (= limit)}`:
//!   the platform's pool for the current Beijing month; a new month starts it over at the
//!   limits.
//! - `code_audit`: `{result ("manual"), after_secs (0), after_queries (0), reason,
//!   screenshot}`: how audits end by themselves. `manual` waits for `POST /__sim/code_audit`;
//!   `approve` / `reject` decide once `after_secs` have passed and `after_queries` status
//!   queries have answered "in review"; `reason` and `screenshot` (media ids) are a
//!   rejection's.
//! - `icp_status` (6 = filed): every mini-program's filing state unless `icp` names it:
//!   `{appid: status}`.
//! - `unfiled_domains`: hosts without an ICP filing (`no_icp_domain`, 85302, 45082).
//! - `platform_server_domains`, `platform_webview_domains`: the platform's own lists (bare
//!   hosts) that method-one domains must be on; absent = not checked.
//! - `callback`: `{url, token, encoding_aes_key}`: where audit results are pushed (`$APPID$`
//!   in the URL becomes the mini-program's appid); absent = no pushes. `POST /__sim/callback`
//!   sets it.
//! - `undo_per_day` (1), `undo_per_month` (10), `undo_refunds_quota` (false): `undocodeaudit`.
//! - `domain_changes_per_month` (50): `modify_domain` / `setwebviewdomain` changes a month.
//! - `shapes`: `{auditid_as_string (false), template_id_as_string (false), screenshot_key
//!   ("ScreenShot")}`: the 2.0 document's string ids and the latest-status table's
//!   `screenshot`, instead of what the live platform answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `golive` section of a fixture.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoliveFixture {
    #[serde(default)]
    pub templates: Vec<Template>,
    #[serde(default)]
    pub privacy_scan: ScanRule,
    #[serde(default)]
    pub audit_quota: QuotaFixture,
    #[serde(default)]
    pub code_audit: CodeAuditRule,
    #[serde(default = "d_filed")]
    pub icp_status: i64,
    #[serde(default)]
    pub icp: BTreeMap<String, i64>,
    #[serde(default)]
    pub unfiled_domains: Vec<String>,
    #[serde(default)]
    pub platform_server_domains: Option<Vec<String>>,
    #[serde(default)]
    pub platform_webview_domains: Option<Vec<String>>,
    #[serde(default)]
    pub callback: Option<Callback>,
    #[serde(default = "d_one")]
    pub undo_per_day: u32,
    #[serde(default = "d_ten")]
    pub undo_per_month: u32,
    #[serde(default)]
    pub undo_refunds_quota: bool,
    #[serde(default = "d_fifty")]
    pub domain_changes_per_month: u32,
    #[serde(default)]
    pub shapes: Shapes,
}

impl Default for GoliveFixture {
    fn default() -> GoliveFixture {
        // The same defaults as an empty `golive` object.
        serde_json::from_str("{}").unwrap_or_else(|e| unreachable!("an empty golive section parses: {e}"))
    }
}

/// A code template in the platform's library.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Template {
    pub template_id: i64,
    #[serde(default)]
    pub user_version: String,
    #[serde(default)]
    pub user_desc: String,
    #[serde(default)]
    pub template_type: i64,
    #[serde(default = "d_create_time")]
    pub create_time: i64,
    #[serde(default)]
    pub draft_id: i64,
    #[serde(default)]
    pub source_miniprogram_appid: String,
    #[serde(default)]
    pub source_miniprogram: String,
    #[serde(default)]
    pub developer: String,
    #[serde(default = "d_pages")]
    pub pages: Vec<String>,
    #[serde(default)]
    pub privacy_keys: Vec<String>,
    #[serde(default)]
    pub location_apis: Vec<String>,
}

/// How long the privacy scan after a commit runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanRule {
    #[serde(default)]
    pub secs: u64,
    #[serde(default = "d_one")]
    pub calls: u32,
}

impl Default for ScanRule {
    fn default() -> ScanRule {
        ScanRule { secs: 0, calls: 1 }
    }
}

/// The platform's monthly audit pool as the fixture gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotaFixture {
    #[serde(default = "d_twenty")]
    pub limit: u32,
    #[serde(default)]
    pub rest: Option<u32>,
    #[serde(default = "d_five")]
    pub speedup_limit: u32,
    #[serde(default)]
    pub speedup_rest: Option<u32>,
}

impl Default for QuotaFixture {
    fn default() -> QuotaFixture {
        QuotaFixture { limit: 20, rest: None, speedup_limit: 5, speedup_rest: None }
    }
}

/// How a code audit ends by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeAuditRule {
    #[serde(default)]
    pub result: AutoResult,
    #[serde(default)]
    pub after_secs: u64,
    #[serde(default)]
    pub after_queries: u32,
    #[serde(default = "d_reason")]
    pub reason: String,
    #[serde(default)]
    pub screenshot: Vec<String>,
}

impl Default for CodeAuditRule {
    fn default() -> CodeAuditRule {
        CodeAuditRule {
            result: AutoResult::Manual,
            after_secs: 0,
            after_queries: 0,
            reason: d_reason(),
            screenshot: Vec::new(),
        }
    }
}

/// Whether audits end by themselves, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AutoResult {
    /// Only `POST /__sim/code_audit` ends an audit.
    #[default]
    Manual,
    Approve,
    Reject,
}

/// Where audit results are pushed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Callback {
    pub url: String,
    pub token: String,
    pub encoding_aes_key: String,
}

/// Answer shapes where the documents and the live platform differ.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Shapes {
    #[serde(default)]
    pub auditid_as_string: bool,
    #[serde(default)]
    pub template_id_as_string: bool,
    #[serde(default = "d_screenshot_key")]
    pub screenshot_key: String,
}

impl Default for Shapes {
    fn default() -> Shapes {
        Shapes { auditid_as_string: false, template_id_as_string: false, screenshot_key: d_screenshot_key() }
    }
}

impl GoliveFixture {
    /// Catches the mistakes that would make the simulator behave confusingly.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        for t in &self.templates {
            if !ids.insert(t.template_id) {
                return Err(format!("golive template {} appears twice", t.template_id));
            }
            if t.pages.is_empty() {
                return Err(format!("golive template {} has no pages", t.template_id));
            }
        }
        if !["ScreenShot", "screenshot"].contains(&self.shapes.screenshot_key.as_str()) {
            return Err(format!(
                "golive shapes.screenshot_key must be \"ScreenShot\" or \"screenshot\", not {:?}",
                self.shapes.screenshot_key
            ));
        }
        Ok(())
    }

    /// The ICP filing status of `appid`.
    pub(crate) fn icp_of(&self, appid: &str) -> i64 {
        self.icp.get(appid).copied().unwrap_or(self.icp_status)
    }
}

fn d_filed() -> i64 {
    6
}
fn d_one() -> u32 {
    1
}
fn d_five() -> u32 {
    5
}
fn d_ten() -> u32 {
    10
}
fn d_twenty() -> u32 {
    20
}
fn d_fifty() -> u32 {
    50
}
fn d_create_time() -> i64 {
    1_716_000_000
}
fn d_pages() -> Vec<String> {
    vec!["pages/index/index".into()]
}
fn d_reason() -> String {
    "小程序页面内容与所选服务类目不符<br>请修改后重新提交".into()
}
fn d_screenshot_key() -> String {
    "ScreenShot".into()
}
