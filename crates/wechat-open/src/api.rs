//! One typed request and answer for each endpoint of the platform a provisioning tool calls.
//!
//! Each request type implements [`Endpoint`], which fixes its path, HTTP method, which token
//! it takes, whether it changes state at WeChat, and its answer's type. Field names are the
//! documents' own, misspellings included (`certicates`), so each field means what the
//! document of its endpoint says. Answers parse leniently (see [`crate::lenient`]): unknown
//! fields are ignored, optional ones may be missing.

use serde::{Deserialize, Serialize};

use crate::lenient::{bool_any, i64_any, string_any, vec_any};
use crate::secret::Secret;
use crate::TokenKind;

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// No body; the request's fields are not sent.
    Get,
    /// The request is the JSON body.
    Post,
}

/// A WeChat endpoint: its request is `Self`, serialized as the JSON body of a POST.
pub trait Endpoint: Serialize + Send + Sync {
    /// The path under the API base, `/cgi-bin/…` or `/wxa/…`.
    const PATH: &'static str;
    /// How it is sent.
    const METHOD: Method;
    /// Which token its query string carries.
    const TOKEN: TokenKind;
    /// True when a call changes state at WeChat: the runner records it as started before
    /// sending and reconciles from live state rather than resend blindly.
    const CHANGES_STATE: bool;
    /// The answer, read once `errcode` is 0.
    type Response: for<'de> Deserialize<'de> + Send;

    /// The query parameter that carries the token: the token kind's own
    /// ([`TokenKind::query_key`]) unless the endpoint's document names another — `golive.md`
    /// sends the component's token to its go-live calls as `access_token=`, as WxJava does
    /// for `gettemplatelist`.
    fn token_key() -> Option<&'static str> {
        Self::TOKEN.query_key()
    }

    /// Parameters sent in the query string after the token, form-encoded (a GET's only
    /// parameters: `gettemplatelist`'s `template_type`, `get_qrcode`'s `path`); none unless
    /// the endpoint says.
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// What an error answer says beyond its `errmsg`, from its body: `modify_domain` names the
    /// refused domains in `invalid_*` and `no_icp_domain` even when it answers 85301–85303.
    /// [`Client::call`](crate::Client::call) adds it to the error's message; none unless the
    /// endpoint says.
    fn refusal_detail(_body: &[u8]) -> Option<String> {
        None
    }
}

macro_rules! endpoint {
    ($req:ty, $path:literal, $method:ident, $token:ident, $changes:literal, $resp:ty) => {
        $crate::api::endpoint!(@impl $req, $path, $method, $token, $changes, $resp, {});
    };
    ($req:ty, $path:literal, $method:ident, $token:ident, $changes:literal, $resp:ty, token_key = $key:literal) => {
        $crate::api::endpoint!(@impl $req, $path, $method, $token, $changes, $resp, {
            fn token_key() -> Option<&'static str> {
                Some($key)
            }
        });
    };
    ($req:ty, $path:literal, $method:ident, $token:ident, $changes:literal, $resp:ty, refusal_detail = $detail:path) => {
        $crate::api::endpoint!(@impl $req, $path, $method, $token, $changes, $resp, {
            fn refusal_detail(body: &[u8]) -> Option<String> {
                $detail(body)
            }
        });
    };
    // The impl every form writes, with the form's own methods.
    (@impl $req:ty, $path:literal, $method:ident, $token:ident, $changes:literal, $resp:ty, { $($extra:item)* }) => {
        impl $crate::api::Endpoint for $req {
            const PATH: &'static str = $path;
            const METHOD: $crate::api::Method = $crate::api::Method::$method;
            const TOKEN: $crate::TokenKind = $crate::TokenKind::$token;
            const CHANGES_STATE: bool = $changes;
            type Response = $resp;

            $($extra)*
        }
    };
}
pub(crate) use endpoint;

/// A response with nothing but `errcode`/`errmsg` (checked by the client).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Empty {}

// ---------------------------------------------------------------- component tokens (NOTES.md)

