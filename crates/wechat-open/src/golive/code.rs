//! Code (`golive.md` §3.1–§3.4, §3.11's version info, §3.12): the platform's template
//! library ([`GetTemplateList`], component token), [`Commit`] of a template to a
//! mini-program — which creates its trial version and starts the privacy scan — the committed
//! pages ([`GetPage`]), the trial version's QR code ([`GetQrcode`], a binary answer:
//! [`Client::trial_qrcode`](crate::Client::trial_qrcode)), what is in trial and released
//! ([`GetVersionInfo`], with which a lost `commit` or `release` answer is reconciled) and the
//! rollback ([`RevertCodeRelease`], [`GetHistoryVersion`]).
//!
//! `template_id` is a number in the new document and in WxJava and EasyWeChat, a string in the
//! 2.0 document, PowerWeChat and SKIT: it is sent as a number and read as either. `ext_json` is
//! a JSON document *serialized into a string* — every SDK sends a string — so [`Commit`] holds
//! a `String` and [`Commit::new`] serializes the document.

use serde::{Deserialize, Serialize};

use crate::api::{endpoint, Empty, Endpoint};
use crate::lenient::{i64_any, string_any, vec_any};

/// `GET /wxa/gettemplatelist` (the component's token, as `access_token=`; GET only): the
/// templates in the library.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetTemplateList {
    /// 0 normal, 1 standard; `None`: all (not sent).
    #[serde(skip)]
    pub template_type: Option<i64>,
}

/// A category of a standard template.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateCategory {
    /// First level.
    #[serde(default, deserialize_with = "string_any")]
    pub first_class: String,
    /// First-level id.
    #[serde(default, deserialize_with = "i64_any")]
    pub first_id: i64,
    /// Second level.
    #[serde(default, deserialize_with = "string_any")]
    pub second_class: String,
    /// Second-level id.
    #[serde(default, deserialize_with = "i64_any")]
    pub second_id: i64,
}

/// One template of the library.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Template {
    /// Its id (number or string).
    #[serde(deserialize_with = "i64_any")]
    pub template_id: i64,
    /// The version label it was added with.
    #[serde(default, deserialize_with = "string_any")]
    pub user_version: String,
    /// Its description.
    #[serde(default, deserialize_with = "string_any")]
    pub user_desc: String,
    /// When it was added (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub create_time: i64,
    /// The draft it came from.
    #[serde(default, deserialize_with = "i64_any")]
    pub draft_id: i64,
    /// 0 normal, 1 standard.
    #[serde(default, deserialize_with = "i64_any")]
    pub template_type: i64,
    /// The appid of the mini-program it was developed in.
    #[serde(default, deserialize_with = "string_any")]
    pub source_miniprogram_appid: String,
    /// That mini-program's name.
    #[serde(default, deserialize_with = "string_any")]
    pub source_miniprogram: String,
    /// Who uploaded it.
    #[serde(default, deserialize_with = "string_any")]
    pub developer: String,
    /// A standard template's categories.
    #[serde(default, deserialize_with = "vec_any")]
    pub category_list: Vec<TemplateCategory>,
    /// A standard template's audit scene.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_scene: i64,
    /// A standard template's audit: 0 未提审, 1 审核中, 2 驳回, 3 通过, 4 提审中, 5 提审失败.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_status: i64,
    /// Why its audit was rejected.
    #[serde(default, deserialize_with = "string_any")]
    pub reason: String,
}

/// The answer of `gettemplatelist`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateList {
    /// The templates.
    #[serde(default, deserialize_with = "vec_any")]
    pub template_list: Vec<Template>,
}

impl Endpoint for GetTemplateList {
    const PATH: &'static str = "/wxa/gettemplatelist";
    const METHOD: crate::api::Method = crate::api::Method::Get;
    const TOKEN: crate::TokenKind = crate::TokenKind::Component;
    const CHANGES_STATE: bool = false;
    type Response = TemplateList;

