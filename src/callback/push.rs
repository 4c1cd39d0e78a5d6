//! The two encrypted push routes (DESIGN §7): `POST /callback/component` (authorization
//! events: the verify ticket, authorizations, fast registrations) and `POST /callback/events`
//! (the mini-programs' messages: nickname, category and code reviews).
//!
//! A push is trusted only after every check has passed, in this order: the receiver is
//! configured, the query has `timestamp`, `nonce` and `msg_signature` (and `encrypt_type`, if
//! given, is `aes`), the timestamp is within `--max-skew` of now (an hour by default; a push
//! taken with a skew over 5 minutes is logged as a warning about the clock), the body is at
//! most 64 KB of well-formed XML with `<Encrypt>`, the signature matches, the message decrypts
//! for the component appid, the event inside reads, and its `(timestamp, nonce)` was not taken
//! before (the ledger remembers, across restarts). Anything else is refused (400, 403, 413 or
//! 503) and recorded; it is never stored as data. WeChat is answered a plain `success` once
//! the push is handled — a user's plain message (`MsgType` `text`, …) included, which is
//! recorded without its content.
//!
//! WeChat's message URL for a third-party platform is usually configured as
//! `…/callback/events/$APPID$`, WeChat putting the mini-program's appid in the path; that form
//! is accepted too, and it is how a review event (which names the account only by its
//! original id, `gh_…`) is tied to a mini-program when its XML carries no appid.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::Params;
use super::refusal::Refusal;
use super::replay::CLOCK_WARNING_SECS;
use super::server::{Peer, ServerState};
use crate::ledger::{AuditKind, CallbackOutcome, LedgerError, TicketKind};
use crate::lifecycle::{code_rejection, CODE_APPROVED, CODE_DELAYED, CODE_REJECTED};
use wechat_open::appid::{self, Appid};
use wechat_open::event::{CodeAuditOutcome, Event, PushBody, Pushed};

pub const COMPONENT_PATH: &str = "/callback/component";
pub const EVENTS_PATH: &str = "/callback/events";
pub const EVENTS_FOR_PATH: &str = "/callback/events/{appid}";

/// The `kind` recorded for a push refused before its event type is known.
const UNKNOWN_KIND: &str = "push";

/// The longest event type or WeChat message kept in `callback_events`.
const MAX_RECORDED: usize = 200;

/// `POST /callback/component`
pub async fn component(
    State(state): State<ServerState>,
    peer: Peer,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&state, COMPONENT_PATH, None, peer, query.as_deref(), body).await
}

/// `POST /callback/events`
pub async fn events(
    State(state): State<ServerState>,
    peer: Peer,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&state, EVENTS_PATH, None, peer, query.as_deref(), body).await
}

/// `POST /callback/events/{appid}`: the mini-program's appid in the path (`$APPID$`).
pub async fn events_for(
    State(state): State<ServerState>,
    peer: Peer,
    appid: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let appid = match appid.map(|Path(appid)| Appid::parse(&appid)) {
        Ok(Ok(appid)) => appid,
        _ => {
            let refusal = Refusal::BadParam { name: "appid", expected: appid::FORM };
            return refuse(&state, EVENTS_PATH, peer, refusal).await;
        }
    };
    handle(&state, EVENTS_PATH, Some(appid.as_str()), peer, query.as_deref(), body).await
}

/// What was checked of a push before its event is acted on.
struct Opened {
    timestamp: String,
    nonce: String,
    /// How far the timestamp was from this host's clock, in seconds.
    skew: i64,
    outer: PushBody,
    pushed: Pushed,
}

async fn handle(
    state: &ServerState,
    path: &'static str,
    path_appid: Option<&str>,
    peer: Peer,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let opened = match open(state, query, body) {
        Ok(opened) => opened,
        Err(refusal) => return refuse(state, path, peer, refusal).await,
    };
    let ledger = state.ledger();
    match state.replay().check_and_remember(ledger, &opened.timestamp, &opened.nonce).await {
        Ok(true) => {}
        Ok(false) => return refuse(state, path, peer, Refusal::Replayed).await,
        Err(e) => return not_stored(path, &e),
    }
    if opened.skew > CLOCK_WARNING_SECS {
        tracing::warn!(
            path,
            skew_secs = opened.skew,
            "a push's timestamp is {} s from this host's clock; check the clock (NTP)",
            opened.skew
        );
    }
    match act(state, path, path_appid, &opened).await {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "success").into_response(),
        Err(e) => {
            // Let WeChat's retry of this push in: it was not stored.
            if let Err(e) = state.replay().forget(ledger, &opened.timestamp, &opened.nonce).await {
                tracing::error!(path, "could not forget the nonce of a push that was not stored: {e}");
            }
            not_stored(path, &e)
        }
    }
}

