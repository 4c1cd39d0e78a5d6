//! Code: `commit` makes the trial version (体验版) from a template and starts the privacy
//! scan; `getversioninfo`, `get_page`, `get_category` and `get_qrcode` read it back
//! (golive.md §3.2–§3.5, §3.11).
//!
//! Rules: `template_id` a number or a numeric string (both are sent in production), unknown
//! 85014; `ext_json` must be a string holding a JSON object — an object instead 85013, text
//! that is not JSON 85048; its `extAppid`, when given, must be the mini-program's appid
//! (85013 [assumed]); its `pages` may only select the template's (85045); a standard
//! template (`template_type` 1) takes only `extAppid`, `ext` and `window` (9402203);
//! `requiredPrivateInfos` names known location APIs (85310) and not both `getLocation` and
//! `getFuzzyLocation` (85311); `user_version` and `user_desc` are required (47001) and
//! `user_version` is at most 64 characters (85013 [assumed]). A commit replaces the trial
//! version and restarts the scan; an audit already submitted keeps the version it has.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{app, privacy, secs};
use crate::api::{as_i64, changed, err, ok, ApiError, Ctx, Reply};
use crate::state::State;

/// The trial version the last commit made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Trial {
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// `ext_json` as sent (a string), and parsed.
    pub ext_json: String,
    pub ext: Value,
    /// Unix seconds.
    pub commit_time: i64,
    /// The code's pages: the template's, or the subset `ext_json` chose.
    pub pages: Vec<String>,
    /// What the privacy scan finds (the template's `privacy_keys`).
    pub privacy_keys: Vec<String>,
    /// Restricted APIs the code calls (the template's `location_apis`).
    pub location_apis: Vec<String>,
    /// `requiredPrivateInfos` of `ext_json`.
    pub declared_apis: Vec<String>,
}

/// The location APIs `requiredPrivateInfos` may name (golive.md §3.2).
const LOCATION_APIS: &[&str] = &[
    "getFuzzyLocation",
    "getLocation",
    "onLocationChange",
    "startLocationUpdate",
    "startLocationUpdateBackground",
    "chooseLocation",
    "choosePoi",
    "chooseAddress",
];

fn required_text<'a>(ctx: &'a Ctx, key: &str) -> Result<&'a str, ApiError> {
    match ctx.body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(err(47001, format!("data format error: {key} is required"))),
    }
}

/// `commit`.
pub(crate) fn commit(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let template_id = ctx.body.get("template_id").and_then(as_i64).ok_or_else(|| err(85014, "invalid template id"))?;
    let template = super::template::find(st, template_id).ok_or_else(|| err(85014, "invalid template id"))?.clone();
    let ext_json = match ctx.body.get("ext_json") {
        Some(Value::String(s)) => s.clone(),
        None => "{}".to_string(),
        Some(_) => {
            return Err(err(85013, "invalid ext_json: ext_json must be a JSON document serialized into a string"))
        }
    };
    let ext: Value = serde_json::from_str(&ext_json).map_err(|_| err(85048, "ext_json parse error"))?;
    let Value::Object(fields) = &ext else {
        return Err(err(85048, "ext_json parse error: not a JSON object"));
    };
    let user_version = required_text(ctx, "user_version")?.to_string();
    let user_desc = required_text(ctx, "user_desc")?.to_string();
    if user_version.chars().count() > 64 {
        return Err(err(85013, "invalid user_version: more than 64 characters"));
    }
    if let Some(ext_appid) = fields.get("extAppid") {
        if ext_appid.as_str() != Some(appid.as_str()) {
            return Err(err(85013, format!("invalid ext_json: extAppid {ext_appid} is not {appid}")));
        }
    }
    if template.template_type == 1 {
        if let Some(k) = fields.keys().find(|k| !["extAppid", "ext", "window"].contains(&k.as_str())) {
            return Err(err(9402203, format!("standard template ext_json has an invalid field {k}")));
        }
    }
    let pages = match fields.get("pages") {
        None => template.pages.clone(),
        Some(Value::Array(items)) => {
            let mut pages = Vec::new();
            for p in items {
                let p = p.as_str().ok_or_else(|| err(85013, "invalid ext_json: pages"))?;
                if !template.pages.iter().any(|t| t == p) {
                    return Err(err(85045, format!("ext_json has a path that does not exist: {p}")));
                }
                pages.push(p.to_string());
            }
            if pages.is_empty() {
                return Err(err(85047, "pages is empty"));
            }
            pages
        }
        Some(_) => return Err(err(85013, "invalid ext_json: pages")),
    };
    let declared_apis = match fields.get("requiredPrivateInfos") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            let mut apis = Vec::new();
            for a in items {
                let a = a.as_str().filter(|a| LOCATION_APIS.contains(a));
                let a = a.ok_or_else(|| err(85310, format!("requiredPrivateInfos: invalid api name {a:?}")))?;
                apis.push(a.to_string());
            }
            if apis.iter().any(|a| a == "getLocation") && apis.iter().any(|a| a == "getFuzzyLocation") {
                return Err(err(
                    85311,
                    "requiredPrivateInfos: getLocation and getFuzzyLocation are mutually exclusive",
                ));
            }
            apis
        }
        Some(_) => return Err(err(85310, "requiredPrivateInfos must be an array")),
    };
    let trial = Trial {
        template_id,
        user_version,
        user_desc,
        ext_json,
        ext,
        commit_time: secs(ctx.now),
        pages,
        privacy_keys: template.privacy_keys.clone(),
        location_apis: template.location_apis.clone(),
        declared_apis,
    };
    let scan = privacy::Scan::start(ctx.now);
    let mp = app(st, ctx)?;
    mp.golive.trial = Some(trial);
    mp.golive.scan = Some(scan);
    changed(json!({}))
}

