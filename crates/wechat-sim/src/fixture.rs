//! The simulator's starting state, read from a JSON fixture file ([`Fixture`], whose docs list
//! every key it takes).
//!
//! A fixture says who exists at WeChat before a run and the rules the simulator enforces. It
//! is checked when read, so that a typo or a contradiction is an error naming the fixture
//! rather than a simulator that behaves confusingly.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use wechat_open::api::{Category, RateLimit};

use crate::Error;

/// The fixture: the simulator's initial state and rules.
///
/// It says who exists at WeChat before a run: the third-party platform, the official
/// accounts whose qualification is reused, the mini-programs already authorized, the category
/// tree, and the rules the simulator enforces (quotas, taken and forbidden names, how name
/// audits end). Every key but `component` is optional; the example ([`Fixture::example`],
/// `fixtures/example.json` in this crate) shows them all. The keys, with their defaults:
///
/// - `component`: `{appid, secret, verify_ticket}`: the only credentials
///   `api_component_token` accepts (wrong appid → 40013, wrong secret → 40125, wrong ticket →
///   61006).
/// - `token_ttl_secs` (7200): lifetime of every access token the simulator issues.
/// - `media_ttl_secs` (259200, three days): lifetime of uploaded temporary media.
/// - `fastregister_retry_window_ms` (5000): a `fastregister` retried with the same ticket
///   within this window of the previous try is refused with 61058.
/// - `official_accounts`: `[{appid, refresh_token?, nickname?, principal_name?,
///   principal_type (1), verified (true), registrations_this_month (0),
///   pending_registration (false)}]`. A missing refresh token is generated.
/// - `mini_programs`: `[{appid, refresh_token?, official_appid?, nickname (""), signature
///   (""), signature_used (0), signature_quota (5), head_image_url (""), head_image_used (0),
///   head_image_quota (5), nickname_used (0), nickname_quota (2), categories
///   ([{first, second, audit_status (3), audit_reason ("")}]), category_quota (5: getcategory's
///   `limit`, additions per month), category_quota_used (0), category_limit (20),
///   fast_registered (true: false makes `setnickname` answer 91001), not_created_by_platform
///   (false: true makes `getaccountbasicinfo` and `checkwxverifynickname` answer 41033, as the
///   live platform answers for accounts it did not create (NOTES.md), and
///   `api_get_authorizer_info` too [assumed: NOTES names only the first two], so that a
///   registration reconcile meeting such an account can be rehearsed), principal_name (""),
///   nickname_audit (the global one)}]`.
/// - `categories`: the `getallcategories` tree as WeChat returns it: `[{id, name, level,
///   father, children, sensitive_type, qualify: {exter_list: [{inner_list: [{name, url}]}]}}]`.
/// - `category_tree_field` (`"categories_list"`): the field `getallcategories` wraps the tree
///   in: `"categories_list"` as the live platform answers, or `"category_list"` as the settings
///   document's example shows (NOTES.md).
/// - `quotas`: `{"/cgi/path": {daily_limit, used (0), rate_limit?, component_rate_limit?}}`:
///   a path listed here counts every call; once `used` reaches `daily_limit` it answers 45009.
///   `openapi/quota/get` reports it, with the rate limits given as `{call_count,
///   refresh_second}` as the live platform states them (stated, not enforced); unlisted paths:
///   limit 1000, used 0, never enforced, no rate limit stated.
/// - `blacklisted_words`: a signature containing one → 53201; a nickname → 53012 / 91004.
/// - `taken_nicknames`: names already used elsewhere → 53013 on check, 91007 on set (the
///   names of the other simulated mini-programs are taken as well).
/// - `nickname_hit_words`: a name containing one is a "hit": check answers `hit_condition`
///   true with `nickname_hit_wording`; setnickname without any material → 91009.
/// - `nickname_audit` (`"approve"`): how name audits end: `"approve"`, `"reject"` (with
///   `nickname_fail_reason`, alias `fail_reason`) or `"manual"` (in review until
///   `POST /__sim/audit`). `audit_delay_queries` (1): how many `api_wxa_querynickname` calls
///   still answer "in review" before the audit ends.
/// - `rebind_taskids`: `[{taskid, appid}]`: admin-rebind task ids valid for a mini-program.
/// - `scanned_tickets`: `[{ticket, official_appid}]`: fastregister tickets of scans that
///   already happened.
/// - `func_info` on an official account or a mini-program: the permission set ids it granted
///   the platform, as `api_query_auth` and `api_get_authorizer_info` answer them (default: an
///   official account 1, 2, 3, 4, 7, 11, 15; a mini-program 17, 18, 19, 25, 30, 31, 36, 37,
///   40, 41, what a fast-registered one grants).
/// - `ip_whitelisted` (true), `request_ip` (`"203.0.113.9"`): when the caller is not on the
///   platform's IP whitelist, `api_component_token` answers 61004 `access clientip is not
///   registered requestIP: …` (NOTES.md); `POST /__sim/ip_whitelist` changes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The third-party platform: the credentials the simulator accepts.
    pub component: ComponentFixture,
    #[serde(default = "d_token_ttl")]
    pub(crate) token_ttl_secs: u64,
    #[serde(default = "d_media_ttl")]
    pub(crate) media_ttl_secs: u64,
    #[serde(default = "d_retry_window")]
    pub(crate) fastregister_retry_window_ms: u64,
    #[serde(default)]
    pub(crate) official_accounts: Vec<OfficialAccountFixture>,
    #[serde(default)]
    pub(crate) mini_programs: Vec<MiniProgramFixture>,
    #[serde(default)]
    pub(crate) categories: Vec<Category>,
    #[serde(default)]
    pub(crate) category_tree_field: CategoryTreeField,
    #[serde(default)]
    pub(crate) quotas: BTreeMap<String, QuotaFixture>,
    #[serde(default)]
    pub(crate) blacklisted_words: Vec<String>,
    #[serde(default)]
    pub(crate) taken_nicknames: Vec<String>,
    #[serde(default)]
    pub(crate) nickname_hit_words: Vec<String>,
    #[serde(default = "d_hit_wording")]
    pub(crate) nickname_hit_wording: String,
    #[serde(default)]
    pub(crate) nickname_audit: AuditMode,
    #[serde(default = "d_one")]
    pub(crate) audit_delay_queries: u32,
    #[serde(default = "d_fail_reason", alias = "fail_reason")]
    pub(crate) nickname_fail_reason: String,
    #[serde(default)]
    pub(crate) rebind_taskids: Vec<RebindTaskFixture>,
    /// Tickets of scans that already happened: `[{ticket, official_appid}]`.
    #[serde(default)]
    pub(crate) scanned_tickets: Vec<ScannedTicketFixture>,
    /// Whether the machine calling is on the platform's IP whitelist; when not,
    /// `api_component_token` answers 61004 naming `request_ip` (NOTES.md).
    #[serde(default = "d_true")]
    pub(crate) ip_whitelisted: bool,
    /// The IP WeChat sees the calls come from.
    #[serde(default = "d_request_ip")]
    pub(crate) request_ip: String,
    /// Going live: templates, the privacy scan, audits and their quota, ICP (see `golive::rules`).
    #[serde(default)]
    pub(crate) golive: crate::golive::GoliveFixture,
}

