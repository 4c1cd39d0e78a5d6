//! The privacy guide file (DESIGN §9 `privacy`): a TOML file holding what `setprivacysetting`
//! sends — `owner_setting` and `setting_list` (golive.md §1.2) — read and checked when the
//! sheet is validated, so a guide WeChat would refuse (86069, 86070, 86072) is a validation
//! error naming the file, not a failed step. Which keys the guide must cover is only known
//! after the code scan; the `privacy` step checks that.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::manifest::Reason;
use wechat_open::golive::privacy as privacy_api;

/// A privacy guide as the file writes it, field for field what `setprivacysetting` takes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyGuide {
    pub owner_setting: OwnerSetting,
    #[serde(default)]
    pub setting_list: Vec<PrivacySetting>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sdk_privacy_info_list: Vec<SdkPrivacyInfo>,
}

/// Who collects the data and how users hear of changes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_qq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_weixin: Option<String>,
    #[serde(default)]
    pub notice_method: String,
    /// Digits and `天`, e.g. `180天`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_expire_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_file_media_id: Option<String>,
    /// Overseas entities only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_region: Option<u32>,
}

/// One privacy key and what the data is collected for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySetting {
    pub privacy_key: String,
    pub privacy_text: String,
}

/// A third-party SDK's declaration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SdkPrivacyInfo {
    pub sdk_name: String,
    pub sdk_biz_name: String,
    #[serde(default)]
    pub sdk_list: Vec<PrivacySetting>,
}

