//! One typed request and response for each WeChat endpoint wxprov calls.
//!
//! Each request type implements [`Endpoint`], which fixes its path, HTTP method, which token
//! it takes, whether it changes state at WeChat, and its response type. Field names are the
//! documents' own, misspellings included (`certicates`). Responses parse leniently (see
//! [`super::lenient`]): unknown fields are ignored, optional ones may be missing.

use serde::{Deserialize, Serialize};

use super::lenient::{bool_any, i64_any, string_any, vec_any};
use crate::secret::Secret;

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// Which token an endpoint takes (moved to wechat-open; re-exported here, transitionally,
/// for the `crate::wechat::api::TokenKind` paths).
pub use wechat_open::TokenKind;

/// A WeChat endpoint: its request is `Self`, serialized as the JSON body of a POST.
pub trait Endpoint: Serialize + Send + Sync {
    const PATH: &'static str;
    const METHOD: Method;
    const TOKEN: TokenKind;
    /// True when a call changes state at WeChat: the runner records it as started before
    /// sending and reconciles from live state rather than resend blindly.
    const CHANGES_STATE: bool;
    type Response: for<'de> Deserialize<'de> + Send;
}

macro_rules! endpoint {
    ($req:ty, $path:literal, $method:ident, $token:ident, $changes:literal, $resp:ty) => {
        impl Endpoint for $req {
            const PATH: &'static str = $path;
            const METHOD: Method = Method::$method;
            const TOKEN: TokenKind = TokenKind::$token;
            const CHANGES_STATE: bool = $changes;
            type Response = $resp;
        }
    };
}

/// A response with nothing but `errcode`/`errmsg` (checked by the client).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Empty {}

// ---------------------------------------------------------------- component tokens (NOTES.md)