    /// The component's token as `access_token=` (golive.md §3.1; WxJava's `getTemplateList`).
    fn token_key() -> Option<&'static str> {
        Some("access_token")
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        self.template_type.map(|t| ("template_type", t.to_string())).into_iter().collect()
    }
}

/// `POST /wxa/commit`: uploads a template's code to the mini-program, creating its trial
/// version; a privacy scan follows (61039 until it ends). Never retried together with
/// `submit_audit`: each commit restarts the scan.
#[derive(Debug, Clone, Serialize)]
pub struct Commit {
    /// The template (sent as a number).
    pub template_id: i64,
    /// The `ext.json` document, serialized into a string.
    pub ext_json: String,
    /// The version label (≤ 64 characters).
    pub user_version: String,
    /// The version's description.
    pub user_desc: String,
}

impl Commit {
    /// A commit of `template_id` with `ext` serialized into the string `ext_json` must be.
    pub fn new(template_id: i64, ext: &serde_json::Value, user_version: &str, user_desc: &str) -> Commit {
        Commit {
            template_id,
            ext_json: ext.to_string(),
            user_version: user_version.to_string(),
            user_desc: user_desc.to_string(),
        }
    }
}
endpoint!(Commit, "/wxa/commit", Post, Authorizer, true, Empty);

/// `GET /wxa/get_page`: the pages of the committed code.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPage {}

/// The answer of `get_page`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageList {
    /// Page paths (`pages/home/index`).
    #[serde(default, deserialize_with = "vec_any")]
    pub page_list: Vec<String>,
}
endpoint!(GetPage, "/wxa/get_page", Get, Authorizer, false, PageList);

/// `GET /wxa/get_qrcode[?path=…]`: the trial version's QR code, a JPEG (errors come as JSON);
/// sent with [`Client::trial_qrcode`](crate::Client::trial_qrcode).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetQrcode {
    /// The page and query to open (`page/index?x=1`), encoded once; `None`: the home page.
    #[serde(skip)]
    pub path: Option<String>,
}

impl GetQrcode {
    /// The path of the endpoint.
    pub const PATH: &'static str = "/wxa/get_qrcode";

    /// The query after the token.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        self.path.iter().map(|p| ("path", p.clone())).collect()
    }
}

/// `POST /wxa/getversioninfo`, body `{}`: the trial and the released version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetVersionInfo {}

/// The trial version (`exp_info`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExpInfo {
    /// When it was committed (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub exp_time: i64,
    /// Its version label.
    #[serde(default, deserialize_with = "string_any")]
    pub exp_version: String,
    /// Its description.
    #[serde(default, deserialize_with = "string_any")]
    pub exp_desc: String,
}

/// The released version (`release_info`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReleaseInfo {
    /// When it was released (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub release_time: i64,
    /// Its version label.
    #[serde(default, deserialize_with = "string_any")]
    pub release_version: String,
    /// Its description.
    #[serde(default, deserialize_with = "string_any")]
    pub release_desc: String,
}

/// The answer of `getversioninfo`; each part is absent when there is no such version.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VersionInfo {
    /// The trial version.
    #[serde(default)]
    pub exp_info: Option<ExpInfo>,
    /// The released version.
    #[serde(default)]
    pub release_info: Option<ReleaseInfo>,
}
endpoint!(GetVersionInfo, "/wxa/getversioninfo", Post, Authorizer, false, VersionInfo);

/// `GET /wxa/revertcoderelease[?app_version=N]`: rolls back to the previous (or the given)
/// released version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RevertCodeRelease {
    /// The version to go back to (from [`GetHistoryVersion`]); `None`: the previous one.
    #[serde(skip)]
    pub app_version: Option<i64>,
}

impl Endpoint for RevertCodeRelease {
    const PATH: &'static str = "/wxa/revertcoderelease";
    const METHOD: crate::api::Method = crate::api::Method::Get;
    const TOKEN: crate::TokenKind = crate::TokenKind::Authorizer;
    const CHANGES_STATE: bool = true;
    type Response = Empty;

