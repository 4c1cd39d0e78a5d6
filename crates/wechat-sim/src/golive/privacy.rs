//! The privacy scan a commit starts, the privacy guide, and the restricted (location) APIs
//! (golive.md §1).
//!
//! Rules:
//! - The scan: after a commit, `getprivacysetting`, `setprivacysetting`,
//!   `get_code_privacy_info` and `submit_audit` answer 61039 until the fixture's
//!   `privacy_scan` has passed (`secs` since the commit and `calls` answers of 61039);
//!   `POST /__sim/privacy_scan {appid}` ends it at once. Each commit starts it again.
//! - `getprivacysetting`: `privacy_ver` 1 or 2 (default 2; anything else 86071);
//!   `code_exist` 1 once code is committed; `privacy_list` the keys the scan found (the
//!   template's `privacy_keys`); `setting_list` every found or configured key, with an empty
//!   `privacy_text` where the guide has none; `privacy_desc` as an object holding
//!   `privacy_desc_list` (the live shape).
//! - `setprivacysetting`: needs committed code (86001 [assumed]); `owner_setting` required
//!   with one of the four contacts (86069) and `notice_method` (86070);
//!   `store_expire_timestamp` digits + "天" (86072); `ext_file_media_id` one of this
//!   account's media (86073); `setting_list` items need `privacy_key` and `privacy_text`
//!   (47001). Version 2 replaces the development guide; version 1 needs a live guide (86074),
//!   changes only its `owner_setting`, and may not change `ext_file_media_id` (86075). A guide
//!   missing a key the scan found is accepted, as the platform does: the audit then rejects the
//!   version, naming the key (see `audit`).
//! - `get_code_privacy_info`: `without_conf_list` the template's location APIs that
//!   `requiredPrivateInfos` does not declare, `without_auth_list` those not opened by
//!   `apply_privacy_interface` (as `wx.NAME`).
//! - `apply_privacy_interface`: an application is in review (3) until the next
//!   `get_privacy_interface`, which shows it open (5); a second one meanwhile 61031; an API
//!   the code does not use 61035; no reason or no material 61034.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{app, code, secs};
use crate::api::{as_i64, changed, err, ok, ApiError, Ctx, Reply};
use crate::state::State;

/// The scan a commit started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Scan {
    pub started_ms: u64,
    /// Calls answered 61039 so far.
    pub answered: u32,
    /// Ended through the control API.
    #[serde(default)]
    pub finished: bool,
}

impl Scan {
    pub(crate) fn start(now: u64) -> Scan {
        Scan { started_ms: now, answered: 0, finished: false }
    }
}

/// A privacy guide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Guide {
    pub owner_setting: Map<String, Value>,
    /// privacy_key → privacy_text.
    pub settings: BTreeMap<String, String>,
    pub sdk_privacy_info_list: Value,
    pub update_time: i64,
}

/// An application for a restricted API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Application {
    pub audit_id: i64,
    pub apply_time: i64,
    /// 3 in review, 5 open.
    pub status: i64,
}

/// Answers 61039 while the scan of `appid`'s last commit runs, counting the answer.
pub(crate) fn scan_gate(st: &mut State, appid: &str, now: u64) -> Result<(), ApiError> {
    let rule = st.golive.config.privacy_scan.clone();
    let Some(scan) = st.mini_programs.get_mut(appid).and_then(|m| m.golive.scan.as_mut()) else {
        return Ok(());
    };
    let running = !scan.finished && (now < scan.started_ms + rule.secs * 1000 || scan.answered < rule.calls);
    if running {
        scan.answered += 1;
        return Err(err(61039, "privacy interface check task is not finished, please wait a minute and retry"));
    }
    Ok(())
}

/// Chinese names of the privacy keys (WxJava's enum, golive.md §1.2): `privacy_desc_list`.
const KEYS: &[(&str, &str)] = &[
    ("UserInfo", "用户信息（微信昵称、头像）"),
    ("Location", "位置信息"),
    ("Address", "地址"),
    ("Invoice", "发票信息"),
    ("RunData", "微信运动数据"),
    ("Record", "麦克风"),
    ("Album", "选中的照片或视频信息"),
    ("Camera", "摄像头"),
    ("PhoneNumber", "手机号码"),
    ("Contact", "通讯录（仅写入）权限"),
    ("DeviceInfo", "设备信息"),
    ("EXIDNumber", "身份证号码"),
    ("EXOrderInfo", "订单信息"),
    ("EXUserPublishContent", "发布内容"),
    ("EXUserFollowAcct", "所关注账号"),
    ("EXUserOpLog", "操作日志"),
    ("AlbumWriteOnly", "相册（仅写入）权限"),
    ("LicensePlate", "车牌号"),
    ("BlueTooth", "蓝牙"),
    ("CalendarWriteOnly", "日历（仅写入）权限"),
    ("Email", "邮箱"),
    ("MessageFile", "选中的文件"),
];