#[derive(Debug, Clone, Serialize)]
pub struct ApiComponentToken {
    pub component_appid: String,
    #[serde(serialize_with = "expose")]
    pub component_appsecret: Secret,
    #[serde(serialize_with = "expose")]
    pub component_verify_ticket: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentToken {
    pub component_access_token: Secret,
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
}
endpoint!(ApiComponentToken, "/cgi-bin/component/api_component_token", Post, None, false, ComponentToken);

#[derive(Debug, Clone, Serialize)]
pub struct ApiQueryAuth {
    pub component_appid: String,
    pub authorization_code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueryAuth {
    pub authorization_info: AuthorizationInfo,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizationInfo {
    pub authorizer_appid: String,
    pub authorizer_access_token: Secret,
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
    pub authorizer_refresh_token: Secret,
    #[serde(default)]
    pub func_info: serde_json::Value,
}
// Exchanging the single-use authorization code consumes it: treat as state-changing.
endpoint!(ApiQueryAuth, "/cgi-bin/component/api_query_auth", Post, Component, true, QueryAuth);

impl AuthorizationInfo {
    /// The permission set ids (`funcscope_category.id`) the authorizer granted.
    pub fn func_ids(&self) -> Vec<i64> {
        func_ids(&self.func_info)
    }
}

/// The ids in a `func_info` array: `[{"funcscope_category": {"id": 17}}, …]`. An id may come
/// as a number or a string; an entry without one is skipped (it grants nothing wxprov reads).
pub fn func_ids(func_info: &serde_json::Value) -> Vec<i64> {
    let entries = func_info.as_array().map(Vec::as_slice).unwrap_or_default();
    entries
        .iter()
        .filter_map(|entry| {
            let id = &entry["funcscope_category"]["id"];
            id.as_i64().or_else(|| id.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .collect()
}

/// `api_get_authorizer_info`: an authorizer's account details and what it granted, with the
/// component's token (so it needs no authorizer token: a registration being reconciled has
/// none yet).
#[derive(Debug, Clone, Serialize)]
pub struct ApiGetAuthorizerInfo {
    pub component_appid: String,
    pub authorizer_appid: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerInfo {
    #[serde(default)]
    pub authorizer_info: AuthorizerAccount,
    #[serde(default)]
    pub authorization_info: AuthorizerGrant,
}

/// The `authorizer_info` of `api_get_authorizer_info`: only what wxprov reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizerAccount {
    #[serde(default, deserialize_with = "string_any")]
    pub nick_name: String,
    #[serde(default, deserialize_with = "string_any")]
    pub principal_name: String,
    /// Present for mini-programs only: the documented way to tell them from official accounts.
    #[serde(default, rename = "MiniProgramInfo")]
    pub mini_program_info: Option<serde_json::Value>,
}

impl AuthorizerAccount {
    pub fn is_mini_program(&self) -> bool {
        self.mini_program_info.as_ref().is_some_and(|v| !v.is_null())
    }
}

/// The `authorization_info` of `api_get_authorizer_info`: only what wxprov reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizerGrant {
    #[serde(default)]
    pub func_info: serde_json::Value,
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
}
endpoint!(ApiGetAuthorizerInfo, "/cgi-bin/component/api_get_authorizer_info", Post, Component, false, AuthorizerInfo);

#[derive(Debug, Clone, Serialize)]
pub struct ApiAuthorizerToken {
    pub component_appid: String,
    pub authorizer_appid: String,
    #[serde(serialize_with = "expose")]
    pub authorizer_refresh_token: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerToken {
    pub authorizer_access_token: Secret,
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
    /// WeChat may hand back a new refresh token; when it does, it replaces the stored one.
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
}
endpoint!(ApiAuthorizerToken, "/cgi-bin/component/api_authorizer_token", Post, Component, false, AuthorizerToken);

#[derive(Debug, Clone, Serialize)]
pub struct ApiGetAuthorizerList {
    pub component_appid: String,
    pub offset: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerList {
    #[serde(default, deserialize_with = "i64_any")]
    pub total_count: i64,
    #[serde(default, deserialize_with = "vec_any")]
    pub list: Vec<AuthorizerListItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerListItem {
    pub authorizer_appid: String,
    pub refresh_token: Secret,
    #[serde(default, deserialize_with = "i64_any")]
    pub auth_time: i64,
}
endpoint!(ApiGetAuthorizerList, "/cgi-bin/component/api_get_authorizer_list", Post, Component, false, AuthorizerList);

// ---------------------------------------------------------------- fast registration

/// `fastregister`, called with the **official account's** authorizer token.
#[derive(Debug, Clone, Serialize)]
pub struct FastRegister {
    pub ticket: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FastRegistered {
    pub appid: String,
    #[serde(deserialize_with = "string_any")]
    pub authorization_code: String,
    #[serde(default, deserialize_with = "bool_any")]
    pub is_wx_verify_succ: bool,
    #[serde(default, deserialize_with = "bool_any")]
    pub is_link_succ: bool,
}
endpoint!(FastRegister, "/cgi-bin/account/fastregister", Post, Authorizer, true, FastRegistered);

#[derive(Debug, Clone, Serialize)]
pub struct ComponentRebindAdmin {
    pub taskid: String,
}
endpoint!(ComponentRebindAdmin, "/cgi-bin/account/componentrebindadmin", Post, Authorizer, true, Empty);

// ---------------------------------------------------------------- account info

/// `getaccountbasicinfo` (GET works, NOTES.md).
#[derive(Debug, Clone, Serialize)]
pub struct GetAccountBasicInfo;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountBasicInfo {
    #[serde(default)]
    pub appid: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub account_type: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub principal_type: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub principal_name: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub realname_status: i64,
    #[serde(default)]
    pub wx_verify_info: Option<WxVerifyInfo>,
    #[serde(default)]
    pub signature_info: Option<ModifiableText>,
    #[serde(default)]
    pub head_image_info: Option<HeadImageInfo>,
    /// Not in the two documents; newer platform pages return the name this way. \[assumed\]
    #[serde(default)]
    pub nickname_info: Option<NicknameInfo>,
    /// Older pages return the name as a plain field. \[assumed\]
    #[serde(default, deserialize_with = "string_any")]
    pub nickname: String,
}

impl AccountBasicInfo {
    /// The current name, from whichever field carries it.
    pub fn current_nickname(&self) -> Option<&str> {
        match &self.nickname_info {
            Some(info) if !info.nickname.is_empty() => Some(&info.nickname),
            _ if !self.nickname.is_empty() => Some(&self.nickname),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WxVerifyInfo {
    #[serde(default, deserialize_with = "bool_any")]
    pub qualification_verify: bool,
    #[serde(default, deserialize_with = "bool_any")]
    pub naming_verify: bool,
    #[serde(default, deserialize_with = "bool_any")]
    pub annual_review: bool,
    #[serde(default, deserialize_with = "i64_any")]
    pub annual_review_begin_time: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub annual_review_end_time: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModifiableText {
    #[serde(default, deserialize_with = "string_any")]
    pub signature: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HeadImageInfo {
    #[serde(default, deserialize_with = "string_any")]
    pub head_image_url: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NicknameInfo {
    #[serde(default, deserialize_with = "string_any")]
    pub nickname: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}
endpoint!(GetAccountBasicInfo, "/cgi-bin/account/getaccountbasicinfo", Get, Authorizer, false, AccountBasicInfo);

// ---------------------------------------------------------------- nickname

#[derive(Debug, Clone, Serialize)]
pub struct CheckWxVerifyNickname {
    pub nick_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NicknameCheck {
    #[serde(default, deserialize_with = "bool_any")]
    pub hit_condition: bool,
    #[serde(default, deserialize_with = "string_any")]
    pub wording: String,
}
endpoint!(CheckWxVerifyNickname, "/cgi-bin/wxverify/checkwxverifynickname", Post, Authorizer, false, NicknameCheck);

/// `setnickname`; material fields are media ids, sent only when set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetNickname {
    pub nick_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id_card: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub license: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_1: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_2: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_3: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_4: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_5: String,
}

impl SetNickname {
    /// Sets the `naming_other_stuff_N` fields from up to five media ids.
    pub fn with_materials(mut self, media_ids: &[String]) -> Self {
        let slots = [
            &mut self.naming_other_stuff_1,
            &mut self.naming_other_stuff_2,
            &mut self.naming_other_stuff_3,
            &mut self.naming_other_stuff_4,
            &mut self.naming_other_stuff_5,
        ];
        for (slot, id) in slots.into_iter().zip(media_ids) {
            *slot = id.clone();
        }
        self
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct NicknameSet {
    #[serde(default, deserialize_with = "string_any")]
    pub wording: String,
    /// Absent when the name was set at once without an audit.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_id: i64,
}
endpoint!(SetNickname, "/wxa/setnickname", Post, Authorizer, true, NicknameSet);

#[derive(Debug, Clone, Serialize)]
pub struct QueryNickname {
    pub audit_id: i64,
}

/// `audit_stat`: 1 reviewing, 2 rejected, 3 approved.
#[derive(Debug, Clone, Deserialize)]
pub struct NicknameAudit {
    #[serde(default, deserialize_with = "string_any")]
    pub nickname: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_stat: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub fail_reason: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub create_time: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_time: i64,
}
endpoint!(QueryNickname, "/wxa/api_wxa_querynickname", Post, Authorizer, false, NicknameAudit);

// ---------------------------------------------------------------- avatar and signature

#[derive(Debug, Clone, Serialize)]
pub struct ModifyHeadImage {
    pub head_img_media_id: String,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}
endpoint!(ModifyHeadImage, "/cgi-bin/account/modifyheadimage", Post, Authorizer, true, Empty);

#[derive(Debug, Clone, Serialize)]
pub struct ModifySignature {
    pub signature: String,
}
endpoint!(ModifySignature, "/cgi-bin/account/modifysignature", Post, Authorizer, true, Empty);

// ---------------------------------------------------------------- categories

#[derive(Debug, Clone, Serialize)]
pub struct GetAllCategories;

/// The `getallcategories` answer. The live platform wraps the tree in `categories_list`; the
/// settings document's example says `category_list` (NOTES.md): both are read, the live one
/// first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AllCategories {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories_list: Option<CategoryList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_list: Option<CategoryList>,
}

/// The field a category tree is read from, for messages.
pub const CATEGORY_TREE_FIELDS: &str = "categories_list.categories (or category_list.categories)";

impl AllCategories {
    /// The tree, from whichever field carries it; `None` when neither holds a category — a
    /// successful answer without a tree is never taken for an empty tree.
    pub fn into_tree(self) -> Option<Vec<Category>> {
        [self.categories_list, self.category_list]
            .into_iter()
            .flatten()
            .map(|list| list.categories)
            .find(|tree| !tree.is_empty())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CategoryList {
    #[serde(default, deserialize_with = "vec_any")]
    pub categories: Vec<Category>,
}

/// One node of the category tree (`getallcategories`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Category {
    #[serde(deserialize_with = "i64_any")]
    pub id: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub name: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub level: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub father: i64,
    #[serde(default, deserialize_with = "vec_any")]
    pub children: Vec<i64>,
    #[serde(default, deserialize_with = "i64_any")]
    pub sensitive_type: i64,
    #[serde(default)]
    pub qualify: Qualify,
}

impl Category {
    /// Names of the certificates this category requires. The documents list alternatives as
    /// separate `exter_list` entries ("with licence" / "without licence"); each inner name is
    /// one acceptable certificate.
    pub fn certificate_names(&self) -> Vec<&str> {
        self.qualify
            .exter_list
            .iter()
            .flat_map(|e| e.inner_list.iter().map(|i| i.name.as_str()))
            .filter(|n| !n.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Qualify {
    #[serde(default, deserialize_with = "vec_any")]
    pub exter_list: Vec<ExterList>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExterList {
    #[serde(default, deserialize_with = "vec_any")]
    pub inner_list: Vec<InnerList>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InnerList {
    #[serde(default, deserialize_with = "string_any")]
    pub name: String,
    #[serde(default, deserialize_with = "string_any")]
    pub url: String,
}
endpoint!(GetAllCategories, "/cgi-bin/wxopen/getallcategories", Get, Authorizer, false, AllCategories);

/// A certificate: lower-case `key`/`value`, or WeChat answers 40007 (NOTES.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub key: String,
    /// A media id.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryToAdd {
    pub first: i64,
    pub second: i64,
    /// Spelled as the documents spell it.
    pub certicates: Vec<Certificate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddCategory {
    pub categories: Vec<CategoryToAdd>,
}
endpoint!(AddCategory, "/cgi-bin/wxopen/addcategory", Post, Authorizer, true, Empty);

#[derive(Debug, Clone, Serialize)]
pub struct DeleteCategory {
    pub first: i64,
    pub second: i64,
}
endpoint!(DeleteCategory, "/cgi-bin/wxopen/deletecategory", Post, Authorizer, true, Empty);

#[derive(Debug, Clone, Serialize)]
pub struct ModifyCategory {
    pub first: i64,
    pub second: i64,
    pub certicates: Vec<Certificate>,
}
endpoint!(ModifyCategory, "/cgi-bin/wxopen/modifycategory", Post, Authorizer, true, Empty);

#[derive(Debug, Clone, Serialize)]
pub struct GetCategory;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountCategories {
    #[serde(default, deserialize_with = "vec_any")]
    pub categories: Vec<AccountCategory>,
    #[serde(default, deserialize_with = "i64_any")]
    pub limit: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub quota: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub category_limit: i64,
}

/// A category set on the account; `audit_status` 1 reviewing, 2 rejected, 3 approved.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountCategory {
    #[serde(deserialize_with = "i64_any")]
    pub first: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub first_name: String,
    #[serde(deserialize_with = "i64_any")]
    pub second: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub second_name: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_status: i64,
    #[serde(default, deserialize_with = "string_any")]
    pub audit_reason: String,
}
endpoint!(GetCategory, "/cgi-bin/wxopen/getcategory", Get, Authorizer, false, AccountCategories);

// ---------------------------------------------------------------- quota

#[derive(Debug, Clone, Serialize)]
pub struct QuotaGet {
    pub cgi_path: String,
}

/// The `quota/get` answer. Besides the daily quota the documents describe, the live platform
/// states its own per-window rate limits for the path (NOTES.md; WxJava
/// `WxMiniGetApiQuotaResult`): `rate_limit` for ordinary calls and `component_rate_limit` for
/// calls a platform makes on an account's behalf (absent where it does not apply).
#[derive(Debug, Clone, Deserialize)]
pub struct QuotaInfo {
    pub quota: Quota,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// At most `call_count` calls every `refresh_second` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    #[serde(default, deserialize_with = "i64_any")]
    pub call_count: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub refresh_second: i64,
}

impl RateLimit {
    /// The shortest spacing between calls that keeps within the limit; `None` when the
    /// answer states nothing usable (a zero or negative count or window).
    pub fn spacing(&self) -> Option<std::time::Duration> {
        let (count, window) = (u32::try_from(self.call_count).ok()?, u64::try_from(self.refresh_second).ok()?);
        (count > 0 && window > 0).then(|| std::time::Duration::from_secs(window) / count)
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}s", self.call_count, self.refresh_second)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quota {
    #[serde(default, deserialize_with = "i64_any")]
    pub daily_limit: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub used: i64,
    #[serde(default, deserialize_with = "i64_any")]
    pub remain: i64,
}
endpoint!(QuotaGet, "/cgi-bin/openapi/quota/get", Post, Authorizer, false, QuotaInfo);

// ---------------------------------------------------------------- media

/// Path of the temporary media upload (multipart, field `media`, `type=image`).
pub const MEDIA_UPLOAD_PATH: &str = "/cgi-bin/media/upload";

#[derive(Debug, Clone, Deserialize)]
pub struct MediaUploaded {
    #[serde(default, rename = "type", deserialize_with = "string_any")]
    pub kind: String,
    pub media_id: String,
    #[serde(default, deserialize_with = "i64_any")]
    pub created_at: i64,
}

fn expose<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastregister_accepts_string_booleans() {
        let r: FastRegistered = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"","appid":"wxe5f52902cf4de896","authorization_code":"****","is_wx_verify_succ":"true","is_link_succ":false}"#,
        )
        .unwrap();
        assert!(r.is_wx_verify_succ);
        assert!(!r.is_link_succ);
    }

    #[test]
    fn func_info_ids_as_numbers_or_strings() {
        let info: AuthorizerInfo = serde_json::from_str(
            r#"{"authorizer_info":{"nick_name":"x"},"authorization_info":{"authorizer_appid":"wx1",
                "func_info":[{"funcscope_category":{"id":17}},{"funcscope_category":{"id":"30"}},
                {"confirm_info":{"need_confirm":0}}]}}"#,
        )
        .unwrap();
        assert_eq!(func_ids(&info.authorization_info.func_info), [17, 30]);
        assert!(func_ids(&serde_json::Value::Null).is_empty());
    }

    #[test]
    fn certificates_are_lower_case_and_misspelt() {
        let body = serde_json::to_string(&AddCategory {
            categories: vec![CategoryToAdd {
                first: 8,
                second: 39,
                certicates: vec![Certificate { key: "k".into(), value: "m".into() }],
            }],
        })
        .unwrap();
        assert_eq!(body, r#"{"categories":[{"first":8,"second":39,"certicates":[{"key":"k","value":"m"}]}]}"#);
    }

    #[test]
    fn setnickname_omits_empty_materials() {
        let body = serde_json::to_value(
            SetNickname { nick_name: "n".into(), license: "L".into(), ..Default::default() }
                .with_materials(&["m1".into()]),
        )
        .unwrap();
        assert_eq!(body, serde_json::json!({"nick_name":"n","license":"L","naming_other_stuff_1":"m1"}));
    }

    #[test]
    fn the_category_tree_is_read_from_either_field_and_never_empty() {
        let node = r#"{"id":8,"name":"教育","level":1,"father":0,"children":[39]}"#;
        let live: AllCategories =
            serde_json::from_str(&format!(r#"{{"errcode":0,"categories_list":{{"categories":[{node}]}}}}"#)).unwrap();
        assert_eq!(live.into_tree().unwrap()[0].name, "教育");
        let document: AllCategories =
            serde_json::from_str(&format!(r#"{{"errcode":0,"category_list":{{"categories":[{node}]}}}}"#)).unwrap();
        assert_eq!(document.into_tree().unwrap()[0].id, 8);
        for empty in [r#"{"errcode":0}"#, r#"{"errcode":0,"categories_list":{"categories":[]}}"#] {
            let answer: AllCategories = serde_json::from_str(empty).unwrap();
            assert!(answer.into_tree().is_none(), "{empty}");
        }
    }

    #[test]
    fn quota_get_reads_the_stated_rate_limits() {
        let q: QuotaInfo = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","quota":{"daily_limit":500,"used":12,"remain":488},
            "rate_limit":{"call_count":100,"refresh_second":60},"component_rate_limit":{"call_count":"50","refresh_second":60}}"#,
        )
        .unwrap();
        assert_eq!(q.rate_limit, Some(RateLimit { call_count: 100, refresh_second: 60 }));
        assert_eq!(q.component_rate_limit.unwrap().spacing(), Some(std::time::Duration::from_millis(1200)));
        assert_eq!(q.rate_limit.unwrap().to_string(), "100/60s");
        let documented: QuotaInfo =
            serde_json::from_str(r#"{"errcode":0,"quota":{"daily_limit":1,"used":0,"remain":1}}"#).unwrap();
        assert!(documented.rate_limit.is_none() && documented.component_rate_limit.is_none());
        assert_eq!(RateLimit { call_count: 0, refresh_second: 60 }.spacing(), None);
        assert_eq!(RateLimit { call_count: 10, refresh_second: -1 }.spacing(), None);
    }

    #[test]
    fn basic_info_parses_the_documented_example() {
        let info: AccountBasicInfo = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","appid":"wxdc685123d955453","account_type":2,"principal_type":1,
            "principal_name":"深圳市腾讯计算机系统有限公司","realname_status":1,
            "wx_verify_info":{"qualification_verify":1,"naming_verify":1,"annual_review":1,"annual_review_begin_time":1550490981,"annual_review_end_time":1558266981},
            "signature_info":{"signature":"功能介绍","modify_used_count":1,"modify_quota":5},
            "head_image_info":{"head_image_url":"http://x/0","modify_used_count":3,"modify_quota":5}}"#,
        )
        .unwrap();
        assert_eq!(info.signature_info.as_ref().unwrap().modify_quota, 5);
        assert!(info.wx_verify_info.as_ref().unwrap().qualification_verify);
        assert_eq!(info.current_nickname(), None);
    }
}
