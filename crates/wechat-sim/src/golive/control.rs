//! The go-live part of the control API (see `control` for the conventions), the sending of
//! audit pushes, and the clock that ends audits whose time has come.
//!
//! - `POST /__sim/template` `{template_id, user_version?, …, pages?, privacy_keys?,
//!   location_apis?}` (a fixture template) → `{template_id, templates}`: adds or replaces it.
//! - `POST /__sim/privacy_scan` `{appid}` → `{appid, finished}`: ends its running scan.
//! - `POST /__sim/code_audit` `{appid, result: "approve"|"reject"|"delay" (or 0|1|4),
//!   reason?, screenshot?: ["mid", …] or "mid|mid", push? (true)}` → `{auditid, status,
//!   push}`: ends (or delays) the mini-program's audit in review; `push` is the callback's
//!   answer `{url, status, answer}` when a callback is configured and `push` is not false
//!   (else null).
//! - `POST /__sim/audit_quota` `{limit?, rest?, speedup_limit?, speedup_rest?}` → the pool.
//! - `POST /__sim/icp` `{appid, status}` → `{appid, status}`.
//! - `POST /__sim/golive` `{…}`: replaces the named keys of the fixture's `golive` section
//!   (`code_audit`, `privacy_scan`, `unfiled_domains`, `platform_server_domains`,
//!   `platform_webview_domains`, `callback`, `undo_per_day`, `shapes`, …; unknown keys 400)
//!   → the whole section.
//! - `POST /__sim/callback` `{url, token, encoding_aes_key}` / `DELETE /__sim/callback`:
//!   where audit results are pushed (`$APPID$` in `url` becomes the appid).
//! - `GET /__sim/pushes`: every audit push sent, oldest first.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit::{self, Outgoing, PushRecord, APPROVED, DELAYED, REJECTED};
use super::rules::{Callback, GoliveFixture, Template};
use crate::control::fail;
use crate::push::{deliver, Failure, Target};
use crate::state::now_ms;
use crate::Shared;

type Sh = AxState<Arc<Shared>>;

macro_rules! parse_or_return {
    ($body:expr) => {
        match crate::control::parse(&$body) {
            Ok(v) => v,
            Err(msg) => return fail(StatusCode::BAD_REQUEST, msg),
        }
    };
}

/// Sends what the outbox holds, records each push, and answers the records.
pub(crate) async fn send_pushes(sh: &Arc<Shared>) -> Vec<PushRecord> {
    let (outgoing, component): (Vec<Outgoing>, String) = {
        let mut st = sh.lock_state();
        (std::mem::take(&mut st.golive.outbox), st.component.appid.clone())
    };
    let mut records = Vec::new();
    for o in outgoing {
        let target = Target { url: &o.url, token: &o.token, encoding_aes_key: &o.encoding_aes_key };
        let (status, answer) = match deliver(&sh.http, &component, &target, &o.pushed).await {
            Ok((status, body)) => (Some(status), body),
            Err(Failure::Crypt(e)) => (None, format!("cannot encrypt: {e}")),
            Err(Failure::Unreachable(e)) => (None, format!("callback unreachable: {e}")),
        };
        let event = match &o.pushed.event {
            wechat_open::event::Event::CodeAudit { outcome, .. } => outcome.event().to_string(),
            _ => String::new(),
        };
        if status.is_none_or(|s| s != 200) {
            tracing::warn!(appid = %o.appid, "the simulator's {event} push got no success: {answer}");
        }
        records.push(PushRecord {
            at_ms: now_ms(),
            appid: o.appid,
            auditid: o.auditid,
            event,
            url: o.url,
            status,
            answer,
        });
    }
    if !records.is_empty() {
        sh.lock_state().golive.pushes.extend(records.iter().cloned());
        sh.save().await;
    }
    records
}

/// Sends the outbox's pushes in the background, if it holds any.
pub(crate) fn send_pushes_later(sh: &Arc<Shared>) {
    if sh.lock_state().golive.outbox.is_empty() {
        return;
    }
    let sh = Arc::clone(sh);
    tokio::spawn(async move {
        send_pushes(&sh).await;
    });
}

/// Ends the audits whose time has come, once a second, and pushes their outcomes; stops when
/// the simulator does (the last `Shared` other than its own is gone).
pub(crate) fn start_clock(sh: &Arc<Shared>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(sh);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(sh) = weak.upgrade() else { return };
            let decided = audit::settle_due(&mut sh.lock_state(), now_ms());
            if decided {
                send_pushes(&sh).await;
                sh.save().await;
            }
        }
    })
}