fn label(key: &str) -> &str {
    KEYS.iter().find(|(k, _)| *k == key).map_or("", |(_, l)| l)
}

fn privacy_ver(ctx: &Ctx) -> Result<i64, ApiError> {
    match ctx.body.get("privacy_ver") {
        None | Some(Value::Null) => Ok(2),
        Some(v) => as_i64(v).filter(|v| *v == 1 || *v == 2).ok_or_else(|| err(86071, "invalid privacy_ver")),
    }
}

/// `getprivacysetting`.
pub(crate) fn get_setting(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let ver = privacy_ver(ctx)?;
    scan_gate(st, &appid, ctx.now)?;
    let g = &app(st, ctx)?.golive;
    let found: Vec<String> = g.trial.as_ref().map(|t| t.privacy_keys.clone()).unwrap_or_default();
    let guide = if ver == 1 { g.privacy_live.as_ref() } else { g.privacy_dev.as_ref() };
    let mut keys: Vec<String> = found.clone();
    if let Some(guide) = guide {
        keys.extend(guide.settings.keys().filter(|k| !found.contains(k)).cloned());
    }
    let setting_list: Vec<Value> = keys
        .iter()
        .map(|k| {
            let text = guide.and_then(|g| g.settings.get(k)).cloned().unwrap_or_default();
            json!({ "privacy_key": k, "privacy_text": text, "privacy_label": label(k) })
        })
        .collect();
    let desc: Vec<Value> = KEYS.iter().map(|(k, l)| json!({ "privacy_key": k, "privacy_desc": l })).collect();
    ok(json!({
        "code_exist": i64::from(g.trial.is_some()),
        "privacy_list": found,
        "setting_list": setting_list,
        "update_time": guide.map_or(0, |g| g.update_time),
        "owner_setting": guide.map_or_else(|| json!({}), |g| Value::Object(g.owner_setting.clone())),
        "sdk_privacy_info_list": guide.map_or_else(|| json!([]), |g| g.sdk_privacy_info_list.clone()),
        "privacy_desc": { "privacy_desc_list": desc },
    }))
}

fn check_owner(st: &State, appid: &str, now: u64, owner: &Map<String, Value>) -> Result<(), ApiError> {
    let text = |k: &str| owner.get(k).and_then(Value::as_str).unwrap_or("").trim().to_string();
    let contacts = ["contact_phone", "contact_email", "contact_qq", "contact_weixin"];
    if contacts.iter().all(|k| text(k).is_empty()) {
        return Err(err(86069, "owner_setting is missing a required field: a contact"));
    }
    if text("notice_method").is_empty() {
        return Err(err(86070, "notice_method is missing"));
    }
    if let Some(v) = owner.get("store_expire_timestamp") {
        let ok = v
            .as_str()
            .and_then(|s| s.strip_suffix('天'))
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(err(86072, "invalid store_expire_timestamp: digits followed by 天"));
        }
    }
    if let Some(v) = owner.get("ext_file_media_id") {
        let id = v.as_str().unwrap_or("");
        if !id.is_empty() && st.media_of(appid, id, now).is_none() {
            return Err(err(86073, "invalid ext_file_media_id"));
        }
    }
    Ok(())
}

/// `setprivacysetting`.
pub(crate) fn set_setting(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let ver = privacy_ver(ctx)?;
    code::trial(st, ctx)?;
    scan_gate(st, &appid, ctx.now)?;
    let owner = match ctx.body.get("owner_setting") {
        Some(Value::Object(o)) => o.clone(),
        _ => return Err(err(86069, "owner_setting is missing")),
    };
    check_owner(st, &appid, ctx.now, &owner)?;
    let mp = app(st, ctx)?;
    if ver == 1 {
        if ctx.body.get("setting_list").is_some() {
            return Err(err(47001, "data format error: setting_list must be absent with privacy_ver 1"));
        }
        let live = mp.golive.privacy_live.as_mut().ok_or_else(|| err(86074, "no live privacy guide"))?;
        if owner.get("ext_file_media_id") != live.owner_setting.get("ext_file_media_id") {
            return Err(err(86075, "the live guide's ext_file_media_id cannot be changed"));
        }
        live.owner_setting = owner;
        live.update_time = secs(ctx.now);
        return changed(json!({}));
    }
    let items = match ctx.body.get("setting_list") {
        Some(Value::Array(items)) => items,
        _ => return Err(err(47001, "data format error: setting_list is required with privacy_ver 2")),
    };
    let mut settings = BTreeMap::new();
    for item in items {
        let key = item.get("privacy_key").and_then(Value::as_str).unwrap_or("").trim();
        let text = item.get("privacy_text").and_then(Value::as_str).unwrap_or("").trim();
        if key.is_empty() || text.is_empty() {
            return Err(err(47001, "data format error: each setting needs privacy_key and privacy_text"));
        }
        settings.insert(key.to_string(), text.to_string());
    }
    let sdk = ctx.body.get("sdk_privacy_info_list").cloned().unwrap_or_else(|| json!([]));
    mp.golive.privacy_dev =
        Some(Guide { owner_setting: owner, settings, sdk_privacy_info_list: sdk, update_time: secs(ctx.now) });
    changed(json!({}))
}