/// `api_component_token`: the platform's own token, for its app secret and the latest verify
/// ticket WeChat pushed.
#[derive(Debug, Clone, Serialize)]
pub struct ApiComponentToken {
    /// The third-party platform's appid.
    pub component_appid: String,
    /// The platform's app secret (sent, never printed).
    #[serde(serialize_with = "expose")]
    pub component_appsecret: Secret,
    /// The latest `component_verify_ticket` WeChat pushed.
    #[serde(serialize_with = "expose")]
    pub component_verify_ticket: Secret,
}

/// The answer of `api_component_token`.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentToken {
    /// The `component_access_token`.
    pub component_access_token: Secret,
    /// Its lifetime in seconds (7200).
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
}
endpoint!(ApiComponentToken, "/cgi-bin/component/api_component_token", Post, None, false, ComponentToken);

/// `api_query_auth`: exchanges an authorization code for the authorizer's tokens.
#[derive(Debug, Clone, Serialize)]
pub struct ApiQueryAuth {
    /// The third-party platform's appid.
    pub component_appid: String,
    /// The single-use code of the authorization (from the callback or `fastregister`).
    pub authorization_code: String,
}

/// The answer of `api_query_auth`.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryAuth {
    /// What the authorization gave.
    pub authorization_info: AuthorizationInfo,
}

/// An authorizer's tokens and the permission sets it granted.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizationInfo {
    /// The account that authorized the platform.
    pub authorizer_appid: String,
    /// Its access token.
    pub authorizer_access_token: Secret,
    /// The access token's lifetime in seconds.
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
    /// The refresh token: the only way back to the account's access tokens.
    pub authorizer_refresh_token: Secret,
    /// The permission sets granted, as WeChat sends them (read with [`func_ids`]).
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
/// as a number or a string; an entry without one is skipped (it grants no permission set).
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
    /// The third-party platform's appid.
    pub component_appid: String,
    /// The account asked about.
    pub authorizer_appid: String,
}

/// The answer of `api_get_authorizer_info`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerInfo {
    /// The account.
    #[serde(default)]
    pub authorizer_info: AuthorizerAccount,
    /// What it granted.
    #[serde(default)]
    pub authorization_info: AuthorizerGrant,
}

/// The `authorizer_info` of `api_get_authorizer_info`: only what is read of it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizerAccount {
    /// The account's name.
    #[serde(default, deserialize_with = "string_any")]
    pub nick_name: String,
    /// The name of the entity (company, person) behind it.
    #[serde(default, deserialize_with = "string_any")]
    pub principal_name: String,
    /// Present for mini-programs only: the documented way to tell them from official accounts.
    #[serde(default, rename = "MiniProgramInfo")]
    pub mini_program_info: Option<serde_json::Value>,
}

impl AuthorizerAccount {
    /// True for a mini-program, false for an official account.
    pub fn is_mini_program(&self) -> bool {
        self.mini_program_info.as_ref().is_some_and(|v| !v.is_null())
    }
}

/// The `authorization_info` of `api_get_authorizer_info`: only what is read of it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizerGrant {
    /// The permission sets granted (read with [`func_ids`]).
    #[serde(default)]
    pub func_info: serde_json::Value,
    /// The account's refresh token, when WeChat includes it.
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
}
endpoint!(ApiGetAuthorizerInfo, "/cgi-bin/component/api_get_authorizer_info", Post, Component, false, AuthorizerInfo);

/// `api_authorizer_token`: a fresh access token for an authorizer, for its refresh token.
#[derive(Debug, Clone, Serialize)]
pub struct ApiAuthorizerToken {
    /// The third-party platform's appid.
    pub component_appid: String,
    /// The account whose token is refreshed.
    pub authorizer_appid: String,
    /// Its refresh token (sent, never printed).
    #[serde(serialize_with = "expose")]
    pub authorizer_refresh_token: Secret,
}

/// The answer of `api_authorizer_token`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerToken {
    /// The new access token.
    pub authorizer_access_token: Secret,
    /// Its lifetime in seconds.
    #[serde(default, deserialize_with = "i64_any")]
    pub expires_in: i64,
    /// WeChat may hand back a new refresh token; when it does, it replaces the stored one.
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
}
endpoint!(ApiAuthorizerToken, "/cgi-bin/component/api_authorizer_token", Post, Component, false, AuthorizerToken);

