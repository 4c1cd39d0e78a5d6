//! The privacy guide and the privacy scan (`golive.md` §1): after a commit WeChat scans the
//! code for the privacy keys it uses ([`GetPrivacySetting`]'s `privacy_list`) and the
//! restricted APIs it calls ([`GetCodePrivacyInfo`], 61039 until the scan ends); the guide
//! ([`SetPrivacySetting`]) must cover every key found, and the restricted location APIs are
//! applied for ([`ApplyPrivacyInterface`], [`GetPrivacyInterface`]).
//!
//! `privacy_desc` is an object holding `privacy_desc_list` in the new document and in WxJava,
//! silenceper and SKIT; the 2.0 document calls it an array: both are read. `code_exist` comes as
//! 0/1 (SKIT reads a boolean). WxJava types `get_privacy_interface`'s `status`, `audit_id` and
//! `apply_time` as strings: numbers and numeric strings are read alike.

use serde::{Deserialize, Deserializer, Serialize};

use crate::api::{endpoint, Empty};
use crate::lenient::{bool_any, i64_any, string_any, vec_any};

/// Which guide: the live one or the one in development.
pub const PRIVACY_VER_LIVE: i64 = 1;
/// The development guide, which the next audit and release make live (the default).
pub const PRIVACY_VER_DEV: i64 = 2;

/// `POST /cgi-bin/component/getprivacysetting`: the guide and what the scan found.
#[derive(Debug, Clone, Serialize)]
pub struct GetPrivacySetting {
    /// [`PRIVACY_VER_DEV`] (2) or [`PRIVACY_VER_LIVE`] (1); always sent.
    pub privacy_ver: i64,
}

impl Default for GetPrivacySetting {
    fn default() -> Self {
        GetPrivacySetting { privacy_ver: PRIVACY_VER_DEV }
    }
}

/// Who collects the data, and how users are told (`owner_setting`); read from the answer and
/// sent in [`SetPrivacySetting`], empty fields left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerSetting {
    /// A phone number.
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub contact_phone: String,
    /// An e-mail address.
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub contact_email: String,
    /// A QQ number.
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub contact_qq: String,
    /// A WeChat id.
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub contact_weixin: String,
    /// How users are told of changes (required).
    #[serde(default, deserialize_with = "string_any")]
    pub notice_method: String,
    /// The retention period, digits and 天 (`"180天"`).
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub store_expire_timestamp: String,
    /// A custom guide uploaded with `uploadprivacyextfile`.
    #[serde(default, deserialize_with = "string_any", skip_serializing_if = "String::is_empty")]
    pub ext_file_media_id: String,
    /// The storage region code, for overseas entities only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_region: Option<i64>,
}

/// One configured key of the guide, as `getprivacysetting` answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PrivacySettingEntry {
    /// The key (`PhoneNumber`, `Location`, …).
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_key: String,
    /// The purpose; empty = not configured.
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_text: String,
    /// The key's Chinese name.
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_label: String,
}

/// One key → Chinese name of the live list (`privacy_desc_list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PrivacyDesc {
    /// The key.
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_key: String,
    /// Its Chinese name.
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_desc: String,
}

/// A third-party SDK's declaration (`sdk_privacy_info_list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdkPrivacyInfo {
    /// The SDK's name.
    #[serde(default, deserialize_with = "string_any")]
    pub sdk_name: String,
    /// The company behind it.
    #[serde(default, deserialize_with = "string_any")]
    pub sdk_biz_name: String,
    /// What it collects, and why.
    #[serde(default, deserialize_with = "vec_any")]
    pub sdk_list: Vec<PrivacyItem>,
}