/// `getversioninfo`: the trial version and the live one.
pub(crate) fn version_info(st: &mut State, ctx: &Ctx) -> Reply {
    let g = &app(st, ctx)?.golive;
    let mut out = serde_json::Map::new();
    if let Some(t) = &g.trial {
        out.insert(
            "exp_info".into(),
            json!({ "exp_time": t.commit_time, "exp_version": t.user_version, "exp_desc": t.user_desc }),
        );
    }
    if let Some(r) = g.releases.last() {
        out.insert(
            "release_info".into(),
            json!({ "release_time": r.release_time, "release_version": r.user_version, "release_desc": r.user_desc }),
        );
    }
    ok(Value::Object(out))
}

/// The trial version, or 86001 (不存在第三方的已经提交的代码).
pub(crate) fn trial<'a>(st: &'a mut State, ctx: &Ctx) -> Result<&'a Trial, ApiError> {
    app(st, ctx)?.golive.trial.as_ref().ok_or_else(|| err(86001, "no code committed by the third party"))
}

/// `get_page`.
pub(crate) fn get_page(st: &mut State, ctx: &Ctx) -> Reply {
    let pages = trial(st, ctx)?.pages.clone();
    ok(json!({ "page_list": pages }))
}

/// `/wxa/get_category`: the approved categories only, with names from the tree (empty while
/// they are in review).
pub(crate) fn categories(st: &mut State, ctx: &Ctx) -> Reply {
    let set = app(st, ctx)?.categories.clone();
    let name = |id: i64| st.category(id).map(|c| c.name.clone()).unwrap_or_default();
    let list: Vec<Value> = set
        .iter()
        .filter(|c| c.audit_status == 3)
        .map(|c| {
            json!({ "first_class": name(c.first), "second_class": name(c.second),
                    "first_id": c.first, "second_id": c.second })
        })
        .collect();
    ok(json!({ "category_list": list }))
}

/// `get_qrcode`: the trial version's QR code. The pipeline turns this answer into the JPEG
/// body WeChat sends; only errors are JSON.
pub(crate) fn qrcode(st: &mut State, ctx: &Ctx) -> Reply {
    let t = trial(st, ctx)?;
    let path = ctx.query.get("path").cloned().unwrap_or_default();
    let page = path.split('?').next().unwrap_or("");
    if !page.is_empty() && !t.pages.iter().any(|p| p == page) {
        return Err(err(40097, format!("invalid args: no page {page}")));
    }
    ok(json!({ QRCODE_MARK: path }))
}

/// The field of [`qrcode`]'s answer that tells the pipeline to send a picture.
pub(crate) const QRCODE_MARK: &str = "__sim_qrcode_path";

/// The body `get_qrcode` sends: a few JPEG-framed bytes (SOI … EOI), enough for a client to
/// tell a picture from a JSON error.
pub(crate) const QRCODE_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07, 0x07, 0x07, 0x09, 0x09,
    0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12, 0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D,
    0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27, 0x20, 0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31,
    0x34, 0x34, 0x34, 0x1F, 0x27, 0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xC0, 0x00, 0x0B, 0x08,
    0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08,
    0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x2A, 0x9F, 0xFF, 0xD9,
];