/// `api_get_authorizer_list`: one page of the platform's authorizers.
#[derive(Debug, Clone, Serialize)]
pub struct ApiGetAuthorizerList {
    /// The third-party platform's appid.
    pub component_appid: String,
    /// Where the page starts.
    pub offset: u32,
    /// How many a page holds (at most 500).
    pub count: u32,
}

/// The answer of `api_get_authorizer_list`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerList {
    /// How many authorizers there are in all.
    #[serde(default, deserialize_with = "i64_any")]
    pub total_count: i64,
    /// This page.
    #[serde(default, deserialize_with = "vec_any")]
    pub list: Vec<AuthorizerListItem>,
}

/// One authorizer with its refresh token.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerListItem {
    /// The account.
    pub authorizer_appid: String,
    /// Its refresh token.
    pub refresh_token: Secret,
    /// When it authorized the platform (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub auth_time: i64,
}
endpoint!(ApiGetAuthorizerList, "/cgi-bin/component/api_get_authorizer_list", Post, Component, false, AuthorizerList);

// ---------------------------------------------------------------- fast registration

/// `fastregister`, called with the **official account's** authorizer token.
#[derive(Debug, Clone, Serialize)]
pub struct FastRegister {
    /// The ticket the merchant's confirmation (the `fastregisterauth` link) gave.
    pub ticket: String,
}

/// The answer of `fastregister`.
#[derive(Debug, Clone, Deserialize)]
pub struct FastRegistered {
    /// The new mini-program.
    pub appid: String,
    /// Its authorization code, for `api_query_auth`.
    #[serde(deserialize_with = "string_any")]
    pub authorization_code: String,
    /// Whether the official account's verification carried over.
    #[serde(default, deserialize_with = "bool_any")]
    pub is_wx_verify_succ: bool,
    /// Whether the mini-program was linked to the official account.
    #[serde(default, deserialize_with = "bool_any")]
    pub is_link_succ: bool,
}
endpoint!(FastRegister, "/cgi-bin/account/fastregister", Post, Authorizer, true, FastRegistered);

/// `componentrebindadmin`: makes the change of administrator the merchant confirmed.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentRebindAdmin {
    /// The task id the merchant's confirmation (the `componentrebindadmin` link) gave.
    pub taskid: String,
}
endpoint!(ComponentRebindAdmin, "/cgi-bin/account/componentrebindadmin", Post, Authorizer, true, Empty);

// ---------------------------------------------------------------- account info

/// `getaccountbasicinfo` (GET works, NOTES.md).
#[derive(Debug, Clone, Serialize)]
pub struct GetAccountBasicInfo;

/// The answer of `getaccountbasicinfo`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountBasicInfo {
    /// The account.
    #[serde(default)]
    pub appid: String,
    /// 1 official account, 2 mini-program.
    #[serde(default, deserialize_with = "i64_any")]
    pub account_type: i64,
    /// The kind of entity behind it (0 person, 1 company, …).
    #[serde(default, deserialize_with = "i64_any")]
    pub principal_type: i64,
    /// The entity's name.
    #[serde(default, deserialize_with = "string_any")]
    pub principal_name: String,
    /// 1 when the real-name check passed.
    #[serde(default, deserialize_with = "i64_any")]
    pub realname_status: i64,
    /// The verification state.
    #[serde(default)]
    pub wx_verify_info: Option<WxVerifyInfo>,
    /// The signature (功能介绍) and its yearly quota.
    #[serde(default)]
    pub signature_info: Option<ModifiableText>,
    /// The avatar and its yearly quota.
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

