//! The simulator playing WeChat's push side: `POST /__sim/push` encrypts an event with
//! WeChat's message encryption and POSTs it to a callback URL (`wxprov serve`), as WeChat
//! pushes the component verify ticket every ten minutes and audit outcomes when they come.
//!
//! Body: `{url, token, encoding_aes_key, event, appid?, ret?, reason?, nickname?, first?,
//! second?, ticket?, screenshot?}` where `event` is `component_verify_ticket`, `authorized`,
//! `updateauthorized` (both with a fresh authorization code for `appid`), `unauthorized`,
//! `wxa_nickname_audit`, `wxa_category_audit`, or `weapp_audit_success` / `_fail` / `_delay`
//! (`reason`, and for a failure `screenshot`: media ids joined by `|`; `ToUserName` the
//! original id); `$APPID$` in `url` becomes `appid`. Answers `{status, body}` with what the
//! callback answered. Audits ending in the simulator push their outcome by themselves
//! ([`deliver`], to the configured callback: see `golive::audit`). The token and key are the platform's
//! (`WXPROV_TOKEN`, `WXPROV_ENCODING_AES_KEY`), given per push so tests choose them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::state::AuthCode;
use super::Shared;
use wechat_open::crypto::MsgCrypt;
use wechat_open::event::{AuditResult, Authorization, CodeAuditOutcome, Event, PushBody, Pushed};
use wechat_open::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    url: String,
    token: String,
    encoding_aes_key: String,
    event: String,
    #[serde(default)]
    appid: Option<String>,
    #[serde(default)]
    ret: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    first: Option<String>,
    #[serde(default)]
    second: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    /// `weapp_audit_fail`: media ids joined by `|`.
    #[serde(default)]
    screenshot: Option<String>,
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": msg.into() }))).into_response()
}

pub(super) async fn push(AxState(sh): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let req: PushRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("bad JSON: {e}")),
    };
    let component = sh.lock_state().component.appid.clone();
    let appid = req.appid.clone().unwrap_or_default();
    let event = match req.event.as_str() {
        "component_verify_ticket" => {
            let ticket = req.ticket.clone().unwrap_or_else(|| sh.lock_state().component.verify_ticket.clone());
            Event::ComponentVerifyTicket { ticket: Secret::new(ticket) }
        }
        "authorized" | "updateauthorized" => {
            // The merchant authorizes (again): WeChat pushes a fresh code; exchanging it issues a
            // new refresh token, and the account's old ones stop working (NOTES.md).
            let code = {
                let mut st = sh.lock_state();
                if !st.official_accounts.contains_key(&appid) && !st.mini_programs.contains_key(&appid) {
                    return bad(format!("no account {appid:?}"));
                }
                let code = st.new_secret("queryauthcode@@@");
                let now = super::state::now_ms();
                st.auth_codes.insert(code.clone(), AuthCode { appid: appid.clone(), used: false, created_ms: now });
                code
            };
            let a = Authorization {
                authorizer_appid: appid.clone(),
                authorization_code: Some(Secret::new(code)),
                authorization_code_expired_time: Some(chrono::Utc::now().timestamp() + 600),
                pre_auth_code: None,
            };
            if req.event == "authorized" {
                Event::Authorized(a)
            } else {
                Event::UpdateAuthorized(a)
            }
        }
        "unauthorized" => Event::Unauthorized { authorizer_appid: appid.clone() },
        "wxa_nickname_audit" => Event::NicknameAudit {
            ret: AuditResult::from_ret(req.ret.unwrap_or(3)),
            nickname: req.nickname.clone().unwrap_or_default(),
            reason: req.reason.clone().unwrap_or_default(),
        },
        "wxa_category_audit" => Event::CategoryAudit {
            ret: AuditResult::from_ret(req.ret.unwrap_or(3)),
            first: req.first.clone(),
            second: req.second.clone(),
            reason: req.reason.clone().unwrap_or_default(),
        },
        "weapp_audit_success" | "weapp_audit_fail" | "weapp_audit_delay" => {
            let outcome = match req.event.as_str() {
                "weapp_audit_success" => CodeAuditOutcome::Approved,
                "weapp_audit_fail" => CodeAuditOutcome::Rejected,
                _ => CodeAuditOutcome::Delayed,
            };
            let screenshots = req.screenshot.as_deref().unwrap_or("").split('|').filter(|m| !m.is_empty());
            Event::CodeAudit {
                outcome,
                time: Some(chrono::Utc::now().timestamp()),
                reason: req.reason.clone().unwrap_or_default(),
                screenshots: screenshots.map(String::from).collect(),
            }
        }
        other => return bad(format!("unknown event {other:?}")),
    };
    let component_event = matches!(
        event,
        Event::ComponentVerifyTicket { .. }
            | Event::Authorized(_)
            | Event::UpdateAuthorized(_)
            | Event::Unauthorized { .. }
    );
    // Code audit results name the mini-program by its original id, as WeChat's do.
    let recipient = match &event {
        Event::CodeAudit { .. } => super::state::original_id(&appid),
        _ => appid.clone(),
    };
    let pushed = Pushed {
        app_id: component_event.then(|| component.clone()),
        to_user_name: (!component_event).then_some(recipient),
        create_time: Some(chrono::Utc::now().timestamp()),
        event,
    };
    let url = req.url.replace("$APPID$", &appid);
    let target = Target { url: &url, token: &req.token, encoding_aes_key: &req.encoding_aes_key };
    match deliver(&sh.http, &component, &target, &pushed).await {
        Ok((status, body)) => Json(json!({ "status": status, "body": body })).into_response(),
        Err(Failure::Crypt(e)) => bad(format!("cannot encrypt: {e}")),
        Err(Failure::Unreachable(e)) => (StatusCode::BAD_GATEWAY, Json(json!({ "error": e }))).into_response(),
    }
}

/// Where a push goes: the callback URL and the platform's token and key.
pub(super) struct Target<'a> {
    pub url: &'a str,
    pub token: &'a str,
    pub encoding_aes_key: &'a str,
}

/// Why a push was not answered.
pub(super) enum Failure {
    /// The token or key cannot encrypt.
    Crypt(String),
    /// The callback could not be reached.
    Unreachable(String),
}

/// Encrypts `pushed` for `component` with the target's token and key and POSTs it, signed,
/// as WeChat does; answers the callback's status and body.
pub(super) async fn deliver(
    http: &reqwest::Client,
    component: &str,
    target: &Target<'_>,
    pushed: &Pushed,
) -> Result<(u16, String), Failure> {
    let crypt =
        MsgCrypt::new(target.token, target.encoding_aes_key, component).map_err(|e| Failure::Crypt(e.to_string()))?;
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("{}", rand::random::<u32>());
    let (encrypt, signature) = crypt.encrypt(&pushed.to_xml(), &timestamp, &nonce);
    let envelope = PushBody { to_user_name: pushed.to_user_name.clone(), app_id: pushed.app_id.clone(), encrypt };
    let sep = if target.url.contains('?') { '&' } else { '?' };
    let url =
        format!("{}{sep}timestamp={timestamp}&nonce={nonce}&msg_signature={signature}&encrypt_type=aes", target.url);
    let answer = http
        .post(&url)
        .header("content-type", "text/xml")
        .body(envelope.to_xml())
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    match answer {
        Ok(resp) => {
            let status = resp.status().as_u16();
            Ok((status, resp.text().await.unwrap_or_default()))
        }
        Err(e) => Err(Failure::Unreachable(e.without_url().to_string())),
    }
}
