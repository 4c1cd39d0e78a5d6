//! The component endpoints: the platform's own token, authorization codes, authorizer tokens
//! and the authorizer list (NOTES.md, "Tokens").
//!
//! They are where credentials are born, so they are where the simulator is strictest: only
//! the fixture's secret and verify ticket work, authorization codes are single-use, and a
//! refresh token works until it is revoked or replaced by a newer authorization.

use serde_json::json;

use super::api::{changed, err, ok, ApiError, Ctx, Reply};
use super::state::{Owner, State};

fn check_component_appid(st: &State, ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.str("component_appid") == Some(st.component.appid.as_str()) {
        Ok(())
    } else {
        Err(err(40013, "invalid appid: component_appid does not match this platform"))
    }
}

/// `api_component_token`.
pub(super) fn component_token(st: &mut State, ctx: &Ctx) -> Reply {
    if !st.component.ip_whitelisted {
        // The live answer (NOTES.md): it comes before any check of the credentials.
        let msg =
            format!("access clientip is not registered requestIP: {} rid: 6571a2b3-1c2d3e4f", st.component.request_ip);
        return Err(err(61004, &msg));
    }
    check_component_appid(st, ctx)?;
    if ctx.str("component_appsecret") != Some(st.component.secret.as_str()) {
        // The live answer (the documents' older one was 40001; the client takes both).
        return Err(err(40125, "invalid appsecret"));
    }
    let ticket = ctx.str("component_verify_ticket").unwrap_or("");
    if ticket != st.component.verify_ticket {
        let msg = if st.component.old_verify_tickets.iter().any(|t| t == ticket) {
            "component_verify_ticket expired"
        } else {
            "component_verify_ticket invalid"
        };
        return Err(err(61006, msg));
    }
    let token = st.issue_access_token(Owner::Component, ctx.now);
    ok(json!({ "component_access_token": token, "expires_in": st.rules.token_ttl_secs }))
}

/// The permission sets `appid` granted, shaped as WeChat answers them.
fn func_info(st: &State, appid: &str) -> serde_json::Value {
    json!(st.func_ids(appid).iter().map(|id| json!({ "funcscope_category": { "id": id } })).collect::<Vec<_>>())
}

/// `api_query_auth`: exchanges a single-use authorization code.
pub(super) fn query_auth(st: &mut State, ctx: &Ctx) -> Reply {
    check_component_appid(st, ctx)?;
    let code = ctx.str("authorization_code").unwrap_or("");
    let appid = match st.auth_codes.get_mut(code) {
        Some(c) if !c.used => {
            c.used = true;
            c.appid.clone()
        }
        _ => return Err(err(61009, "invalid code: unknown or already used authorization_code")),
    };
    let refresh = st.issue_refresh_token(&appid, ctx.now);
    let access = st.issue_access_token(Owner::Authorizer(appid.clone()), ctx.now);
    changed(json!({
        "authorization_info": {
            "authorizer_appid": appid,
            "authorizer_access_token": access,
            "expires_in": st.rules.token_ttl_secs,
            "authorizer_refresh_token": refresh,
            "func_info": func_info(st, &appid),
        }
    }))
}

/// `api_authorizer_token`: an access token from a refresh token.
pub(super) fn authorizer_token(st: &mut State, ctx: &Ctx) -> Reply {
    check_component_appid(st, ctx)?;
    let appid = ctx.str("authorizer_appid").unwrap_or("");
    let refresh = ctx.str("authorizer_refresh_token").unwrap_or("");
    match st.refresh_tokens.get(refresh) {
        Some(r) if !r.revoked && r.appid == appid => {}
        _ => return Err(err(61023, "invalid refresh_token")),
    }
    let access = st.issue_access_token(Owner::Authorizer(appid.to_string()), ctx.now);
    ok(json!({
        "authorizer_access_token": access,
        "expires_in": st.rules.token_ttl_secs,
        "authorizer_refresh_token": refresh,
    }))
}

/// `api_get_authorizer_list`: every authorizer with its current refresh token, paged.
pub(super) fn authorizer_list(st: &mut State, ctx: &Ctx) -> Reply {
    check_component_appid(st, ctx)?;
    let offset = ctx.i64("offset").unwrap_or(0);
    let count = ctx.i64("count").unwrap_or(0);
    if offset < 0 || !(0..=500).contains(&count) {
        return Err(err(40097, "invalid args: offset >= 0, 0 <= count <= 500"));
    }
    let mut all: Vec<_> = st.refresh_tokens.iter().filter(|(_, r)| !r.revoked).collect();
    all.sort_by(|a, b| (a.1.auth_time, &a.1.appid).cmp(&(b.1.auth_time, &b.1.appid)));
    let list: Vec<_> = all
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|(token, r)| json!({ "authorizer_appid": r.appid, "refresh_token": token, "auth_time": r.auth_time }))
        .collect();
    ok(json!({ "total_count": all.len(), "list": list }))
}

/// `api_get_authorizer_info`: an authorizer's account, with its current refresh token.
/// `MiniProgramInfo` is there for mini-programs only, as the platform answers; an account
/// the platform did not create answers 41033 (the fixture's `not_created_by_platform`
/// [assumed]), one
/// that is not authorized (no refresh token that works) 61003.
pub(super) fn authorizer_info(st: &mut State, ctx: &Ctx) -> Reply {
    check_component_appid(st, ctx)?;
    let appid = ctx.str("authorizer_appid").unwrap_or("").to_string();
    let refresh = st.refresh_tokens.iter().find(|(_, r)| r.appid == appid && !r.revoked).map(|(t, _)| t.clone());
    let known = st.official_accounts.contains_key(&appid) || st.mini_programs.contains_key(&appid);
    let Some(refresh) = refresh.filter(|_| known) else {
        return Err(err(61003, "component is not authorized by this account"));
    };
    let user_name = super::state::original_id(&appid);
    let info = if let Some(oa) = st.official_accounts.get(&appid) {
        json!({
            "nick_name": oa.nickname,
            "head_img": "",
            "service_type_info": { "id": 2 },
            "verify_type_info": { "id": if oa.verified { 0 } else { -1 } },
            "user_name": user_name,
            "principal_name": oa.principal_name,
            "alias": "",
            "qrcode_url": "",
            "signature": "",
        })
    } else {
        let mp = &st.mini_programs[&appid];
        if mp.not_created_by_platform {
            return Err(err(41033, "invalid register type"));
        }
        json!({
            "nick_name": mp.nickname,
            "head_img": mp.head_image_url,
            "service_type_info": { "id": 0 },
            "verify_type_info": { "id": 0 },
            "user_name": user_name,
            "principal_name": mp.principal_name,
            "alias": "",
            "qrcode_url": "",
            "signature": mp.signature,
            "MiniProgramInfo": {
                "network": { "RequestDomain": [], "WsRequestDomain": [], "UploadDomain": [], "DownloadDomain": [] },
                "categories": mp.categories.iter().map(|c| json!({ "first": c.first, "second": c.second })).collect::<Vec<_>>(),
                "visit_status": 0,
            },
        })
    };
    ok(json!({
        "authorizer_info": info,
        "authorization_info": {
            "authorizer_appid": appid,
            "authorizer_refresh_token": refresh,
            "func_info": func_info(st, &appid),
        },
    }))
}
