//! The audit (`golive.md` §3.5–§3.10): the categories an audit item may name
//! ([`GetAuditCategory`]), [`SubmitAudit`], its state ([`GetAuditStatus`] by id,
//! [`GetLatestAuditStatus`] for the newest — how a submission whose answer was lost is found
//! again, and how 85009 is told apart: this row's version or someone else's), withdrawal
//! ([`UndoCodeAudit`]), speed-up ([`SpeedupAudit`]) and the platform's monthly quota
//! ([`QueryQuota`]: one pool for all its mini-programs, read with any authorizer's token).
//!
//! `auditid` is a number in the new document, "String" in the 2.0 one: numbers and numeric
//! strings are read alike, and a successful `submit_audit` without one is an error, never an
//! audit id 0 (PowerWeChat's answer type lacks the field). The screenshot field is `screenshot`
//! in the tables and `ScreenShot` in the latest-status example (SKIT and PowerWeChat read
//! `ScreenShot` there, WxJava `screenshot`; yangfanlalala/wx even `screen_shot`): all are read,
//! on both answers.

use serde::{Deserialize, Serialize};

use crate::api::{endpoint, Empty};
use crate::lenient::{i64_any, string_any, vec_any};

/// `GET /wxa/get_category`: the approved categories an audit item may name (empty while
/// categories are still in review). Not `/cgi-bin/wxopen/getcategory`
/// ([`crate::api::GetCategory`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetAuditCategory {}

/// One category for an audit item; names and ids are copied verbatim into [`AuditItem`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuditCategory {
    /// First level.
    #[serde(default, deserialize_with = "string_any")]
    pub first_class: String,
    /// Second level.
    #[serde(default, deserialize_with = "string_any")]
    pub second_class: String,
    /// Third level (optional).
    #[serde(default, deserialize_with = "string_any")]
    pub third_class: String,
    /// First-level id.
    #[serde(default, deserialize_with = "i64_any")]
    pub first_id: i64,
    /// Second-level id.
    #[serde(default, deserialize_with = "i64_any")]
    pub second_id: i64,
    /// Third-level id (0 when none).
    #[serde(default, deserialize_with = "i64_any")]
    pub third_id: i64,
}

/// The answer of `get_category`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditCategories {
    /// The categories.
    #[serde(default, deserialize_with = "vec_any")]
    pub category_list: Vec<AuditCategory>,
}
endpoint!(GetAuditCategory, "/wxa/get_category", Get, Authorizer, false, AuditCategories);

/// One page for the reviewers (`item_list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditItem {
    /// The page (from [`GetPage`](super::code::GetPage)).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Space-separated tags (≤ 10 of ≤ 20 characters).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tag: String,
    /// The page's title (≤ 32 characters).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// First level, verbatim from [`GetAuditCategory`].
    pub first_class: String,
    /// Second level.
    pub second_class: String,
    /// Third level, when the category has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub third_class: String,
    /// First-level id.
    pub first_id: i64,
    /// Second-level id.
    pub second_id: i64,
    /// Third-level id, when the category has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_id: Option<i64>,
}

impl AuditItem {
    /// An item for `page` in `category`, with its tags and title.
    pub fn new(page: &str, tag: &str, title: &str, category: &AuditCategory) -> AuditItem {
        AuditItem {
            address: page.to_string(),
            tag: tag.to_string(),
            title: title.to_string(),
            first_class: category.first_class.clone(),
            second_class: category.second_class.clone(),
            third_class: category.third_class.clone(),
            first_id: category.first_id,
            second_id: category.second_id,
            third_id: (category.third_id != 0).then_some(category.third_id),
        }
    }
}

/// Preview material for the reviewers: media ids from `/wxa/uploadmedia`
/// ([`Client::upload_audit_media`](crate::Client::upload_audit_media)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PreviewInfo {
    /// Videos.
    pub video_id_list: Vec<String>,
    /// Pictures.
    pub pic_id_list: Vec<String>,
}

/// The user-generated content declaration some social categories need (85094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UgcDeclare {
    /// 0 none, 1 profile, 2 image, 3 video, 4 text, 5 audio or other.
    pub scene: Vec<i64>,
    /// Other scenes, in words (≤ 256).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub other_scene_desc: String,
    /// 1 WeChat's content-security API, 2 another product, 3 manual review, 4 none.
    pub method: Vec<i64>,
    /// 1 when there is an audit team.
    pub has_audit_team: i64,
    /// The moderation, in words (≤ 256).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub audit_desc: String,
}