/// An account's verification (微信认证) state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WxVerifyInfo {
    /// Qualification verified.
    #[serde(default, deserialize_with = "bool_any")]
    pub qualification_verify: bool,
    /// Name verified.
    #[serde(default, deserialize_with = "bool_any")]
    pub naming_verify: bool,
    /// Due for the annual review.
    #[serde(default, deserialize_with = "bool_any")]
    pub annual_review: bool,
    /// When the annual review opens (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub annual_review_begin_time: i64,
    /// When it closes (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub annual_review_end_time: i64,
}

/// The signature and how often it may still change this year.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModifiableText {
    /// The current signature.
    #[serde(default, deserialize_with = "string_any")]
    pub signature: String,
    /// Changes made this year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    /// Changes allowed a year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}

/// The avatar and how often it may still change this year.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HeadImageInfo {
    /// Where the current avatar is.
    #[serde(default, deserialize_with = "string_any")]
    pub head_image_url: String,
    /// Changes made this year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    /// Changes allowed a year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}

/// The name and how often it may still change this year.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NicknameInfo {
    /// The current name.
    #[serde(default, deserialize_with = "string_any")]
    pub nickname: String,
    /// Changes made this year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_used_count: i64,
    /// Changes allowed a year.
    #[serde(default, deserialize_with = "i64_any")]
    pub modify_quota: i64,
}
endpoint!(GetAccountBasicInfo, "/cgi-bin/account/getaccountbasicinfo", Get, Authorizer, false, AccountBasicInfo);

// ---------------------------------------------------------------- nickname

/// `checkwxverifynickname`: whether a name needs material to be taken.
#[derive(Debug, Clone, Serialize)]
pub struct CheckWxVerifyNickname {
    /// The name to check.
    pub nick_name: String,
}

/// The answer of `checkwxverifynickname`.
#[derive(Debug, Clone, Deserialize)]
pub struct NicknameCheck {
    /// True when the name hits a rule (it then needs material, said in `wording`).
    #[serde(default, deserialize_with = "bool_any")]
    pub hit_condition: bool,
    /// What WeChat says about it.
    #[serde(default, deserialize_with = "string_any")]
    pub wording: String,
}
endpoint!(CheckWxVerifyNickname, "/cgi-bin/wxverify/checkwxverifynickname", Post, Authorizer, false, NicknameCheck);

/// `setnickname`; material fields are media ids, sent only when set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetNickname {
    /// The new name.
    pub nick_name: String,
    /// A person's identity card (media id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id_card: String,
    /// A company's business licence (media id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub license: String,
    /// Other material (media id); see [`SetNickname::with_materials`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_1: String,
    /// Other material (media id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_2: String,
    /// Other material (media id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_3: String,
    /// Other material (media id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub naming_other_stuff_4: String,
    /// Other material (media id).
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

/// The answer of `setnickname`.
#[derive(Debug, Clone, Deserialize)]
pub struct NicknameSet {
    /// What WeChat says about it.
    #[serde(default, deserialize_with = "string_any")]
    pub wording: String,
    /// Absent when the name was set at once without an audit.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_id: i64,
}
endpoint!(SetNickname, "/wxa/setnickname", Post, Authorizer, true, NicknameSet);

/// `api_wxa_querynickname`: how the audit of a name set with material stands.
#[derive(Debug, Clone, Serialize)]
pub struct QueryNickname {
    /// The audit `setnickname` started.
    pub audit_id: i64,
}

/// The answer of `api_wxa_querynickname`.
#[derive(Debug, Clone, Deserialize)]
pub struct NicknameAudit {
    /// The name under audit.
    #[serde(default, deserialize_with = "string_any")]
    pub nickname: String,
    /// 1 reviewing, 2 rejected, 3 approved.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_stat: i64,
    /// Why it was rejected.
    #[serde(default, deserialize_with = "string_any")]
    pub fail_reason: String,
    /// When the audit began (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub create_time: i64,
    /// When it was decided (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_time: i64,
}
endpoint!(QueryNickname, "/wxa/api_wxa_querynickname", Post, Authorizer, false, NicknameAudit);

// ---------------------------------------------------------------- avatar and signature

