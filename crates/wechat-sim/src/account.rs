//! Account information and the quota-limited settings: basic info, avatar, signature, and
//! the daily API quota report.
//!
//! `getaccountbasicinfo` is the client's authority on how many changes are left, so it reads
//! the same counters that `modifyheadimage` and `modifysignature` spend.

use serde_json::json;

use super::api::{changed, err, ok, ApiError, Ctx, Reply};
use super::state::{MiniProgram, PathQuota, State};

/// The mini-program a token acts for; official accounts get 48001.
pub(super) fn mini_program<'a>(st: &'a mut State, ctx: &Ctx) -> Result<&'a mut MiniProgram, ApiError> {
    let appid = ctx.appid()?;
    st.mini_programs.get_mut(appid).ok_or_else(|| err(48001, "api unauthorized: this API takes a mini-program's token"))
}

/// Does `text` contain one of `words`?
pub(super) fn contains_any(text: &str, words: &[String]) -> bool {
    words.iter().any(|w| !w.is_empty() && text.contains(w.as_str()))
}

/// `getaccountbasicinfo`: the documented shape, plus `nickname_info`.
pub(super) fn basic_info(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?;
    let year = 365 * 24 * 3600;
    let now_s = (ctx.now / 1000) as i64;
    if let Some(oa) = st.official_accounts.get(appid) {
        let v = i64::from(oa.verified);
        return ok(json!({
            "appid": oa.appid,
            "account_type": 2,
            "principal_type": oa.principal_type,
            "principal_name": oa.principal_name,
            "realname_status": 1,
            "wx_verify_info": {
                "qualification_verify": v,
                "naming_verify": v,
                "annual_review": v,
                "annual_review_begin_time": now_s - year / 2,
                "annual_review_end_time": now_s + year / 2,
            },
            "nickname_info": { "nickname": oa.nickname, "modify_used_count": 0, "modify_quota": 2 },
        }));
    }
    let mp = st.mini_programs.get(appid).ok_or_else(|| err(40013, "invalid appid"))?;
    if mp.not_created_by_platform {
        return Err(err(41033, "invalid register type"));
    }
    ok(json!({
        "appid": mp.appid,
        "account_type": 3,
        "principal_type": 1,
        "principal_name": mp.principal_name,
        "realname_status": 1,
        "wx_verify_info": {
            "qualification_verify": 1,
            "naming_verify": i64::from(!mp.nickname.is_empty()),
            "annual_review": 1,
            "annual_review_begin_time": now_s - year / 2,
            "annual_review_end_time": now_s + year / 2,
        },
        "signature_info": {
            "signature": mp.signature,
            "modify_used_count": mp.signature_used,
            "modify_quota": mp.signature_quota,
        },
        "head_image_info": {
            "head_image_url": mp.head_image_url,
            "modify_used_count": mp.head_image_used,
            "modify_quota": mp.head_image_quota,
        },
        "nickname_info": {
            "nickname": mp.nickname,
            "modify_used_count": mp.nickname_used,
            "modify_quota": mp.nickname_quota,
        },
    }))
}

/// `modifyheadimage`.
pub(super) fn modify_head_image(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    mini_program(st, ctx)?;
    let media_id = ctx.str("head_img_media_id").unwrap_or("");
    if media_id.is_empty() {
        return Err(err(41006, "media_id missing"));
    }
    let crop = ["x1", "y1", "x2", "y2"].map(|k| ctx.f64(k));
    let [Some(x1), Some(y1), Some(x2), Some(y2)] = crop else {
        return Err(err(40097, "invalid args: x1, y1, x2, y2 are required"));
    };
    let in_range = [x1, y1, x2, y2].iter().all(|c| (0.0..=1.0).contains(c));
    if !in_range || x1 >= x2 || y1 >= y2 {
        return Err(err(40097, "invalid args: crop box outside [0,1] or empty"));
    }
    let sha = match st.media_of(&appid, media_id, ctx.now) {
        Some(m) => m.sha256.clone(),
        None => return Err(err(40007, "invalid media_id")),
    };
    let mp = mini_program(st, ctx)?;
    if mp.head_image_used >= mp.head_image_quota {
        return Err(err(53202, "head image modify quota of this month used up"));
    }
    mp.head_image_used += 1;
    mp.head_image_url = format!("http://mmbiz.qpic.cn/sim/{}/0", &sha[..32.min(sha.len())]);
    changed(json!({}))
}

/// `modifysignature`.
pub(super) fn modify_signature(st: &mut State, ctx: &Ctx) -> Reply {
    mini_program(st, ctx)?;
    let signature = ctx.str("signature").unwrap_or("").to_string();
    if signature.is_empty() {
        return Err(err(40097, "invalid args: signature is empty"));
    }
    let len = signature.chars().count();
    if !(4..=120).contains(&len) {
        return Err(err(53204, "invalid signature: 4 to 120 characters"));
    }
    if contains_any(&signature, &st.rules.blacklisted_words) {
        return Err(err(53201, "signature hits a blacklisted word"));
    }
    let mp = mini_program(st, ctx)?;
    if mp.signature_used >= mp.signature_quota {
        return Err(err(53200, "signature modify quota of this month used up"));
    }
    mp.signature_used += 1;
    mp.signature = signature;
    changed(json!({}))
}

/// `openapi/quota/get`.
pub(super) fn quota_get(st: &mut State, ctx: &Ctx) -> Reply {
    let path = ctx.str("cgi_path").unwrap_or("");
    if path.is_empty() {
        return Err(err(40097, "invalid args: cgi_path is required"));
    }
    let q = st.quotas.get(path).cloned().unwrap_or(PathQuota { daily_limit: 1000, ..Default::default() });
    let mut answer = json!({
        "quota": { "daily_limit": q.daily_limit, "used": q.used, "remain": q.daily_limit.saturating_sub(q.used) }
    });
    // The live platform's answer states the path's rate limits too (NOTES.md).
    if let Some(limit) = q.rate_limit {
        answer["rate_limit"] = json!(limit);
    }
    if let Some(limit) = q.component_rate_limit {
        answer["component_rate_limit"] = json!(limit);
    }
    ok(answer)
}
