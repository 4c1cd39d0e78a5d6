//! The control API under `/__sim/`: what tests and rehearsing ops staff use to play the
//! parts WeChat's users play (a merchant scanning, an auditor deciding) and to look inside.
//!
//! No token, plain JSON, HTTP 400/404 with `{"error": …}` on bad input. Control calls are not
//! logged as API calls and never get faults or latency.
//!
//! - `GET /__sim/calls`, `DELETE /__sim/calls`: the call log (see `calllog`).
//! - `GET /__sim/state`: the whole state, plus `scheduled_faults`.
//! - `GET /__sim/tokens`: `{access_tokens, refresh_tokens, revoked_refresh_tokens,
//!   authorization_codes, component_secrets}`: every credential issued or known, for leak checks.
//! - `GET|POST|DELETE /__sim/faults`: list, add (one fault or an array), clear scheduled faults.
//! - `POST /__sim/expire` `{appid}` or `{component: true}`: current access tokens → 42001.
//! - `POST /__sim/revoke` `{appid}`: its refresh tokens → 61023.
//! - `POST /__sim/authorize` `{appid}` → `{appid, auth_time}`: the account authorizes the
//!   platform again now (a new refresh token, `auth_time` now; its older ones revoked).
//! - `POST /__sim/scan` `{official_appid, redirect_uri?}` → `{ticket, redirect_status?}`.
//! - `POST /__sim/rebind` `{appid, redirect_uri?}` → `{taskid, redirect_status?}`.
//! - `POST /__sim/audit` `{appid, result: 2|3, reason?}`: ends the running nickname audit.
//! - `POST /__sim/category_audit` `{appid, first, second, result: 2|3, reason?}`.
//! - `POST /__sim/quota` `{appid?, signature_used?, signature_quota?, head_image_used?,
//!   head_image_quota?, nickname_used?, category_quota_used?, category_quota?,
//!   category_limit?, registrations_this_month?, pending_registration?, verified?, cgi_path?,
//!   daily_limit?, used?}`: sets counters of a mini-program, an official account, or a path.
//! - `POST /__sim/verify_ticket` `{ticket?}`: rotates the component verify ticket.
//! - `POST /__sim/ip_whitelist` `{whitelisted}`: whether the caller's IP is on the
//!   platform's whitelist (when not, `api_component_token` answers 61004).
//! - `POST /__sim/push`: an encrypted push to a callback URL (see `push`).
//! - Going live: `/__sim/template`, `privacy_scan`, `code_audit`, `audit_quota`, `icp`,
//!   `golive`, `callback`, `pushes` (see `golive::control`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::faults::ScheduledFault;
use super::state::{now_ms, Owner, Ticket};
use super::{categories, nickname, Shared};

type Sh = AxState<Arc<Shared>>;

pub(super) fn fail(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

pub(super) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))
}

macro_rules! parse_or_return {
    ($body:expr) => {
        match parse(&$body) {
            Ok(v) => v,
            Err(msg) => return fail(StatusCode::BAD_REQUEST, msg),
        }
    };
}

pub(super) async fn get_calls(AxState(sh): Sh) -> Response {
    let calls = sh.lock_log().snapshot();
    Json(calls).into_response()
}

pub(super) async fn clear_calls(AxState(sh): Sh) -> Response {
    sh.lock_log().clear();
    Json(json!({ "ok": true })).into_response()
}

pub(super) async fn get_state(AxState(sh): Sh) -> Response {
    let st = sh.lock_state();
    let faults = sh.lock_faults().scheduled.clone();
    let mut v = serde_json::to_value(&*st).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("scheduled_faults".into(), json!(faults));
    }
    Json(v).into_response()
}

pub(super) async fn get_tokens(AxState(sh): Sh) -> Response {
    let st = sh.lock_state();
    let mut other: Vec<&String> = vec![&st.component.secret, &st.component.verify_ticket];
    other.extend(st.component.old_verify_tickets.iter());
    fn sorted(mut v: Vec<&String>) -> Vec<&String> {
        v.sort_unstable();
        v
    }
    Json(json!({
        "access_tokens": sorted(st.access_tokens.keys().collect()),
        "refresh_tokens": sorted(st.refresh_tokens.keys().collect()),
        "revoked_refresh_tokens": sorted(st.refresh_tokens.iter().filter(|(_, r)| r.revoked).map(|(t, _)| t).collect()),
        "authorization_codes": st.auth_codes.keys().collect::<Vec<_>>(),
        "component_secrets": other,
    }))
    .into_response()
}