/// The answer of `getprivacysetting`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivacySetting {
    /// True when code was committed recently (else `privacy_list` may be empty); 0/1 or a boolean.
    #[serde(default, deserialize_with = "bool_any")]
    pub code_exist: bool,
    /// The keys the scan found in the code: each must be configured.
    #[serde(default, deserialize_with = "vec_any")]
    pub privacy_list: Vec<String>,
    /// The configured keys.
    #[serde(default, deserialize_with = "vec_any")]
    pub setting_list: Vec<PrivacySettingEntry>,
    /// When it last changed (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub update_time: i64,
    /// Who collects the data.
    #[serde(default)]
    pub owner_setting: OwnerSetting,
    /// The live key → Chinese-name list: `{privacy_desc_list: […]}` or a bare array.
    #[serde(default, deserialize_with = "privacy_desc_any")]
    pub privacy_desc: Vec<PrivacyDesc>,
    /// Third-party SDK declarations.
    #[serde(default, deserialize_with = "vec_any")]
    pub sdk_privacy_info_list: Vec<SdkPrivacyInfo>,
}

impl PrivacySetting {
    /// The keys the scan found that the guide does not configure (no entry, or an empty
    /// `privacy_text`), in the scan's order.
    pub fn unconfigured(&self) -> Vec<&str> {
        self.privacy_list
            .iter()
            .filter(|key| {
                !self.setting_list.iter().any(|s| &s.privacy_key == *key && !s.privacy_text.trim().is_empty())
            })
            .map(String::as_str)
            .collect()
    }
}
endpoint!(GetPrivacySetting, "/cgi-bin/component/getprivacysetting", Post, Authorizer, false, PrivacySetting);

/// `privacy_desc` as an object holding `privacy_desc_list` (the new document, the SDKs) or,
/// as the 2.0 document says, the array itself; missing or null is empty.
fn privacy_desc_any<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PrivacyDesc>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Object {
            #[serde(default, deserialize_with = "vec_any")]
            privacy_desc_list: Vec<PrivacyDesc>,
        },
        List(Vec<PrivacyDesc>),
    }
    Ok(match Option::<Form>::deserialize(d)? {
        Some(Form::Object { privacy_desc_list }) => privacy_desc_list,
        Some(Form::List(list)) => list,
        None => Vec::new(),
    })
}

/// One key and its purpose, as [`SetPrivacySetting`] sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyItem {
    /// The key.
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_key: String,
    /// The purpose, written without 为了/用于 (the mini-program shows "为了" + it).
    #[serde(default, deserialize_with = "string_any")]
    pub privacy_text: String,
}

/// `POST /cgi-bin/component/setprivacysetting`: replaces the whole guide.
#[derive(Debug, Clone, Serialize)]
pub struct SetPrivacySetting {
    /// [`PRIVACY_VER_DEV`] (2, the default) or [`PRIVACY_VER_LIVE`] (1: `owner_setting` only).
    pub privacy_ver: i64,
    /// Who collects the data.
    pub owner_setting: OwnerSetting,
    /// Every key with its purpose; with version 1 it must be absent (`None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting_list: Option<Vec<PrivacyItem>>,
    /// Third-party SDK declarations, sent when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sdk_privacy_info_list: Vec<SdkPrivacyInfo>,
}

impl SetPrivacySetting {
    /// The development guide (version 2) with its owner and keys.
    pub fn development(owner_setting: OwnerSetting, setting_list: Vec<PrivacyItem>) -> SetPrivacySetting {
        SetPrivacySetting {
            privacy_ver: PRIVACY_VER_DEV,
            owner_setting,
            setting_list: Some(setting_list),
            sdk_privacy_info_list: Vec::new(),
        }
    }
}
endpoint!(SetPrivacySetting, "/cgi-bin/component/setprivacysetting", Post, Authorizer, true, Empty);

/// `GET /wxa/security/get_code_privacy_info`: whether the scan has finished (61039 while it
/// runs) and which restricted APIs lack permission or declaration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetCodePrivacyInfo {}

/// The answer of `get_code_privacy_info`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CodePrivacyInfo {
    /// APIs used without the permission (`wx.getLocation`).
    #[serde(default, deserialize_with = "vec_any")]
    pub without_auth_list: Vec<String>,
    /// APIs used but not declared in `requiredPrivateInfos`.
    #[serde(default, deserialize_with = "vec_any")]
    pub without_conf_list: Vec<String>,
}
endpoint!(GetCodePrivacyInfo, "/wxa/security/get_code_privacy_info", Get, Authorizer, false, CodePrivacyInfo);