/// The third-party platform's credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentFixture {
    /// The platform's appid.
    pub appid: String,
    /// Its app secret.
    pub secret: String,
    /// The `component_verify_ticket` WeChat last pushed.
    pub verify_ticket: String,
}

/// An official account authorized to the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfficialAccountFixture {
    pub(crate) appid: String,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    pub(crate) nickname: String,
    #[serde(default)]
    pub(crate) principal_name: String,
    #[serde(default = "d_one")]
    pub(crate) principal_type: u32,
    #[serde(default = "d_true")]
    pub(crate) verified: bool,
    #[serde(default)]
    pub(crate) registrations_this_month: u32,
    #[serde(default)]
    pub(crate) pending_registration: bool,
    /// The permission set ids it granted (default: [`OFFICIAL_ACCOUNT_FUNC_INFO`]).
    #[serde(default)]
    pub(crate) func_info: Option<Vec<i64>>,
}

/// The permission sets an official account grants unless its fixture says otherwise.
pub(crate) const OFFICIAL_ACCOUNT_FUNC_INFO: &[i64] = &[1, 2, 3, 4, 7, 11, 15];
/// The permission sets a mini-program grants unless its fixture says otherwise: what a
/// fast-registered one grants (ids as WeChat lists them).
pub(crate) const MINI_PROGRAM_FUNC_INFO: &[i64] = &[17, 18, 19, 25, 30, 31, 36, 37, 40, 41];