/// `POST /wxa/submit_audit`: submits the committed code for review; one at a time per
/// mini-program (85009), within the platform's monthly quota (85085).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubmitAudit {
    /// 1 to 5 pages; always sent.
    pub item_list: Vec<AuditItem>,
    /// For the reviewers (test accounts…).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version_desc: String,
    /// An answer to the last rejection (≤ 200 characters).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_info: String,
    /// Up to 5 media ids joined by ASCII `|` (see [`SubmitAudit::with_feedback`]).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_stuff: String,
    /// Preview material.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_info: Option<PreviewInfo>,
    /// The content declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ugc_declare: Option<UgcDeclare>,
    /// `true`: a promise not to use the privacy APIs found but not configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_api_not_use: Option<bool>,
    /// The order-centre page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub order_path: String,
}

impl SubmitAudit {
    /// The answer to a rejection: `info` and the media ids, joined by the ASCII `|` (WxJava's
    /// javadoc shows the look-alike `丨`, U+4E28, which is not the separator).
    pub fn with_feedback(mut self, info: &str, media_ids: &[String]) -> SubmitAudit {
        self.feedback_info = info.to_string();
        self.feedback_stuff = media_ids.join("|");
        self
    }
}

/// The answer of `submit_audit`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSubmitted {
    /// The audit's id (number or numeric string; required).
    #[serde(deserialize_with = "i64_any")]
    pub auditid: i64,
}
endpoint!(SubmitAudit, "/wxa/submit_audit", Post, Authorizer, true, AuditSubmitted);

/// Where an audit stands (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditState {
    /// 0 审核成功.
    Approved,
    /// 1 审核被拒绝.
    Rejected,
    /// 2 审核中.
    InReview,
    /// 3 已撤回.
    Withdrawn,
    /// 4 审核延后 (not final).
    Delayed,
    /// A status the documents do not list.
    Other(i64),
}

impl AuditState {
    /// The state of a `status`.
    pub fn of(status: i64) -> AuditState {
        match status {
            0 => AuditState::Approved,
            1 => AuditState::Rejected,
            2 => AuditState::InReview,
            3 => AuditState::Withdrawn,
            4 => AuditState::Delayed,
            other => AuditState::Other(other),
        }
    }

    /// True while the audit may still change (in review, delayed).
    pub fn is_pending(self) -> bool {
        matches!(self, AuditState::InReview | AuditState::Delayed)
    }
}

/// `POST /wxa/get_auditstatus`: one audit's state.
#[derive(Debug, Clone, Serialize)]
pub struct GetAuditStatus {
    /// The audit.
    pub auditid: i64,
}

/// Where an audit stands: the answer of `get_auditstatus`, and the part of
/// `get_latest_auditstatus`'s that both share ([`LatestAuditStatus::audit`]), read by one
/// rule for both.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditStatus {
    /// 0 approved, 1 rejected, 2 in review, 3 withdrawn, 4 delayed ([`AuditStatus::state`]).
    #[serde(deserialize_with = "i64_any")]
    pub status: i64,
    /// Why it was rejected (1) or delayed (4).
    #[serde(default, deserialize_with = "string_any")]
    pub reason: String,
    /// The rejection's screenshots, as the tables spell it (read with
    /// [`AuditStatus::screenshots`]).
    #[serde(default, deserialize_with = "string_any")]
    pub screenshot: String,
    /// The same, as the latest-status example (and the live platform) spells it, or
    /// `screen_shot`, as some SDKs read it.
    #[serde(default, rename = "ScreenShot", alias = "screen_shot", deserialize_with = "string_any")]
    pub screen_shot: String,
}

impl AuditStatus {
    /// The state.
    pub fn state(&self) -> AuditState {
        AuditState::of(self.status)
    }

    /// The rejection's `|`-separated screenshot media ids, from `screenshot` or, when it is
    /// empty, `ScreenShot`.
    pub fn screenshots(&self) -> Vec<String> {
        let text = if self.screenshot.trim().is_empty() { &self.screen_shot } else { &self.screenshot };
        text.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }
}
endpoint!(GetAuditStatus, "/wxa/get_auditstatus", Post, Authorizer, false, AuditStatus);

/// `GET /wxa/get_latest_auditstatus`: the newest audit, with its version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetLatestAuditStatus {}