/// The answer when the ledger failed: WeChat retries the push later.
fn not_stored(path: &str, e: &LedgerError) -> Response {
    tracing::error!(path, "could not store a push: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, "the push could not be stored; retry later\n").into_response()
}

async fn refuse(state: &ServerState, path: &'static str, peer: Peer, refusal: Refusal) -> Response {
    state.refuse(path, UNKNOWN_KIND, None, peer, &refusal).await;
    let text = format!("refused: {refusal}\n");
    (refusal.status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// Runs every check of a push and opens it.
fn open(state: &ServerState, query: Option<&str>, body: Result<Bytes, BytesRejection>) -> Result<Opened, Refusal> {
    let crypt = state.crypt()?;
    let params = Params::parse(query);
    let timestamp = params.required("timestamp")?;
    let nonce = params.required("nonce")?;
    let msg_signature = params.required("msg_signature")?;
    if params.optional("encrypt_type")?.is_some_and(|t| t != "aes") {
        return Err(Refusal::NotAes);
    }
    let when: i64 =
        timestamp.parse().map_err(|_| Refusal::BadParam { name: "timestamp", expected: "a Unix time in seconds" })?;
    let skew = state.replay().check_time(when, crate::ledger::now_secs())?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::TooLarge
        } else {
            Refusal::BodyUnreadable
        }
    })?;
    let outer = PushBody::parse(&body).map_err(|e| Refusal::BadBody(e.into()))?;
    let inner =
        crypt.decrypt(msg_signature, timestamp, nonce, &outer.encrypt).map_err(|e| Refusal::Crypto(e.into()))?;
    let pushed = Pushed::parse(inner.as_bytes()).map_err(|e| Refusal::BadEvent(e.into()))?;
    Ok(Opened { timestamp: timestamp.to_string(), nonce: nonce.to_string(), skew, outer, pushed })
}

fn bounded(text: &str) -> String {
    text.chars().take(MAX_RECORDED).collect()
}

/// Stores or records what a trusted push says.
async fn act(
    state: &ServerState,
    path: &'static str,
    path_appid: Option<&str>,
    opened: &Opened,
) -> Result<(), LedgerError> {
    let ledger = state.ledger();
    let stored = CallbackOutcome::Stored;
    match &opened.pushed.event {
        Event::ComponentVerifyTicket { ticket } => {
            // `open` succeeded, so the receiver has its keys.
            let component = state.crypt().map(|c| c.appid().to_string()).unwrap_or_default();
            ledger.put_ticket(TicketKind::ComponentVerify, &component, ticket.expose()).await?;
            ledger.record_callback(path, "component_verify_ticket", Some(&component), stored, None).await?;
            tracing::debug!(path, "stored a component_verify_ticket");
        }
        Event::Authorized(a) | Event::UpdateAuthorized(a) => {
            let kind =
                if matches!(opened.pushed.event, Event::Authorized(_)) { "authorized" } else { "updateauthorized" };
            let detail = exchange(state, a, kind).await;
            ledger.record_callback(path, kind, Some(&a.authorizer_appid), stored, Some(&detail)).await?;
            tracing::info!(path, appid = %a.authorizer_appid, "recorded {kind}: {detail}");
        }
        Event::Unauthorized { authorizer_appid } => {
            ledger.record_callback(path, "unauthorized", Some(authorizer_appid), stored, None).await?;
            tracing::info!(path, appid = %authorizer_appid, "recorded unauthorized");
        }
        Event::FastRegister(r) => {
            let detail = bounded(&format!("status {}: {}", r.status, r.msg));
            ledger
                .record_callback(path, "notify_third_fasteregister", r.appid.as_deref(), stored, Some(&detail))
                .await?;
            tracing::info!(
                path,
                appid = r.appid.as_deref().unwrap_or(""),
                status = r.status,
                "recorded a fast registration"
            );
        }
        Event::NicknameAudit { ret, nickname, reason } => {
            audit(state, path, path_appid, opened, AuditKind::Nickname, ret.ret(), Some(nickname), reason).await?;
        }
        Event::CategoryAudit { ret, reason, .. } => {
            audit(state, path, path_appid, opened, AuditKind::Categories, ret.ret(), None, reason).await?;
        }
        Event::CodeAudit { outcome, reason, screenshots, .. } => {
            let (ret, reason) = match outcome {
                CodeAuditOutcome::Approved => (CODE_APPROVED, String::new()),
                CodeAuditOutcome::Rejected => (CODE_REJECTED, code_rejection(reason, screenshots)),
                CodeAuditOutcome::Delayed => (CODE_DELAYED, reason.clone()),
            };
            audit(state, path, path_appid, opened, AuditKind::Code, ret, None, &reason).await?;
        }
        Event::Other { kind, .. } => {
            ledger.record_callback(path, &bounded(kind), None, CallbackOutcome::Ignored, None).await?;
            tracing::debug!(path, "ignored a push of a type wxprov does not use");
        }
        Event::Message { msg_type } => {
            // A user wrote to the account; wxprov answers no messages (its content is not kept).
            let appid = audit_appid(state, path_appid, opened);
            let detail = "a user's message; wxprov does not reply to messages";
            ledger
                .record_callback(path, &bounded(msg_type), appid.as_deref(), CallbackOutcome::Ignored, Some(detail))
                .await?;
            tracing::debug!(path, "recorded a user's {msg_type} message");
        }
    }
    Ok(())
}