pub(super) async fn get_faults(AxState(sh): Sh) -> Response {
    Json(&sh.lock_faults().scheduled).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<ScheduledFault>),
    One(ScheduledFault),
}

pub(super) async fn add_faults(AxState(sh): Sh, body: Bytes) -> Response {
    let faults = match parse_or_return!(body) {
        OneOrMany::Many(v) => v,
        OneOrMany::One(f) => vec![f],
    };
    let mut all = sh.lock_faults();
    all.add(faults);
    Json(json!({ "scheduled": all.scheduled.len() })).into_response()
}

pub(super) async fn clear_faults(AxState(sh): Sh) -> Response {
    sh.lock_faults().scheduled.clear();
    Json(json!({ "ok": true })).into_response()
}

#[derive(Deserialize)]
struct ExpireReq {
    appid: Option<String>,
    #[serde(default)]
    component: bool,
}

pub(super) async fn expire(AxState(sh): Sh, body: Bytes) -> Response {
    let req: ExpireReq = parse_or_return!(body);
    let owner = match (req.component, req.appid) {
        (true, _) => Owner::Component,
        (false, Some(appid)) => Owner::Authorizer(appid),
        _ => return fail(StatusCode::BAD_REQUEST, "give {\"appid\"} or {\"component\": true}"),
    };
    let mut st = sh.lock_state();
    let mut n = 0;
    for t in st.access_tokens.values_mut().filter(|t| t.owner == owner && !t.forced_expired) {
        t.forced_expired = true;
        n += 1;
    }
    Json(json!({ "expired": n })).into_response()
}

#[derive(Deserialize)]
struct AppidReq {
    appid: String,
    redirect_uri: Option<String>,
}

pub(super) async fn revoke(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AppidReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    let mut n = 0;
    for r in st.refresh_tokens.values_mut().filter(|r| r.appid == req.appid && !r.revoked) {
        r.revoked = true;
        n += 1;
    }
    Json(json!({ "revoked": n })).into_response()
}

/// An account's admin authorizes the platform (again) now: a fresh refresh token with
/// `auth_time` now, the account's older ones revoked (as a re-authorization does).
pub(super) async fn authorize(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AppidReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    if !st.official_accounts.contains_key(&req.appid) && !st.mini_programs.contains_key(&req.appid) {
        return fail(StatusCode::NOT_FOUND, format!("no account {}", req.appid));
    }
    let now = now_ms();
    st.issue_refresh_token(&req.appid, now);
    Json(json!({ "appid": req.appid, "auth_time": now / 1000 })).into_response()
}

/// Follows a redirect the way a merchant's browser would: GET `uri` plus `key=value`.
async fn follow(sh: &Shared, uri: &str, key: &str, value: &str) -> Value {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let url = format!("{uri}{sep}{key}={value}");
    match sh.http.get(&url).send().await {
        Ok(resp) => json!(resp.status().as_u16()),
        Err(e) => json!(format!("redirect failed: {e}")),
    }
}

#[derive(Deserialize)]
struct ScanReq {
    official_appid: String,
    redirect_uri: Option<String>,
}

pub(super) async fn scan(AxState(sh): Sh, body: Bytes) -> Response {
    let req: ScanReq = parse_or_return!(body);
    let ticket = {
        let mut st = sh.lock_state();
        if !st.official_accounts.contains_key(&req.official_appid) {
            return fail(StatusCode::NOT_FOUND, format!("no official account {}", req.official_appid));
        }
        let ticket = st.hex(32);
        st.tickets.insert(ticket.clone(), Ticket::scanned(req.official_appid, now_ms()));
        ticket
    };
    let mut out = json!({ "ticket": ticket });
    if let Some(uri) = req.redirect_uri {
        out["redirect_status"] = follow(&sh, &uri, "ticket", &ticket).await;
    }
    Json(out).into_response()
}