/// `GET /wxa/security/get_privacy_interface`: the restricted APIs and their state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPrivacyInterface {}

/// One restricted API.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivacyInterface {
    /// Its name (`wx.chooseLocation`).
    #[serde(default, deserialize_with = "string_any")]
    pub api_name: String,
    /// Its Chinese name.
    #[serde(default, deserialize_with = "string_any")]
    pub api_ch_name: String,
    /// What it does.
    #[serde(default, deserialize_with = "string_any")]
    pub api_desc: String,
    /// A page about it.
    #[serde(default, deserialize_with = "string_any")]
    pub api_link: String,
    /// Its group.
    #[serde(default, deserialize_with = "string_any")]
    pub group_name: String,
    /// When it was applied for (Unix seconds; 0 before).
    #[serde(default, deserialize_with = "i64_any")]
    pub apply_time: i64,
    /// 1 待申请开通, 2 无权限, 3 申请中, 4 申请失败, 5 已开通.
    #[serde(default, deserialize_with = "i64_any")]
    pub status: i64,
    /// The application's audit id.
    #[serde(default, deserialize_with = "i64_any")]
    pub audit_id: i64,
    /// Why it was refused.
    #[serde(default, deserialize_with = "string_any")]
    pub fail_reason: String,
}

/// `status` 5: the API may be used.
pub const INTERFACE_OPEN: i64 = 5;

/// The answer of `get_privacy_interface`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivacyInterfaces {
    /// Every restricted API.
    #[serde(default, deserialize_with = "vec_any")]
    pub interface_list: Vec<PrivacyInterface>,
}
endpoint!(GetPrivacyInterface, "/wxa/security/get_privacy_interface", Get, Authorizer, false, PrivacyInterfaces);

/// `POST /wxa/security/apply_privacy_interface`: applies for a restricted API, with one of the
/// three kinds of support.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyPrivacyInterface {
    /// The API's exact, case-sensitive name.
    pub api_name: String,
    /// Why (≤ 300 characters).
    pub content: String,
    /// Supporting web pages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub url_list: Vec<String>,
    /// Image URLs (≤ 10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pic_list: Vec<String>,
    /// One mp4 URL.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub video_list: Vec<String>,
}

/// The answer of `apply_privacy_interface`.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivacyInterfaceApplied {
    /// The application's audit id (number or numeric string).
    #[serde(deserialize_with = "i64_any")]
    pub audit_id: i64,
}
endpoint!(
    ApplyPrivacyInterface,
    "/wxa/security/apply_privacy_interface",
    Post,
    Authorizer,
    true,
    PrivacyInterfaceApplied
);

/// Path of the custom privacy guide upload (multipart field `file`, plain text ≤ 100 KB):
/// [`Client::upload_privacy_ext_file`](crate::Client::upload_privacy_ext_file).
pub const UPLOAD_PRIVACY_EXT_FILE_PATH: &str = "/cgi-bin/component/uploadprivacyextfile";