    fn query(&self) -> Vec<(&'static str, String)> {
        self.app_version.map(|v| ("app_version", v.to_string())).into_iter().collect()
    }
}

/// `GET /wxa/revertcoderelease?action=get_history_version`: the versions a rollback can reach
/// (the last 5; the query counts against the endpoint's daily quota).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetHistoryVersion {}

/// One version a rollback can reach.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryVersion {
    /// Its number, for [`RevertCodeRelease::app_version`].
    #[serde(default, deserialize_with = "i64_any")]
    pub app_version: i64,
    /// Its version label.
    #[serde(default, deserialize_with = "string_any")]
    pub user_version: String,
    /// Its description.
    #[serde(default, deserialize_with = "string_any")]
    pub user_desc: String,
    /// When it was committed (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub commit_time: i64,
}

/// The answer of `get_history_version`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryVersions {
    /// The versions.
    #[serde(default, deserialize_with = "vec_any")]
    pub version_list: Vec<HistoryVersion>,
}

impl Endpoint for GetHistoryVersion {
    const PATH: &'static str = "/wxa/revertcoderelease";
    const METHOD: crate::api::Method = crate::api::Method::Get;
    const TOKEN: crate::TokenKind = crate::TokenKind::Authorizer;
    const CHANGES_STATE: bool = false;
    type Response = HistoryVersions;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("action", "get_history_version".to_string())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    /// GET with the component token; `template_type` in the query only when given; ids as
    /// numbers (documented) or strings (the 2.0 document, PowerWeChat, SKIT).
    #[tokio::test]
    async fn gettemplatelist_is_a_get_and_reads_ids_either_way() {
        let (answer, sent) = exchange(
            &GetTemplateList::default(),
            r#"{ "errcode": 0, "errmsg": "ok",
              "template_list": [{ "template_id": 128, "user_version": "2.4.0", "user_desc": "门店版",
                "create_time": 1716000000, "template_type": 0,
                "source_miniprogram_appid": "wxfedcba9876543210", "source_miniprogram": "模板开发小程序" },
                { "template_id": "129", "user_version": "2.5.0", "create_time": "1716000001", "draft_id": "7",
                  "template_type": 1, "audit_status": 3, "category_list": [{"first_class":"生活服务","first_id":150,"second_class":"家政","second_id":627}] }] }"#,
        )
        .await;
        sent.is("GET", "/wxa/gettemplatelist?access_token=TOKEN", "");
        let list = answer.unwrap().template_list;
        assert_eq!(
            (list[0].template_id, list[0].user_desc.as_str(), list[0].create_time),
            (128, "门店版", 1_716_000_000)
        );
        assert_eq!((list[1].template_id, list[1].draft_id, list[1].audit_status), (129, 7, 3));
        assert_eq!(list[1].category_list[0].second_id, 627);
        let (_, sent) =
            exchange(&GetTemplateList { template_type: Some(0) }, r#"{"errcode":0,"template_list":[]}"#).await;
        sent.is("GET", "/wxa/gettemplatelist?access_token=TOKEN&template_type=0", "");
    }