/// The answer of `get_latest_auditstatus`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LatestAuditStatus {
    /// The audit (number or numeric string).
    #[serde(deserialize_with = "i64_any")]
    pub auditid: i64,
    /// Where it stands: `status`, `reason` and the screenshots, as `get_auditstatus` has them.
    #[serde(flatten)]
    pub audit: AuditStatus,
    /// The version label of the code under audit.
    #[serde(default, deserialize_with = "string_any")]
    pub user_version: String,
    /// Its description.
    #[serde(default, deserialize_with = "string_any")]
    pub user_desc: String,
    /// When it was submitted (Unix seconds).
    #[serde(default, deserialize_with = "i64_any")]
    pub submit_audit_time: i64,
}
endpoint!(GetLatestAuditStatus, "/wxa/get_latest_auditstatus", Get, Authorizer, false, LatestAuditStatus);

/// `GET /wxa/undocodeaudit`: withdraws the running audit (≤ 5 a day and 10 a month per the
/// documents, 1 a day per WxJava: 87013). Whether the quota is refunded is not documented.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UndoCodeAudit {}
endpoint!(UndoCodeAudit, "/wxa/undocodeaudit", Get, Authorizer, true, Empty);

/// `POST /wxa/speedupaudit`: expedites a pending audit, from the platform's monthly
/// `speedup_rest`.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedupAudit {
    /// The audit.
    pub auditid: i64,
}
endpoint!(SpeedupAudit, "/wxa/speedupaudit", Post, Authorizer, true, Empty);

/// `GET /wxa/queryquota`: the platform's audit quota this month — with an authorizer's token,
/// any authorized mini-program's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryQuota {}

/// The answer of `queryquota`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct AuditQuota {
    /// Submissions left this month.
    #[serde(default, deserialize_with = "i64_any")]
    pub rest: i64,
    /// Submissions allotted this month.
    #[serde(default, deserialize_with = "i64_any")]
    pub limit: i64,
    /// Speed-ups left this month.
    #[serde(default, deserialize_with = "i64_any")]
    pub speedup_rest: i64,
    /// Speed-ups allotted this month.
    #[serde(default, deserialize_with = "i64_any")]
    pub speedup_limit: i64,
}
endpoint!(QueryQuota, "/wxa/queryquota", Get, Authorizer, false, AuditQuota);

/// Path of the audit material upload (multipart field `media`: image ≤ 2 MB, video ≤ 10 MB):
/// [`Client::upload_audit_media`](crate::Client::upload_audit_media).
pub const UPLOAD_AUDIT_MEDIA_PATH: &str = "/wxa/uploadmedia";