pub(crate) async fn template(AxState(sh): Sh, body: Bytes) -> Response {
    let t: Template = parse_or_return!(body);
    let id = t.template_id;
    let mut st = sh.lock_state();
    if let Err(e) = super::template::put(&mut st, t) {
        return fail(StatusCode::BAD_REQUEST, e);
    }
    Json(json!({ "template_id": id, "templates": st.golive.config.templates.len() })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppidReq {
    appid: String,
}

pub(crate) async fn privacy_scan(AxState(sh): Sh, body: Bytes) -> Response {
    let req: AppidReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    let Some(mp) = st.mini_programs.get_mut(&req.appid) else {
        return fail(StatusCode::NOT_FOUND, format!("no mini-program {}", req.appid));
    };
    let Some(scan) = mp.golive.scan.as_mut() else {
        return fail(StatusCode::NOT_FOUND, format!("{} has committed no code", req.appid));
    };
    scan.finished = true;
    Json(json!({ "appid": req.appid, "finished": true })).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ResultReq {
    Word(String),
    Status(i64),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shots {
    List(Vec<String>),
    Joined(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeAuditReq {
    appid: String,
    result: ResultReq,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    screenshot: Option<Shots>,
    #[serde(default = "yes")]
    push: bool,
}

fn yes() -> bool {
    true
}

pub(crate) async fn code_audit(AxState(sh): Sh, body: Bytes) -> Response {
    let req: CodeAuditReq = parse_or_return!(body);
    let status = match req.result {
        ResultReq::Word(w) if w == "approve" => APPROVED,
        ResultReq::Word(w) if w == "reject" => REJECTED,
        ResultReq::Word(w) if w == "delay" => DELAYED,
        ResultReq::Status(s) if [APPROVED, REJECTED, DELAYED].contains(&s) => s,
        _ => return fail(StatusCode::BAD_REQUEST, "result must be approve, reject or delay (0, 1 or 4)"),
    };
    let shots = match req.screenshot {
        None => Vec::new(),
        Some(Shots::List(v)) => v,
        Some(Shots::Joined(s)) => s.split('|').filter(|m| !m.is_empty()).map(String::from).collect(),
    };
    let auditid = {
        let mut st = sh.lock_state();
        let Some(id) = audit::running_of(&st, &req.appid) else {
            return fail(StatusCode::NOT_FOUND, format!("{} has no code audit in review", req.appid));
        };
        let before = st.golive.outbox.len();
        if let Err(e) = audit::decide(&mut st, id, status, &req.reason, shots, now_ms()) {
            return fail(StatusCode::CONFLICT, e);
        }
        if !req.push {
            st.golive.outbox.truncate(before);
        }
        id
    };
    let pushed = send_pushes(&sh).await;
    let push = pushed
        .iter()
        .find(|p| p.auditid == auditid)
        .map(|p| json!({ "url": p.url, "status": p.status, "answer": p.answer }));
    Json(json!({ "auditid": auditid, "status": status, "push": push })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaReq {
    limit: Option<u32>,
    rest: Option<u32>,
    speedup_limit: Option<u32>,
    speedup_rest: Option<u32>,
}

pub(crate) async fn audit_quota(AxState(sh): Sh, body: Bytes) -> Response {
    let req: QuotaReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    let pool = &mut st.golive.pool;
    pool.roll(now_ms());
    for (slot, v) in [
        (&mut pool.limit, req.limit),
        (&mut pool.rest, req.rest),
        (&mut pool.speedup_limit, req.speedup_limit),
        (&mut pool.speedup_rest, req.speedup_rest),
    ] {
        if let Some(v) = v {
            *slot = v;
        }
    }
    Json(json!(pool)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IcpReq {
    appid: String,
    status: i64,
}

pub(crate) async fn icp(AxState(sh): Sh, body: Bytes) -> Response {
    let req: IcpReq = parse_or_return!(body);
    let mut st = sh.lock_state();
    if !st.mini_programs.contains_key(&req.appid) {
        return fail(StatusCode::NOT_FOUND, format!("no mini-program {}", req.appid));
    }
    st.golive.config.icp.insert(req.appid.clone(), req.status);
    Json(json!({ "appid": req.appid, "status": req.status })).into_response()
}

pub(crate) async fn settings(AxState(sh): Sh, body: Bytes) -> Response {
    let patch: serde_json::Map<String, Value> = parse_or_return!(body);
    let mut st = sh.lock_state();
    let mut whole = match serde_json::to_value(&st.golive.config) {
        Ok(Value::Object(m)) => m,
        _ => return fail(StatusCode::INTERNAL_SERVER_ERROR, "the golive settings do not serialize"),
    };
    whole.extend(patch);
    let config: GoliveFixture = match serde_json::from_value(Value::Object(whole)) {
        Ok(c) => c,
        Err(e) => return fail(StatusCode::BAD_REQUEST, format!("bad golive settings: {e}")),
    };
    if let Err(e) = config.check() {
        return fail(StatusCode::BAD_REQUEST, e);
    }
    st.golive.config = config;
    Json(json!(st.golive.config)).into_response()
}

pub(crate) async fn set_callback(AxState(sh): Sh, body: Bytes) -> Response {
    let cb: Callback = parse_or_return!(body);
    sh.lock_state().golive.config.callback = Some(cb);
    Json(json!({ "ok": true })).into_response()
}

pub(crate) async fn clear_callback(AxState(sh): Sh) -> Response {
    sh.lock_state().golive.config.callback = None;
    Json(json!({ "ok": true })).into_response()
}

pub(crate) async fn pushes(AxState(sh): Sh) -> Response {
    Json(json!(sh.lock_state().golive.pushes)).into_response()
}