/// `modifyheadimage`: sets the avatar from an uploaded image, cropped to a square.
#[derive(Debug, Clone, Serialize)]
pub struct ModifyHeadImage {
    /// The image (media id).
    pub head_img_media_id: String,
    /// The crop's left edge, as a fraction of the width (0.0–1.0).
    pub x1: f64,
    /// The crop's top edge, as a fraction of the height.
    pub y1: f64,
    /// The crop's right edge.
    pub x2: f64,
    /// The crop's bottom edge.
    pub y2: f64,
}
endpoint!(ModifyHeadImage, "/cgi-bin/account/modifyheadimage", Post, Authorizer, true, Empty);

/// `modifysignature`: sets the signature (功能介绍).
#[derive(Debug, Clone, Serialize)]
pub struct ModifySignature {
    /// The new signature.
    pub signature: String,
}
endpoint!(ModifySignature, "/cgi-bin/account/modifysignature", Post, Authorizer, true, Empty);

// ---------------------------------------------------------------- categories

/// `getallcategories`: the whole category tree.
#[derive(Debug, Clone, Serialize)]
pub struct GetAllCategories;

/// The `getallcategories` answer. The live platform wraps the tree in `categories_list`; the
/// settings document's example says `category_list` (NOTES.md): both are read, the live one
/// first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AllCategories {
    /// The tree, as the live platform sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories_list: Option<CategoryList>,
    /// The tree, as the document spells it.
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

/// The nodes of the category tree, flat.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CategoryList {
    /// Every node, first and second level alike.
    #[serde(default, deserialize_with = "vec_any")]
    pub categories: Vec<Category>,
}

/// One node of the category tree (`getallcategories`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Category {
    /// The category's id.
    #[serde(deserialize_with = "i64_any")]
    pub id: i64,
    /// Its name.
    #[serde(default, deserialize_with = "string_any")]
    pub name: String,
    /// 1 for a first-level category, 2 for a second.
    #[serde(default, deserialize_with = "i64_any")]
    pub level: i64,
    /// The parent's id (0 for a first-level category).
    #[serde(default, deserialize_with = "i64_any")]
    pub father: i64,
    /// The children's ids.
    #[serde(default, deserialize_with = "vec_any")]
    pub children: Vec<i64>,
    /// 1 when the category needs certificates.
    #[serde(default, deserialize_with = "i64_any")]
    pub sensitive_type: i64,
    /// The certificates it needs.
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

/// The certificates a category needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Qualify {
    /// Alternatives ("with licence", "without licence").
    #[serde(default, deserialize_with = "vec_any")]
    pub exter_list: Vec<ExterList>,
}

/// One alternative set of certificates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExterList {
    /// The certificates of this alternative.
    #[serde(default, deserialize_with = "vec_any")]
    pub inner_list: Vec<InnerList>,
}

/// One certificate a category may need.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InnerList {
    /// Its name (the `key` of a [`Certificate`]).
    #[serde(default, deserialize_with = "string_any")]
    pub name: String,
    /// A page about it.
    #[serde(default, deserialize_with = "string_any")]
    pub url: String,
}
endpoint!(GetAllCategories, "/cgi-bin/wxopen/getallcategories", Get, Authorizer, false, AllCategories);

/// A certificate: lower-case `key`/`value`, or WeChat answers 40007 (NOTES.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The certificate's name.
    pub key: String,
    /// A media id.
    pub value: String,
}

/// One category for `addcategory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryToAdd {
    /// The first-level id.
    pub first: i64,
    /// The second-level id.
    pub second: i64,
    /// Spelled as the documents spell it.
    pub certicates: Vec<Certificate>,
}

/// `addcategory`: adds categories to the account.
#[derive(Debug, Clone, Serialize)]
pub struct AddCategory {
    /// The categories with their certificates.
    pub categories: Vec<CategoryToAdd>,
}
endpoint!(AddCategory, "/cgi-bin/wxopen/addcategory", Post, Authorizer, true, Empty);

/// `deletecategory`: removes a category from the account.
#[derive(Debug, Clone, Serialize)]
pub struct DeleteCategory {
    /// The first-level id.
    pub first: i64,
    /// The second-level id.
    pub second: i64,
}
endpoint!(DeleteCategory, "/cgi-bin/wxopen/deletecategory", Post, Authorizer, true, Empty);