    /// `template_id` a number, `ext_json` a string holding the document.
    #[tokio::test]
    async fn commit_sends_a_number_and_a_string() {
        let ext = serde_json::json!({"extAppid":"wx0123456789abcdef","ext":{"shopId":"S1024"}});
        let (answer, sent) =
            exchange(&Commit::new(128, &ext, "2.4.0", "wxprov batch 2024-06"), r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is(
            "POST",
            "/wxa/commit?access_token=TOKEN",
            r#"{"template_id":128,"ext_json":"{\"ext\":{\"shopId\":\"S1024\"},\"extAppid\":\"wx0123456789abcdef\"}","user_version":"2.4.0","user_desc":"wxprov batch 2024-06"}"#,
        );
        let body = sent.json();
        assert!(body["ext_json"].is_string() && body["template_id"].is_i64(), "{body}");
        let (answer, _) =
            exchange(&Commit::new(999, &ext, "1", "d"), r#"{"errcode":85014,"errmsg":"template id invalid"}"#).await;
        assert_eq!(answer.unwrap_err().errcode(), Some(85014));
    }

    #[tokio::test]
    async fn get_page_lists_the_pages() {
        let (answer, sent) =
            exchange(&GetPage {}, r#"{"errcode":0,"errmsg":"ok","page_list":["pages/home/index","pages/shop/index"]}"#)
                .await;
        sent.is("GET", "/wxa/get_page?access_token=TOKEN", "");
        assert_eq!(answer.unwrap().page_list, ["pages/home/index", "pages/shop/index"]);
    }

    #[tokio::test]
    async fn getversioninfo_posts_an_empty_object() {
        let (answer, sent) = exchange(
            &GetVersionInfo {},
            r#"{"errcode":0,"errmsg":"ok","exp_info":{"exp_time":1717200000,"exp_version":"2.4.0","exp_desc":"d"},
               "release_info":{"release_time":"1717300000","release_version":"2.3.0","release_desc":"r"}}"#,
        )
        .await;
        sent.is("POST", "/wxa/getversioninfo?access_token=TOKEN", "{}");
        let info = answer.unwrap();
        assert_eq!(
            info.exp_info.as_ref().map(|e| (e.exp_time, e.exp_version.as_str())),
            Some((1_717_200_000, "2.4.0"))
        );
        assert_eq!(info.release_info.as_ref().map(|r| r.release_time), Some(1_717_300_000));
        let never: VersionInfo = serde_json::from_str(r#"{"errcode":0,"errmsg":"ok"}"#).unwrap();
        assert!(never.exp_info.is_none() && never.release_info.is_none());
    }

    #[tokio::test]
    async fn rollback_and_its_history_are_gets_with_a_query() {
        let (answer, sent) = exchange(&RevertCodeRelease::default(), r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is("GET", "/wxa/revertcoderelease?access_token=TOKEN", "");
        let (_, sent) = exchange(&RevertCodeRelease { app_version: Some(3) }, r#"{"errcode":0}"#).await;
        sent.is("GET", "/wxa/revertcoderelease?access_token=TOKEN&app_version=3", "");
        let (answer, sent) = exchange(
            &GetHistoryVersion {},
            r#"{"errcode":0,"errmsg":"ok","version_list":[{"app_version":3,"user_version":"2.3.0","user_desc":"d","commit_time":1717000000},
               {"app_version":"2","user_version":"2.2.0","commit_time":"1716000000"}]}"#,
        )
        .await;
        sent.is("GET", "/wxa/revertcoderelease?access_token=TOKEN&action=get_history_version", "");
        let versions = answer.unwrap().version_list;
        assert_eq!((versions[1].app_version, versions[1].commit_time), (2, 1_716_000_000));
    }

    /// The QR code: an image, or WeChat's JSON error; the path encoded once.
    #[tokio::test]
    async fn trial_qrcode_is_the_image_or_the_error() {
        use crate::golive::loopback::exchange_with;
        use crate::secret::Secret;
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
        let req = GetQrcode { path: Some("page/index?x=1".into()) };
        let (answer, sent) = exchange_with(&jpeg, "image/jpeg", |client| async move {
            client.trial_qrcode(&Secret::new("TOKEN"), &req).await
        })
        .await;
        sent.is("GET", "/wxa/get_qrcode?access_token=TOKEN&path=page%2Findex%3Fx%3D1", "");
        assert_eq!(answer.unwrap(), jpeg);
        let error = br#"{"errcode":86001,"errmsg":"no committed code"}"#;
        let (answer, sent) = exchange_with(error, "application/json", |client| async move {
            client.trial_qrcode(&Secret::new("TOKEN"), &GetQrcode::default()).await
        })
        .await;
        sent.is("GET", "/wxa/get_qrcode?access_token=TOKEN", "");
        assert_eq!(answer.unwrap_err().errcode(), Some(86001));
    }
}