/// A mini-program authorized to the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MiniProgramFixture {
    pub(crate) appid: String,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    pub(crate) official_appid: Option<String>,
    #[serde(default)]
    pub(crate) nickname: String,
    #[serde(default)]
    pub(crate) signature: String,
    #[serde(default)]
    pub(crate) signature_used: u32,
    #[serde(default = "d_five")]
    pub(crate) signature_quota: u32,
    #[serde(default)]
    pub(crate) head_image_url: String,
    #[serde(default)]
    pub(crate) head_image_used: u32,
    #[serde(default = "d_five")]
    pub(crate) head_image_quota: u32,
    #[serde(default)]
    pub(crate) nickname_used: u32,
    #[serde(default = "d_two")]
    pub(crate) nickname_quota: u32,
    #[serde(default)]
    pub(crate) categories: Vec<CategorySetFixture>,
    #[serde(default = "d_five")]
    pub(crate) category_quota: u32,
    #[serde(default)]
    pub(crate) category_quota_used: u32,
    #[serde(default = "d_category_limit")]
    pub(crate) category_limit: u32,
    #[serde(default = "d_true")]
    pub(crate) fast_registered: bool,
    #[serde(default)]
    pub(crate) not_created_by_platform: bool,
    #[serde(default)]
    pub(crate) principal_name: String,
    /// Overrides the fixture-wide `nickname_audit` for this mini-program.
    #[serde(default)]
    pub(crate) nickname_audit: Option<AuditMode>,
    /// The permission set ids it granted (default: [`MINI_PROGRAM_FUNC_INFO`]).
    #[serde(default)]
    pub(crate) func_info: Option<Vec<i64>>,
}

/// A category already set on a mini-program.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategorySetFixture {
    pub(crate) first: i64,
    pub(crate) second: i64,
    #[serde(default = "d_three")]
    pub(crate) audit_status: i64,
    #[serde(default)]
    pub(crate) audit_reason: String,
}

/// A daily call quota for one API path, and the rate limits `quota/get` states for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotaFixture {
    pub(crate) daily_limit: u64,
    #[serde(default)]
    pub(crate) used: u64,
    #[serde(default)]
    pub(crate) rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub(crate) component_rate_limit: Option<RateLimit>,
}

/// An admin-rebind task id valid for one mini-program.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RebindTaskFixture {
    pub(crate) taskid: String,
    pub(crate) appid: String,
}

/// A fastregister ticket issued before the simulator started, as if the official account's
/// admin had already scanned (so a demo can register without a scan).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScannedTicketFixture {
    pub(crate) ticket: String,
    pub(crate) official_appid: String,
}

/// The field `getallcategories` answers the tree in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CategoryTreeField {
    /// The live platform's answer.
    #[default]
    CategoriesList,
    /// The settings document's example.
    CategoryList,
}

impl CategoryTreeField {
    pub(crate) fn key(self) -> &'static str {
        match self {
            CategoryTreeField::CategoriesList => "categories_list",
            CategoryTreeField::CategoryList => "category_list",
        }
    }
}

/// How a nickname audit ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuditMode {
    #[default]
    Approve,
    Reject,
    Manual,
}

fn d_token_ttl() -> u64 {
    7200
}
fn d_media_ttl() -> u64 {
    259_200
}
fn d_retry_window() -> u64 {
    5000
}
fn d_one() -> u32 {
    1
}
fn d_two() -> u32 {
    2
}
fn d_three() -> i64 {
    3
}
fn d_five() -> u32 {
    5
}
fn d_category_limit() -> u32 {
    20
}
fn d_request_ip() -> String {
    "203.0.113.9".into()
}
fn d_true() -> bool {
    true
}
fn d_hit_wording() -> String {
    "你申请的名称可能涉及特定主体姓名或名称，请提供可确认主体材料与名称对应的材料，或提供《商标注册证》等其他材料，以证明你有权合理且善意使用该名称，否则可能审核不通过".into()
}
fn d_fail_reason() -> String {
    "名称涉嫌侵权，请补充材料后重新提交".into()
}