impl PrivacyGuide {
    /// Reads and checks the guide at `path` (`written` is how the sheet or job names it).
    pub fn load(path: &Path, written: &str) -> Result<PrivacyGuide, Reason> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            (format!("cannot read the privacy guide {written}: {e}"), format!("无法读取隐私设置文件 {written}：{e}"))
        })?;
        let guide: PrivacyGuide = toml::from_str(&text).map_err(|e| {
            let e = e.to_string();
            let e = e.trim_end();
            (format!("the privacy guide {written} is not valid: {e}"), format!("隐私设置文件 {written} 有误：{e}"))
        })?;
        guide.check().map_err(|(en, zh)| {
            (format!("the privacy guide {written}: {en}"), format!("隐私设置文件 {written}：{zh}"))
        })?;
        Ok(guide)
    }

    /// WeChat's rules for the guide that can be checked without the code scan.
    fn check(&self) -> Result<(), Reason> {
        let o = &self.owner_setting;
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        if ![&o.contact_phone, &o.contact_email, &o.contact_qq, &o.contact_weixin].into_iter().any(given) {
            return Err((
                "owner_setting needs a contact: contact_phone, contact_email, contact_qq or contact_weixin".into(),
                "owner_setting 至少要填写一种联系方式：contact_phone、contact_email、contact_qq 或 contact_weixin"
                    .into(),
            ));
        }
        if o.notice_method.trim().is_empty() {
            return Err((
                "owner_setting.notice_method is required (how users are told of changes)".into(),
                "owner_setting.notice_method 必填（如何告知用户变更）".into(),
            ));
        }
        if let Some(expire) = &o.store_expire_timestamp {
            let days = expire.strip_suffix('天').unwrap_or("");
            if days.is_empty() || !days.chars().all(|c| c.is_ascii_digit()) {
                return Err((
                    format!("owner_setting.store_expire_timestamp \"{expire}\" must be digits and 天, e.g. \"180天\""),
                    format!("owner_setting.store_expire_timestamp “{expire}”应为数字加“天”，例如“180天”"),
                ));
            }
        }
        let lists = std::iter::once(("setting_list", &self.setting_list))
            .chain(self.sdk_privacy_info_list.iter().map(|s| ("sdk_list", &s.sdk_list)));
        for (name, list) in lists {
            for (i, s) in list.iter().enumerate() {
                if s.privacy_key.trim().is_empty() {
                    return Err((
                        format!("{name} item {} has no privacy_key", i + 1),
                        format!("{name} 第 {} 项没有 privacy_key", i + 1),
                    ));
                }
                let key = &s.privacy_key;
                if s.privacy_text.trim().is_empty() {
                    return Err((format!("{key} has no privacy_text"), format!("{key} 没有填写 privacy_text")));
                }
                // WeChat shows "为了" + the text: a text that starts with it reads twice.
                if ["为了", "用于"].iter().any(|p| s.privacy_text.trim_start().starts_with(p)) {
                    return Err((
                        format!("{key}'s privacy_text starts with 为了/用于; WeChat shows \"为了\" before it, write the purpose alone"),
                        format!("{key} 的 privacy_text 以“为了/用于”开头；微信会在前面加“为了”，只写用途即可"),
                    ));
                }
                if list[..i].iter().any(|p| &p.privacy_key == key) {
                    return Err((format!("{key} is given twice in {name}"), format!("{key} 在 {name} 中重复")));
                }
            }
        }
        Ok(())
    }

    /// The keys the guide covers.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.setting_list.iter().map(|s| s.privacy_key.as_str())
    }

    /// The guide as `setprivacysetting` sends it (the development version): the one place the
    /// file's fields become the client's.
    pub fn request(&self) -> privacy_api::SetPrivacySetting {
        let o = &self.owner_setting;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let owner = privacy_api::OwnerSetting {
            contact_phone: text(&o.contact_phone),
            contact_email: text(&o.contact_email),
            contact_qq: text(&o.contact_qq),
            contact_weixin: text(&o.contact_weixin),
            notice_method: o.notice_method.clone(),
            store_expire_timestamp: text(&o.store_expire_timestamp),
            ext_file_media_id: text(&o.ext_file_media_id),
            store_region: o.store_region.map(i64::from),
        };
        let items = |list: &[PrivacySetting]| -> Vec<privacy_api::PrivacyItem> {
            list.iter()
                .map(|s| privacy_api::PrivacyItem {
                    privacy_key: s.privacy_key.clone(),
                    privacy_text: s.privacy_text.clone(),
                })
                .collect()
        };
        privacy_api::SetPrivacySetting {
            sdk_privacy_info_list: self
                .sdk_privacy_info_list
                .iter()
                .map(|s| privacy_api::SdkPrivacyInfo {
                    sdk_name: s.sdk_name.clone(),
                    sdk_biz_name: s.sdk_biz_name.clone(),
                    sdk_list: items(&s.sdk_list),
                })
                .collect(),
            ..privacy_api::SetPrivacySetting::development(owner, items(&self.setting_list))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<PrivacyGuide, Reason> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("privacy.toml");
        std::fs::write(&path, text).unwrap();
        PrivacyGuide::load(&path, "privacy.toml")
    }

    const GOOD: &str = "[owner_setting]\ncontact_email = \"privacy@example.cn\"\nnotice_method = \"小程序首页公告\"\nstore_expire_timestamp = \"180天\"\n\n[[setting_list]]\nprivacy_key = \"PhoneNumber\"\nprivacy_text = \"完成会员注册\"\n";

    #[test]
    fn a_good_guide_loads() {
        let guide = load(GOOD).unwrap();
        assert_eq!(guide.keys().collect::<Vec<_>>(), ["PhoneNumber"]);
        assert_eq!(guide.owner_setting.store_expire_timestamp.as_deref(), Some("180天"));
    }

    #[test]
    fn the_guide_becomes_the_request_setprivacysetting_sends() {
        let guide = load(&format!(
            "{GOOD}\n[[sdk_privacy_info_list]]\nsdk_name = \"地图\"\nsdk_biz_name = \"示例\"\n\
             [[sdk_privacy_info_list.sdk_list]]\nprivacy_key = \"Location\"\nprivacy_text = \"显示附近门店\"\n"
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_value(guide.request()).unwrap(),
            serde_json::json!({
                "privacy_ver": 2,
                "owner_setting": {"contact_email": "privacy@example.cn", "notice_method": "小程序首页公告",
                                  "store_expire_timestamp": "180天"},
                "setting_list": [{"privacy_key": "PhoneNumber", "privacy_text": "完成会员注册"}],
                "sdk_privacy_info_list": [{"sdk_name": "地图", "sdk_biz_name": "示例",
                    "sdk_list": [{"privacy_key": "Location", "privacy_text": "显示附近门店"}]}]
            })
        );
    }

    #[test]
    fn what_wechat_would_refuse_is_named() {
        let err = |text: &str| load(text).unwrap_err().0;
        assert_eq!(
            err("[owner_setting]\nnotice_method = \"x\"\n"),
            "the privacy guide privacy.toml: owner_setting needs a contact: contact_phone, contact_email, contact_qq or contact_weixin"
        );
        assert_eq!(
            err("[owner_setting]\ncontact_qq = \"1\"\n"),
            "the privacy guide privacy.toml: owner_setting.notice_method is required (how users are told of changes)"
        );
        assert_eq!(
            err(&GOOD.replace("180天", "180 days")),
            "the privacy guide privacy.toml: owner_setting.store_expire_timestamp \"180 days\" must be digits and 天, e.g. \"180天\""
        );
        assert_eq!(
            err(&GOOD.replace("完成会员注册", "为了完成会员注册")),
            "the privacy guide privacy.toml: PhoneNumber's privacy_text starts with 为了/用于; WeChat shows \"为了\" before it, write the purpose alone"
        );
        assert_eq!(
            err(&format!("{GOOD}[[setting_list]]\nprivacy_key = \"PhoneNumber\"\nprivacy_text = \"又一次\"\n")),
            "the privacy guide privacy.toml: PhoneNumber is given twice in setting_list"
        );
        let unknown = err(&GOOD.replace("notice_method", "notice"));
        assert!(
            unknown.starts_with("the privacy guide privacy.toml is not valid: ") && unknown.contains("notice"),
            "{unknown}"
        );
    }
}
