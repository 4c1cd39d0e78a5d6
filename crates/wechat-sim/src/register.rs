//! Fast registration and admin rebind: the two calls that follow a merchant's scan.
//!
//! A scan (`POST /__sim/scan`, `POST /__sim/rebind`) issues a ticket or task id; these
//! endpoints redeem it. Fast registration carries the rules of the document's 相关规则 (five
//! a month, none while one is pending, verified accounts only) and the 5-second retry rule
//! from NOTES.md, which is exactly what a client retrying a lost answer runs into.

use serde_json::json;

use super::api::{changed, err, Ctx, Reply};
use super::state::{AuthCode, MiniProgram, State};

/// `fastregister`, called with an official account's token.
pub(super) fn fastregister(st: &mut State, ctx: &Ctx) -> Reply {
    let oa_appid = ctx.appid()?.to_string();
    if !st.official_accounts.contains_key(&oa_appid) {
        return Err(err(48001, "api unauthorized: fastregister takes an official account's token"));
    }
    let ticket = ctx.str("ticket").unwrap_or("").to_string();
    let window = st.rules.fastregister_retry_window_ms;
    let invalid = || err(61058, "ticket verification failed");
    {
        let t = match st.tickets.get_mut(&ticket) {
            Some(t) if t.official_appid == oa_appid => t,
            _ => return Err(invalid()),
        };
        if let Some(last) = t.last_try_ms {
            if ctx.now.saturating_sub(last) < window {
                return Err(err(61058, "ticket verification failed: retried within 5 s"));
            }
        }
        t.last_try_ms = Some(ctx.now);
        t.tries += 1;
        if t.used {
            return Err(invalid());
        }
    }
    let oa = &st.official_accounts[&oa_appid];
    if !oa.verified {
        return Err(err(61052, "official account is not verified"));
    }
    if oa.registrations_this_month >= 5 {
        return Err(err(61055, "monthly fast registration limit of the official account reached"));
    }
    if oa.pending_registration {
        return Err(err(61057, "the official account has a fast registration in progress"));
    }
    let principal_name = oa.principal_name.clone();

    let appid = st.new_appid();
    let code = st.new_secret("queryauthcode@@@");
    st.mini_programs.insert(
        appid.clone(),
        MiniProgram {
            appid: appid.clone(),
            official_appid: Some(oa_appid.clone()),
            nickname: String::new(),
            signature: String::new(),
            signature_used: 0,
            signature_quota: 5,
            head_image_url: String::new(),
            head_image_used: 0,
            head_image_quota: 5,
            nickname_used: 0,
            nickname_quota: 2,
            categories: Vec::new(),
            category_quota: 5,
            category_quota_used: 0,
            category_limit: 20,
            fast_registered: true,
            not_created_by_platform: false,
            principal_name,
            nickname_audit: None,
            created_ms: ctx.now,
            admin_rebinds: 0,
            golive: Default::default(),
        },
    );
    // Authorized to the platform from birth: api_get_authorizer_list shows it at once.
    st.issue_refresh_token(&appid, ctx.now);
    st.auth_codes.insert(code.clone(), AuthCode { appid: appid.clone(), used: false, created_ms: ctx.now });
    if let Some(oa) = st.official_accounts.get_mut(&oa_appid) {
        oa.registrations_this_month += 1;
        oa.registered.push(appid.clone());
    }
    if let Some(t) = st.tickets.get_mut(&ticket) {
        t.used = true;
        t.created_appid = Some(appid.clone());
    }
    changed(json!({
        "appid": appid,
        "authorization_code": code,
        "is_wx_verify_succ": "true",
        "is_link_succ": "true",
    }))
}

/// `componentrebindadmin`: redeems a rebind task id issued for this mini-program.
pub(super) fn rebind_admin(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    let taskid = ctx.str("taskid").unwrap_or("");
    match st.rebind_tasks.get_mut(taskid) {
        Some(t) if t.appid == appid && !t.used => t.used = true,
        _ => return Err(err(85060, "invalid taskid")),
    }
    if let Some(mp) = st.mini_programs.get_mut(&appid) {
        mp.admin_rebinds += 1;
    }
    changed(json!({}))
}