/// The mini-program a review event is about: the appid in the path, else an appid-shaped
/// `ToUserName` (outer or inner) or `AppId` that is not the component's.
fn audit_appid(state: &ServerState, path_appid: Option<&str>, opened: &Opened) -> Option<String> {
    let component = state.crypt().map(|c| c.appid().to_string()).unwrap_or_default();
    let candidates = [
        path_appid,
        opened.pushed.to_user_name.as_deref(),
        opened.outer.to_user_name.as_deref(),
        opened.pushed.app_id.as_deref(),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|a| Appid::parse(a).ok())
        .find(|a| a.as_str() != component)
        .map(String::from)
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    state: &ServerState,
    path: &'static str,
    path_appid: Option<&str>,
    opened: &Opened,
    kind: AuditKind,
    ret: i64,
    nickname: Option<&str>,
    reason: &str,
) -> Result<(), LedgerError> {
    let event = match kind {
        AuditKind::Nickname => "wxa_nickname_audit",
        AuditKind::Categories => "wxa_category_audit",
        AuditKind::Code => match ret {
            CODE_APPROVED => "weapp_audit_success",
            CODE_REJECTED => "weapp_audit_fail",
            _ => "weapp_audit_delay",
        },
    };
    let ledger = state.ledger();
    let Some(appid) = audit_appid(state, path_appid, opened) else {
        let detail = "no mini-program appid in the push; configure the message URL as …/callback/events/$APPID$";
        ledger.record_callback(path, event, None, CallbackOutcome::Ignored, Some(detail)).await?;
        tracing::warn!(path, "a {event} push names no mini-program appid; it was not applied");
        return Ok(());
    };
    let changed = ledger.apply_audit_event(kind, &appid, ret, nickname, reason).await?;
    let detail = format!("ret {ret}; {changed} step(s) moved on");
    ledger.record_callback(path, event, Some(&appid), CallbackOutcome::Stored, Some(&detail)).await?;
    tracing::info!(path, appid = %appid, ret, changed, "recorded {event}");
    Ok(())
}

/// How long an exchange may take: WeChat wants its answer within 5 s.
const EXCHANGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// Exchanges the `AuthorizationCode` of an `authorized` / `updateauthorized` push at once
/// (`api_query_auth`) and stores the new refresh token — after a re-authorization the old one
/// may stop working (NOTES.md). Says what happened, for `callback_events`; a failure is
/// recorded, never a reason to refuse the push. No token or code is in the text.
async fn exchange(state: &ServerState, a: &wechat_open::event::Authorization, kind: &str) -> String {
    let Some(code) = &a.authorization_code else { return "no authorization code in the push".into() };
    let Some(api) = state.api() else {
        return "authorization code not exchanged: WXPROV_COMPONENT_SECRET is not set for serve".into();
    };
    let appid = a.authorizer_appid.clone();
    let req = wechat_open::api::ApiQueryAuth {
        component_appid: api.component_appid().to_string(),
        authorization_code: code.expose().to_string(),
    };
    let work = async {
        let answer = api.call_component(&req).await?.authorization_info;
        if answer.authorizer_appid != appid {
            return Ok(Err(format!("the code is for {}, not {appid}", answer.authorizer_appid)));
        }
        api.store_authorization(&answer, kind).await?;
        Ok::<_, wechat_open::ApiError>(Ok(()))
    };
    let outcome = tokio::time::timeout(EXCHANGE_TIMEOUT, work).await;
    api.calls.flush();
    let failed = |why: String| format!("authorization code not exchanged ({why}); run `wxprov tokens recover`");
    match outcome {
        Ok(Ok(Ok(()))) => "authorization code exchanged; refresh token stored".into(),
        Ok(Ok(Err(why))) => failed(why),
        Ok(Err(e)) => failed(match e.errcode() {
            Some(code) => format!("errcode {code}"),
            None => "WeChat did not answer".into(),
        }),
        Err(_) => failed("timed out".into()),
    }
}