pub(super) async fn rebind(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AppidReq = parse_or_return!(body);
    let taskid = {
        let mut st = sh.lock_state();
        if !st.mini_programs.contains_key(&req.appid) {
            return fail(StatusCode::NOT_FOUND, format!("no mini-program {}", req.appid));
        }
        let taskid = st.hex(32);
        st.rebind_tasks.insert(taskid.clone(), super::state::RebindTask { appid: req.appid, used: false });
        taskid
    };
    let mut out = json!({ "taskid": taskid });
    if let Some(uri) = req.redirect_uri {
        out["redirect_status"] = follow(&sh, &uri, "taskid", &taskid).await;
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
struct AuditReq {
    appid: String,
    result: i64,
    #[serde(default)]
    reason: String,
    /// For `/__sim/category_audit`.
    first: Option<i64>,
    second: Option<i64>,
}

pub(super) async fn audit(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AuditReq = parse_or_return!(body);
    if req.result != 2 && req.result != 3 {
        return fail(StatusCode::BAD_REQUEST, "result must be 2 (rejected) or 3 (approved)");
    }
    let mut st = sh.lock_state();
    let audit_id = match nickname::running_audit(&st, &req.appid) {
        Ok(id) => id,
        Err(e) => return fail(StatusCode::NOT_FOUND, e.errmsg),
    };
    nickname::finish_audit(&mut st, audit_id, req.result, &req.reason, now_ms());
    Json(json!({ "audit_id": audit_id, "audit_stat": req.result })).into_response()
}

pub(super) async fn category_audit(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AuditReq = parse_or_return!(body);
    let (Some(first), Some(second)) = (req.first, req.second) else {
        return fail(StatusCode::BAD_REQUEST, "first and second are required");
    };
    if req.result != 2 && req.result != 3 {
        return fail(StatusCode::BAD_REQUEST, "result must be 2 (rejected) or 3 (approved)");
    }
    let mut st = sh.lock_state();
    if !categories::finish_audit(&mut st, &req.appid, first, second, req.result, &req.reason) {
        return fail(StatusCode::NOT_FOUND, format!("{} has no category {first}/{second}", req.appid));
    }
    Json(json!({ "audit_status": req.result })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaReq {
    appid: Option<String>,
    signature_used: Option<u32>,
    signature_quota: Option<u32>,
    head_image_used: Option<u32>,
    head_image_quota: Option<u32>,
    nickname_used: Option<u32>,
    category_quota_used: Option<u32>,
    category_quota: Option<u32>,
    category_limit: Option<u32>,
    registrations_this_month: Option<u32>,
    pending_registration: Option<bool>,
    verified: Option<bool>,
    cgi_path: Option<String>,
    daily_limit: Option<u64>,
    used: Option<u64>,
}

fn set<T: Copy>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

pub(super) async fn quota(AxState(sh): Sh, body: Bytes) -> Response {
    let q: QuotaReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    if let Some(path) = &q.cgi_path {
        let entry = st
            .quotas
            .entry(path.clone())
            .or_insert(super::state::PathQuota { daily_limit: 1000, ..Default::default() });
        set(&mut entry.daily_limit, q.daily_limit);
        set(&mut entry.used, q.used);
    }
    if let Some(appid) = &q.appid {
        if let Some(mp) = st.mini_programs.get_mut(appid) {
            set(&mut mp.signature_used, q.signature_used);
            set(&mut mp.signature_quota, q.signature_quota);
            set(&mut mp.head_image_used, q.head_image_used);
            set(&mut mp.head_image_quota, q.head_image_quota);
            set(&mut mp.nickname_used, q.nickname_used);
            set(&mut mp.category_quota_used, q.category_quota_used);
            set(&mut mp.category_quota, q.category_quota);
            set(&mut mp.category_limit, q.category_limit);
        } else if let Some(oa) = st.official_accounts.get_mut(appid) {
            set(&mut oa.registrations_this_month, q.registrations_this_month);
            set(&mut oa.pending_registration, q.pending_registration);
            set(&mut oa.verified, q.verified);
        } else {
            return fail(StatusCode::NOT_FOUND, format!("no account {appid}"));
        }
    }
    Json(json!({ "ok": true })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhitelistReq {
    whitelisted: bool,
}

pub(super) async fn ip_whitelist(AxState(sh): Sh, body: Bytes) -> Response {
    let req: WhitelistReq = parse_or_return!(body);
    sh.lock_state().component.ip_whitelisted = req.whitelisted;
    Json(json!({ "whitelisted": req.whitelisted })).into_response()
}

#[derive(Deserialize)]
struct VerifyTicketReq {
    ticket: Option<String>,
}

/// Rotates the component verify ticket, as WeChat's push every 10 minutes does; the old one
/// then answers 61006.
pub(super) async fn verify_ticket(AxState(sh): Sh, body: Bytes) -> Response {
    let req: VerifyTicketReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    let ticket = req.ticket.unwrap_or_else(|| format!("ticket@@@{}", st.hex(40)));
    let old = std::mem::replace(&mut st.component.verify_ticket, ticket.clone());
    st.component.old_verify_tickets.push(old);
    Json(json!({ "ticket": ticket })).into_response()
}