/// The answer of `/wxa/uploadmedia` (valid 3 days).
#[derive(Debug, Clone, Deserialize)]
pub struct AuditMediaUploaded {
    /// `image` or `video`.
    #[serde(default, rename = "type", deserialize_with = "string_any")]
    pub kind: String,
    /// The media id, for `preview_info` and `feedback_stuff`.
    #[serde(deserialize_with = "string_any")]
    pub mediaid: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    fn home() -> AuditCategory {
        AuditCategory {
            first_class: "生活服务".into(),
            second_class: "家政".into(),
            first_id: 150,
            second_id: 627,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn get_category_lists_the_approved_categories() {
        let (answer, sent) = exchange(
            &GetAuditCategory {},
            r#"{ "errcode": 0, "errmsg": "ok",
              "category_list": [{ "first_class": "生活服务", "second_class": "家政", "first_id": 150, "second_id": 627 },
                                { "first_class": "教育", "second_class": "培训", "third_class": "职业", "first_id": "8", "second_id": "39", "third_id": "1001" }] }"#,
        )
        .await;
        sent.is("GET", "/wxa/get_category?access_token=TOKEN", "");
        let list = answer.unwrap().category_list;
        assert_eq!(list[0], home());
        assert_eq!((list[1].third_class.as_str(), list[1].third_id), ("职业", 1001));
        let in_review: AuditCategories = serde_json::from_str(r#"{"errcode":0,"category_list":[]}"#).unwrap();
        assert!(in_review.category_list.is_empty());
    }

    /// The documented example's body, field for field; `auditid` a number or a numeric
    /// string; a success without one is an error, never audit 0.
    #[tokio::test]
    async fn submit_audit_sends_the_items_and_reads_the_audit_id() {
        let req = SubmitAudit {
            item_list: vec![AuditItem::new("pages/home/index", "门店 预约", "首页", &home())],
            version_desc: "门店预约。测试账号 13800000000，验证码 246810".into(),
            privacy_api_not_use: Some(false),
            ..Default::default()
        };
        let (answer, sent) = exchange(&req, r#"{ "errcode": 0, "errmsg": "ok", "auditid": 552341087 }"#).await;
        assert_eq!((sent.method.as_str(), sent.target.as_str()), ("POST", "/wxa/submit_audit?access_token=TOKEN"));
        assert_eq!(
            sent.json(),
            serde_json::json!({ "item_list": [{ "address": "pages/home/index", "tag": "门店 预约", "title": "首页",
                  "first_class": "生活服务", "second_class": "家政", "first_id": 150, "second_id": 627 }],
              "version_desc": "门店预约。测试账号 13800000000，验证码 246810", "privacy_api_not_use": false })
        );
        assert_eq!(answer.unwrap().auditid, 552_341_087);
        let (answer, _) = exchange(&req, r#"{"errcode":0,"errmsg":"ok","auditid":"552341088"}"#).await;
        assert_eq!(answer.unwrap().auditid, 552_341_088);
        let (answer, _) = exchange(&req, r#"{"errcode":0,"errmsg":"ok"}"#).await;
        assert!(matches!(answer.unwrap_err(), crate::ApiError::Decode { .. }));
        let (answer, _) = exchange(&req, r#"{"errcode":85009,"errmsg":"already has an auditing version"}"#).await;
        assert_eq!(answer.unwrap_err().class(), crate::errcode::ErrClass::Review);
        let (answer, _) = exchange(&req, r#"{"errcode":85085,"errmsg":"submit audit reach limit"}"#).await;
        assert_eq!(
            crate::errcode::defer_until(answer.unwrap_err().errcode().unwrap()),
            Some(crate::errcode::DeferUntil::AuditQuota)
        );
    }

    #[test]
    fn feedback_joins_with_the_ascii_bar() {
        let req = SubmitAudit::default().with_feedback("已修改类目", &["mid1".into(), "mid2".into()]);
        let body = serde_json::to_value(&req).unwrap();
        assert_eq!(body, serde_json::json!({"item_list":[],"feedback_info":"已修改类目","feedback_stuff":"mid1|mid2"}));
        assert!(!body.to_string().contains('丨'));
    }

    #[tokio::test]
    async fn get_auditstatus_reads_either_screenshot_spelling() {
        let (answer, sent) = exchange(
            &GetAuditStatus { auditid: 552_341_087 },
            r#"{"errcode":0,"errmsg":"ok","status":1,"reason":"类目与页面内容不符","screenshot":"mid1|mid2"}"#,
        )
        .await;
        sent.is("POST", "/wxa/get_auditstatus?access_token=TOKEN", r#"{"auditid":552341087}"#);
        let status = answer.unwrap();
        assert_eq!(status.state(), AuditState::Rejected);
        assert_eq!(status.screenshots(), ["mid1", "mid2"]);
        let live: AuditStatus = serde_json::from_str(r#"{"errcode":0,"status":"1","ScreenShot":"mid3"}"#).unwrap();
        assert_eq!((live.state(), live.screenshots()), (AuditState::Rejected, vec!["mid3".to_string()]));
        let snake: AuditStatus = serde_json::from_str(r#"{"errcode":0,"status":1,"screen_shot":"mid4|"}"#).unwrap();
        assert_eq!(snake.screenshots(), ["mid4"]);
        // Both spellings in one answer (a duplicate for serde's alias) read the documented one.
        let both: AuditStatus =
            serde_json::from_str(r#"{"errcode":0,"status":1,"screenshot":"a","ScreenShot":"b"}"#).unwrap();
        assert_eq!(both.screenshots(), ["a"]);
        let delayed: AuditStatus =
            serde_json::from_str(r#"{"errcode":0,"status":4,"reason":"需要网信办审核"}"#).unwrap();
        assert!(delayed.state().is_pending() && delayed.screenshots().is_empty());
        // No status is not "approved".
        assert!(serde_json::from_str::<AuditStatus>(r#"{"errcode":0}"#).is_err());
    }

    #[tokio::test]
    async fn get_latest_auditstatus_reads_the_example_and_the_documented_form() {
        let (answer, sent) = exchange(
            &GetLatestAuditStatus {},
            r#"{ "errcode": 0, "errmsg": "ok", "auditid": 552341087, "status": 1,
              "reason": "类目与页面内容不符", "ScreenShot": "mid1|mid2",
              "user_version": "2.4.0", "user_desc": "wxprov batch 2024-06", "submit_audit_time": 1717200000 }"#,
        )
        .await;
        sent.is("GET", "/wxa/get_latest_auditstatus?access_token=TOKEN", "");
        let latest = answer.unwrap();
        assert_eq!(
            (latest.auditid, latest.audit.state(), latest.user_version.as_str()),
            (552_341_087, AuditState::Rejected, "2.4.0")
        );
        assert_eq!(latest.audit.reason, "类目与页面内容不符");
        assert_eq!(latest.audit.screenshots(), ["mid1", "mid2"]);
        assert_eq!(latest.submit_audit_time, 1_717_200_000);
        let documented: LatestAuditStatus = serde_json::from_str(
            r#"{"errcode":0,"auditid":"552341089","status":2,"screenshot":"","user_version":"2.5.0","submit_audit_time":"1717200001"}"#,
        )
        .unwrap();
        assert_eq!((documented.auditid, documented.audit.state()), (552_341_089, AuditState::InReview));
        assert!(documented.audit.screenshots().is_empty());
        // Every spelling of the screenshots reaches the shared part, as on `get_auditstatus`.
        for (answer, shots) in [
            (r#"{"errcode":0,"auditid":1,"status":1,"screenshot":"a|b"}"#, vec!["a", "b"]),
            (r#"{"errcode":0,"auditid":1,"status":1,"screen_shot":"c|"}"#, vec!["c"]),
            (r#"{"errcode":0,"auditid":1,"status":"1","screenshot":"d","ScreenShot":"e"}"#, vec!["d"]),
        ] {
            let latest: LatestAuditStatus = serde_json::from_str(answer).unwrap();
            assert_eq!(latest.audit.state(), AuditState::Rejected, "{answer}");
            assert_eq!(latest.audit.screenshots(), shots, "{answer}");
        }
        // No status is not "approved" here either.
        assert!(serde_json::from_str::<LatestAuditStatus>(r#"{"errcode":0,"auditid":1}"#).is_err());
        assert_eq!(AuditState::of(0), AuditState::Approved);
        assert_eq!(AuditState::of(3), AuditState::Withdrawn);
        assert_eq!(AuditState::of(9), AuditState::Other(9));
    }

    #[tokio::test]
    async fn undo_speedup_and_quota() {
        let (answer, sent) = exchange(&UndoCodeAudit {}, r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is("GET", "/wxa/undocodeaudit?access_token=TOKEN", "");
        let (answer, _) = exchange(&UndoCodeAudit {}, r#"{"errcode":87013,"errmsg":"undo limit"}"#).await;
        assert_eq!(
            crate::errcode::defer_until(answer.unwrap_err().errcode().unwrap()),
            Some(crate::errcode::DeferUntil::NextDay)
        );
        let (answer, sent) = exchange(&SpeedupAudit { auditid: 552_341_087 }, r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        sent.is("POST", "/wxa/speedupaudit?access_token=TOKEN", r#"{"auditid":552341087}"#);
        let (answer, sent) = exchange(
            &QueryQuota {},
            r#"{ "errcode": 0, "errmsg": "ok", "rest": 37, "limit": 60, "speedup_rest": 2, "speedup_limit": 5 }"#,
        )
        .await;
        sent.is("GET", "/wxa/queryquota?access_token=TOKEN", "");
        assert_eq!(answer.unwrap(), AuditQuota { rest: 37, limit: 60, speedup_rest: 2, speedup_limit: 5 });
        let empty: AuditQuota = serde_json::from_str(r#"{"errcode":0,"rest":"0","limit":0}"#).unwrap();
        assert_eq!((empty.rest, empty.limit), (0, 0));
    }

    #[tokio::test]
    async fn audit_media_is_a_multipart_upload() {
        use crate::golive::loopback::exchange_with;
        use crate::secret::Secret;
        let reply = br#"{"errcode":0,"errmsg":"ok","type":"image","mediaid":"audit-mid-1"}"#;
        let (answer, sent) = exchange_with(reply, "application/json", |client| async move {
            client.upload_audit_media(&Secret::new("TOKEN"), b"\x89PNG....", "shot.png", "image/png").await
        })
        .await;
        assert_eq!((sent.method.as_str(), sent.target.as_str()), ("POST", "/wxa/uploadmedia?access_token=TOKEN"));
        assert!(sent.body.contains(r#"name="media"; filename="shot.png""#), "{}", sent.body);
        let uploaded = answer.unwrap();
        assert_eq!((uploaded.kind.as_str(), uploaded.mediaid.as_str()), ("image", "audit-mid-1"));
    }
}