/// `modifycategory`: replaces a category's certificates.
#[derive(Debug, Clone, Serialize)]
pub struct ModifyCategory {
    /// The first-level id.
    pub first: i64,
    /// The second-level id.
    pub second: i64,
    /// The certificates, spelled as the documents spell it.
    pub certicates: Vec<Certificate>,
}
endpoint!(ModifyCategory, "/cgi-bin/wxopen/modifycategory", Post, Authorizer, true, Empty);

/// `getcategory`: the categories set on the account.
#[derive(Debug, Clone, Serialize)]
pub struct GetCategory;

/// The answer of `getcategory`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountCategories {
    /// The categories set.
    #[serde(default, deserialize_with = "vec_any")]
    pub categories: Vec<AccountCategory>,
    /// Changes allowed a month.
    #[serde(default, deserialize_with = "i64_any")]
    pub limit: i64,
    /// Changes left this month.
    #[serde(default, deserialize_with = "i64_any")]
    pub quota: i64,
    /// How many categories the account may have.
    #[serde(default, deserialize_with = "i64_any")]
    pub category_limit: i64,
}

/// A category set on the account; `audit_status` 1 reviewing, 2 rejected, 3 approved.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountCategory {
    /// The first-level id.
    #[serde(deserialize_with = "i64_any")]
    pub first: i64,
    /// Its name.
    #[serde(default, deserialize_with = "string_any")]
    pub first_name: String,
    /// The second-level id.
    #[serde(deserialize_with = "i64_any")]
    pub second: i64,
    /// Its name.
    #[serde(default, deserialize_with = "string_any")]
    pub second_name: String,
    /// 1 reviewing, 2 rejected, 3 approved.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_status: i64,
    /// Why it was rejected.
    #[serde(default, deserialize_with = "string_any")]
    pub audit_reason: String,
}
endpoint!(GetCategory, "/cgi-bin/wxopen/getcategory", Get, Authorizer, false, AccountCategories);

// ---------------------------------------------------------------- quota

/// `quota/get`: an API's daily quota for the account.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaGet {
    /// The API's path (`/cgi-bin/account/modifysignature`).
    pub cgi_path: String,
}

/// The `quota/get` answer. Besides the daily quota the documents describe, the live platform
/// states its own per-window rate limits for the path (NOTES.md; WxJava
/// `WxMiniGetApiQuotaResult`): `rate_limit` for ordinary calls and `component_rate_limit` for
/// calls a platform makes on an account's behalf (absent where it does not apply).
#[derive(Debug, Clone, Deserialize)]
pub struct QuotaInfo {
    /// The daily quota.
    pub quota: Quota,
    /// The stated limit of ordinary calls.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The stated limit of calls a platform makes on the account's behalf.
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// At most `call_count` calls every `refresh_second` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Calls a window.
    #[serde(default, deserialize_with = "i64_any")]
    pub call_count: i64,
    /// The window, in seconds.
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

/// An API's daily quota.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quota {
    /// Calls a Beijing day.
    #[serde(default, deserialize_with = "i64_any")]
    pub daily_limit: i64,
    /// Calls made today.
    #[serde(default, deserialize_with = "i64_any")]
    pub used: i64,
    /// Calls left today.
    #[serde(default, deserialize_with = "i64_any")]
    pub remain: i64,
}
endpoint!(QuotaGet, "/cgi-bin/openapi/quota/get", Post, Authorizer, false, QuotaInfo);

// ---------------------------------------------------------------- media

/// Path of the temporary media upload (multipart, field `media`, `type=image`).
pub const MEDIA_UPLOAD_PATH: &str = "/cgi-bin/media/upload";

/// The answer of a temporary media upload.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaUploaded {
    /// The media's type (`image`).
    #[serde(default, rename = "type", deserialize_with = "string_any")]
    pub kind: String,
    /// Its id, for the calls that take it (valid three days).
    pub media_id: String,
    /// When it was uploaded (Unix seconds).
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