/// The location APIs the trial's code uses without declaring (`without_conf_list`) and
/// without an opened permission (`without_auth_list`), as `wx.NAME`.
pub(crate) fn missing_apis(st: &State, appid: &str) -> (Vec<String>, Vec<String>) {
    let Some(g) = st.mini_programs.get(appid).map(|m| &m.golive) else { return (Vec::new(), Vec::new()) };
    let Some(t) = &g.trial else { return (Vec::new(), Vec::new()) };
    let without_conf = t.location_apis.iter().filter(|a| !t.declared_apis.contains(a)).map(|a| format!("wx.{a}"));
    let without_auth = t
        .location_apis
        .iter()
        .map(|a| format!("wx.{a}"))
        .filter(|a| g.interfaces.get(a).is_none_or(|app| app.status != 5));
    (without_auth.collect(), without_conf.collect())
}

/// `get_code_privacy_info`.
pub(crate) fn code_privacy_info(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    code::trial(st, ctx)?;
    scan_gate(st, &appid, ctx.now)?;
    let (without_auth, without_conf) = missing_apis(st, &appid);
    ok(json!({ "without_auth_list": without_auth, "without_conf_list": without_conf }))
}

/// `get_privacy_interface`: the code's location APIs and their state; an application in
/// review is open from this call on.
pub(crate) fn interfaces(st: &mut State, ctx: &Ctx) -> Reply {
    let mp = app(st, ctx)?;
    let apis: Vec<String> = mp
        .golive
        .trial
        .as_ref()
        .map(|t| t.location_apis.iter().map(|a| format!("wx.{a}")).collect())
        .unwrap_or_default();
    let mut effect = false;
    let list: Vec<Value> = apis
        .iter()
        .map(|name| {
            let mut v = json!({ "api_name": name, "api_ch_name": name, "api_desc": "", "api_link": "",
                                "group_name": "地理位置", "status": 1 });
            if let Some(a) = mp.golive.interfaces.get_mut(name) {
                v["apply_time"] = json!(a.apply_time);
                v["audit_id"] = json!(a.audit_id);
                v["status"] = json!(a.status);
                if a.status == 3 {
                    a.status = 5;
                    effect = true;
                }
            }
            v
        })
        .collect();
    let body = json!({ "interface_list": list });
    if effect {
        changed(body)
    } else {
        ok(body)
    }
}

/// `apply_privacy_interface`.
pub(crate) fn apply_interface(st: &mut State, ctx: &Ctx) -> Reply {
    let name = ctx.str("api_name").unwrap_or("").to_string();
    let content = ctx.str("content").unwrap_or("").trim().to_string();
    let material = ["url_list", "pic_list", "video_list"]
        .iter()
        .any(|k| ctx.body.get(*k).and_then(Value::as_array).is_some_and(|a| !a.is_empty()));
    if name.is_empty() || content.is_empty() || !material {
        return Err(err(61034, "a required parameter is missing"));
    }
    let audit_id = st.next_audit_id;
    let mp = app(st, ctx)?;
    let used = mp.golive.trial.as_ref().is_some_and(|t| t.location_apis.iter().any(|a| format!("wx.{a}") == name));
    if !used {
        return Err(err(61035, "this api does not need an application"));
    }
    if mp.golive.interfaces.get(&name).is_some_and(|a| a.status == 3) {
        return Err(err(61031, "in review, do not apply again"));
    }
    mp.golive.interfaces.insert(name, Application { audit_id, apply_time: secs(ctx.now), status: 3 });
    st.next_audit_id += 1;
    changed(json!({ "audit_id": audit_id }))
}

/// The keys the scan found that `appid`'s development guide does not configure.
pub(crate) fn unconfigured_keys(st: &State, appid: &str) -> Vec<String> {
    let Some(g) = st.mini_programs.get(appid).map(|m| &m.golive) else { return Vec::new() };
    let found = g.trial.as_ref().map(|t| t.privacy_keys.clone()).unwrap_or_default();
    found.into_iter().filter(|k| g.privacy_dev.as_ref().is_none_or(|d| !d.settings.contains_key(k))).collect()
}