impl Fixture {
    /// Reads and checks a fixture file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Fixture, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|error| Error::FixtureUnreadable { path: path.to_path_buf(), error })?;
        Fixture::parse(&text).map_err(|reason| Error::BadFixture { path: Some(path.to_path_buf()), reason })
    }

    /// Parses and checks a fixture from JSON text.
    pub(crate) fn from_json(text: &str) -> Result<Fixture, Error> {
        Fixture::parse(text).map_err(|reason| Error::BadFixture { path: None, reason })
    }

    fn parse(text: &str) -> Result<Fixture, String> {
        let fixture: Fixture = serde_json::from_str(text).map_err(|e| e.to_string())?;
        fixture.check()?;
        Ok(fixture)
    }

    /// The example fixture, `fixtures/example.json` in this crate: a platform, two official
    /// accounts, mini-programs fresh, configured and with spent quotas, and a category tree.
    pub fn example() -> Fixture {
        // The file is part of the crate and checked by a test; it always parses.
        Fixture::from_json(include_str!("../fixtures/example.json"))
            .unwrap_or_else(|e| unreachable!("fixtures/example.json is invalid: {e}"))
    }

    /// Every (appid, refresh token) the fixture gives, mini-programs first.
    pub fn refresh_tokens(&self) -> Vec<(String, String)> {
        let minis = self.mini_programs.iter().map(|m| (&m.appid, &m.refresh_token));
        let officials = self.official_accounts.iter().map(|a| (&a.appid, &a.refresh_token));
        minis.chain(officials).filter_map(|(appid, token)| Some((appid.clone(), token.clone()?))).collect()
    }

    /// Every account's permission set ids (`func_info`): its own, else its kind's defaults.
    pub fn func_infos(&self) -> Vec<(String, Vec<i64>)> {
        let minis =
            self.mini_programs.iter().map(|m| (&m.appid, m.func_info.as_deref().unwrap_or(MINI_PROGRAM_FUNC_INFO)));
        let officials = self
            .official_accounts
            .iter()
            .map(|a| (&a.appid, a.func_info.as_deref().unwrap_or(OFFICIAL_ACCOUNT_FUNC_INFO)));
        minis.chain(officials).map(|(appid, ids)| (appid.clone(), ids.to_vec())).collect()
    }

    /// Catches the mistakes that would make the simulator behave confusingly.
    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let appids = self.official_accounts.iter().map(|a| &a.appid).chain(self.mini_programs.iter().map(|m| &m.appid));
        for appid in appids {
            if appid.is_empty() {
                return Err("an account has an empty appid".into());
            }
            if !seen.insert(appid.clone()) {
                return Err(format!("appid {appid} appears twice"));
            }
        }
        let mut ids = std::collections::HashSet::new();
        for c in &self.categories {
            if !ids.insert(c.id) {
                return Err(format!("category id {} appears twice", c.id));
            }
        }
        for t in &self.scanned_tickets {
            if !self.official_accounts.iter().any(|a| a.appid == t.official_appid) {
                return Err(format!("scanned ticket {} names unknown official account {}", t.ticket, t.official_appid));
            }
        }
        self.golive.check()?;
        for t in &self.rebind_taskids {
            if !self.mini_programs.iter().any(|m| m.appid == t.appid) {
                return Err(format!("rebind taskid {} names unknown mini-program {}", t.taskid, t.appid));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_and_has_the_documented_category() {
        let f = Fixture::example();
        let edu = f.categories.iter().find(|c| c.id == 8).unwrap();
        assert_eq!(edu.name, "教育");
        let visa = f.categories.iter().find(|c| c.id == 39).unwrap();
        assert_eq!(visa.sensitive_type, 1);
        assert!(visa.certificate_names().contains(&"《因私出入境中介机构经营许可证》"));
        assert!(f.categories.iter().filter(|c| c.level == 1).count() >= 8);
        assert!(f.categories.iter().filter(|c| c.level == 2).count() >= 20);
    }

    #[test]
    fn minimal_fixture_takes_defaults() {
        let f = Fixture::from_json(
            r#"{"component":{"appid":"wxc","secret":"s","verify_ticket":"t"},
                "mini_programs":[{"appid":"wx1"}]}"#,
        )
        .unwrap();
        assert_eq!(f.token_ttl_secs, 7200);
        assert_eq!(f.mini_programs[0].signature_quota, 5);
        assert!(f.mini_programs[0].fast_registered);
        assert_eq!(f.nickname_audit, AuditMode::Approve);
    }

    #[test]
    fn duplicate_appids_are_refused() {
        let e = Fixture::from_json(
            r#"{"component":{"appid":"wxc","secret":"s","verify_ticket":"t"},
                "mini_programs":[{"appid":"wx1"},{"appid":"wx1"}]}"#,
        );
        assert!(e.is_err());
    }

    #[test]
    fn a_bad_or_missing_fixture_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fixture.json");
        std::fs::write(
            &path,
            r#"{"component":{"appid":"wxc","secret":"s","verify_ticket":"t"},
                "mini_programs":[{"appid":"wx1"}],"official_accounts":[{"appid":"wx1"}]}"#,
        )
        .unwrap();
        let e = Fixture::from_file(&path).unwrap_err();
        assert!(matches!(&e, Error::BadFixture { path: Some(p), .. } if *p == path), "{e:?}");
        assert_eq!(e.to_string(), format!("bad sim fixture {}: appid wx1 appears twice", path.display()));

        std::fs::write(&path, r#"{"component":{"appid":"wxc","secret":"s","verify_ticket":"t"},"quota":{}}"#).unwrap();
        let e = Fixture::from_file(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("bad sim fixture {}: unknown field `quota`", path.display())), "{e}");

        let missing = dir.path().join("none.json");
        let e = Fixture::from_file(&missing).unwrap_err();
        assert!(matches!(&e, Error::FixtureUnreadable { path, .. } if *path == missing), "{e:?}");
        assert!(e.to_string().starts_with(&format!("cannot read sim fixture {}: ", missing.display())), "{e}");
    }
}