/// The answer of `uploadprivacyextfile`.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivacyExtFileUploaded {
    /// The file's media id, for `owner_setting.ext_file_media_id`.
    #[serde(deserialize_with = "string_any")]
    pub ext_file_media_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    const DOCUMENTED: &str = r#"{ "errcode": 0, "errmsg": "ok", "code_exist": 1,
      "privacy_list": ["PhoneNumber", "Location"],
      "setting_list": [{ "privacy_key": "PhoneNumber", "privacy_text": "", "privacy_label": "手机号码" }],
      "update_time": 1717171717,
      "owner_setting": { "contact_email": "privacy@example.cn", "notice_method": "小程序内公告" },
      "privacy_desc": { "privacy_desc_list": [{ "privacy_key": "Location", "privacy_desc": "位置信息" }] } }"#;

    #[tokio::test]
    async fn getprivacysetting_sends_the_version_and_reads_the_documented_answer() {
        let (answer, sent) = exchange(&GetPrivacySetting::default(), DOCUMENTED).await;
        sent.is("POST", "/cgi-bin/component/getprivacysetting?access_token=TOKEN", r#"{"privacy_ver":2}"#);
        let setting = answer.unwrap();
        assert!(setting.code_exist);
        assert_eq!(setting.privacy_list, ["PhoneNumber", "Location"]);
        assert_eq!(setting.setting_list[0].privacy_label, "手机号码");
        assert_eq!(setting.update_time, 1_717_171_717);
        assert_eq!(setting.owner_setting.contact_email, "privacy@example.cn");
        assert_eq!(
            setting.privacy_desc,
            [PrivacyDesc { privacy_key: "Location".into(), privacy_desc: "位置信息".into() }]
        );
        // Both found keys lack a purpose: PhoneNumber's text is empty, Location has no entry.
        assert_eq!(setting.unconfigured(), ["PhoneNumber", "Location"]);
    }

    /// The 2.0 document's array `privacy_desc`, a boolean `code_exist` (SKIT), numbers as
    /// strings, and a sparse answer.
    #[test]
    fn getprivacysetting_reads_the_other_forms() {
        let other: PrivacySetting = serde_json::from_str(
            r#"{"errcode":0,"code_exist":true,"update_time":"1717171717","privacy_list":["Album"],
                "setting_list":[{"privacy_key":"Album","privacy_text":"上传头像"}],
                "privacy_desc":[{"privacy_key":"Album","privacy_desc":"相册"}]}"#,
        )
        .unwrap();
        assert!(other.code_exist && other.update_time == 1_717_171_717);
        assert_eq!(other.privacy_desc[0].privacy_desc, "相册");
        assert!(other.unconfigured().is_empty());
        let sparse: PrivacySetting =
            serde_json::from_str(r#"{"errcode":0,"code_exist":0,"privacy_desc":null}"#).unwrap();
        assert!(!sparse.code_exist && sparse.privacy_desc.is_empty() && sparse.privacy_list.is_empty());
    }

    #[tokio::test]
    async fn setprivacysetting_sends_the_documented_body() {
        let owner = OwnerSetting {
            contact_email: "privacy@example.cn".into(),
            notice_method: "小程序首页公告".into(),
            store_expire_timestamp: "180天".into(),
            ..Default::default()
        };
        let items = vec![
            PrivacyItem { privacy_key: "PhoneNumber".into(), privacy_text: "完成会员注册并联系订单".into() },
            PrivacyItem { privacy_key: "Location".into(), privacy_text: "推荐距离最近的门店".into() },
        ];
        let (answer, sent) =
            exchange(&SetPrivacySetting::development(owner.clone(), items), r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is(
            "POST",
            "/cgi-bin/component/setprivacysetting?access_token=TOKEN",
            r#"{"privacy_ver":2,"owner_setting":{"contact_email":"privacy@example.cn","notice_method":"小程序首页公告","store_expire_timestamp":"180天"},"setting_list":[{"privacy_key":"PhoneNumber","privacy_text":"完成会员注册并联系订单"},{"privacy_key":"Location","privacy_text":"推荐距离最近的门店"}]}"#,
        );
        // Version 1 changes the owner only: setting_list absent.
        let live = SetPrivacySetting {
            privacy_ver: PRIVACY_VER_LIVE,
            setting_list: None,
            ..SetPrivacySetting::development(owner, vec![])
        };
        let body = serde_json::to_value(&live).unwrap();
        assert!(body.get("setting_list").is_none() && body["privacy_ver"] == 1, "{body}");
    }

    #[tokio::test]
    async fn the_scan_answers_61039_until_it_ends() {
        let (answer, sent) = exchange(
            &GetCodePrivacyInfo {},
            r#"{"errcode":61039,"errmsg":"隐私接口检查任务未完成，请稍等一分钟再重试 rid: 1"}"#,
        )
        .await;
        sent.is("GET", "/wxa/security/get_code_privacy_info?access_token=TOKEN", "");
        let err = answer.unwrap_err();
        assert_eq!(err.class(), crate::errcode::ErrClass::Defer);
        assert_eq!(crate::errcode::defer_until(61039), Some(crate::errcode::DeferUntil::AMinute));
        let (answer, _) = exchange(
            &GetCodePrivacyInfo {},
            r#"{"errcode":0,"errmsg":"ok","without_auth_list":["wx.getLocation"],"without_conf_list":[]}"#,
        )
        .await;
        let info = answer.unwrap();
        assert_eq!(info.without_auth_list, ["wx.getLocation"]);
        assert!(info.without_conf_list.is_empty());
    }

    /// Numbers as documented, and as strings (WxJava's types).
    #[tokio::test]
    async fn privacy_interfaces_read_numbers_or_strings() {
        let (answer, sent) = exchange(
            &GetPrivacyInterface {},
            r#"{"errcode":0,"errmsg":"ok","interface_list":[
                {"api_name":"wx.chooseLocation","api_ch_name":"选择位置","api_desc":"d","api_link":"l","group_name":"地理位置",
                 "apply_time":1717000000,"status":5,"audit_id":4123,"fail_reason":""},
                {"api_name":"wx.getLocation","status":"4","audit_id":"4124","apply_time":"1717000001","fail_reason":"材料不足"},
                {"api_name":"wx.onLocationChange","status":1}]}"#,
        )
        .await;
        sent.is("GET", "/wxa/security/get_privacy_interface?access_token=TOKEN", "");
        let list = answer.unwrap().interface_list;
        assert_eq!((list[0].status, list[0].audit_id, list[0].apply_time), (INTERFACE_OPEN, 4123, 1_717_000_000));
        assert_eq!((list[1].status, list[1].audit_id, list[1].fail_reason.as_str()), (4, 4124, "材料不足"));
        assert_eq!((list[2].status, list[2].audit_id), (1, 0));
    }

    #[tokio::test]
    async fn apply_privacy_interface_sends_only_the_support_given() {
        let req = ApplyPrivacyInterface {
            api_name: "wx.chooseLocation".into(),
            content: "用户下单时选择收货位置以计算配送范围".into(),
            pic_list: vec!["https://cdn.example.cn/audit/choose-location.png".into()],
            ..Default::default()
        };
        let (answer, sent) = exchange(&req, r#"{"errcode":0,"errmsg":"ok","audit_id":"4125"}"#).await;
        sent.is(
            "POST",
            "/wxa/security/apply_privacy_interface?access_token=TOKEN",
            r#"{"api_name":"wx.chooseLocation","content":"用户下单时选择收货位置以计算配送范围","pic_list":["https://cdn.example.cn/audit/choose-location.png"]}"#,
        );
        assert_eq!(answer.unwrap().audit_id, 4125);
    }

    #[tokio::test]
    async fn the_custom_guide_is_a_multipart_text_file() {
        use crate::golive::loopback::exchange_with;
        use crate::secret::Secret;
        let reply = br#"{"errcode":0,"errmsg":"ok","ext_file_media_id":"ext-1"}"#;
        let (answer, sent) = exchange_with(reply, "application/json", |client| async move {
            client.upload_privacy_ext_file(&Secret::new("TOKEN"), "隐私保护指引全文", "guide.txt").await
        })
        .await;
        assert_eq!(
            (sent.method.as_str(), sent.target.as_str()),
            ("POST", "/cgi-bin/component/uploadprivacyextfile?access_token=TOKEN")
        );
        assert!(
            sent.body.contains(r#"name="file"; filename="guide.txt""#) && sent.body.contains("隐私保护指引全文"),
            "{}",
            sent.body
        );
        assert_eq!(answer.unwrap().ext_file_media_id, "ext-1");
    }
}
