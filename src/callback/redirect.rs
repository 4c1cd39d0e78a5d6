//! The two redirect routes: the merchant's browser comes back from WeChat with a ticket
//! (`fastregisterauth`) or a taskid (`componentrebindadmin`) after the scan, and the
//! receiver keeps it in the ledger for the next run (DESIGN §7).
//!
//! Each `redirect_uri` that `wxprov links` makes carries a `state`, an HMAC of the account
//! under the ledger's link key ([`link_state`](super::link_state)); a ticket or taskid is
//! stored only when it verifies, so nobody else can overwrite a stored ticket by calling the
//! route. The person at the other end is a merchant on a phone, so the answer is a short page
//! in Chinese, never an error dump. Bad input is refused with a page and recorded; the ticket
//! itself never goes into a log line or `callback_events`.

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::{self, Params};
use super::refusal::Refusal;
use super::server::{Peer, ServerState};
use crate::ledger::{CallbackOutcome, TicketKind};
use wechat_open::Appid;

pub const FASTREGISTER_PATH: &str = "/callback/fastregister";
pub const REBIND_PATH: &str = "/callback/rebind";

/// One redirect route: which parameters it reads and what it stores.
struct Spec {
    path: &'static str,
    kind: TicketKind,
    account: &'static str,
    value: &'static str,
    done: &'static str,
}

const FASTREGISTER: Spec = Spec {
    path: FASTREGISTER_PATH,
    kind: TicketKind::FastRegister,
    account: "official_appid",
    value: "ticket",
    done: "授权成功，请关闭此页面。服务商将继续为您注册小程序。",
};

const REBIND: Spec = Spec {
    path: REBIND_PATH,
    kind: TicketKind::Rebind,
    account: "appid",
    value: "taskid",
    done: "授权成功，请关闭此页面。服务商将继续为您完成管理员换绑。",
};

/// `GET /callback/fastregister?official_appid=…&state=…&ticket=…`
pub async fn fastregister(State(state): State<ServerState>, peer: Peer, RawQuery(query): RawQuery) -> Response {
    redirect(&state, &FASTREGISTER, peer, query.as_deref()).await
}

/// `GET /callback/rebind?appid=…&state=…&taskid=…`
pub async fn rebind(State(state): State<ServerState>, peer: Peer, RawQuery(query): RawQuery) -> Response {
    redirect(&state, &REBIND, peer, query.as_deref()).await
}

async fn redirect(state: &ServerState, spec: &Spec, peer: Peer, query: Option<&str>) -> Response {
    let params = Params::parse(query);
    let kind = spec.kind.as_str();
    let key = match state.link_key().await {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(path = spec.path, "could not read the link key from the ledger: {e}");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法完成",
                "暂时无法保存授权信息，请稍后刷新此页面重试。",
            );
        }
    };
    let checked = params::appid(&params, spec.account).and_then(|account| {
        match params.optional("state")? {
            None => return Err(Refusal::MissingState),
            Some(state) if !key.verifies(account.as_str(), state) => return Err(Refusal::BadState),
            Some(_) => {}
        }
        Ok((account, params::ticket(&params, spec.value)?))
    });
    let (account, value) = match checked {
        Ok(pair) => pair,
        Err(refusal) => {
            // The account is recorded when it at least looks like one.
            let account = params::appid(&params, spec.account).ok();
            state.refuse(spec.path, kind, account.as_ref().map(Appid::as_str), peer, &refusal).await;
            let text = match refusal {
                Refusal::MissingState | Refusal::BadState => {
                    "这个链接不是服务商发出的，或已被改动，授权信息未保存。请使用服务商发给您的授权链接重新扫码；如仍有问题，请联系服务商。"
                }
                _ => "授权信息不完整或格式有误。请重新扫码授权；如仍有问题，请联系服务商。",
            };
            return page(refusal.status(), "链接无效", text);
        }
    };
    let account = account.as_str();
    let ledger = state.ledger();
    let stored = async {
        ledger.put_ticket(spec.kind, account, value).await?;
        ledger.record_callback(spec.path, kind, Some(account), CallbackOutcome::Stored, None).await
    };
    match stored.await {
        Ok(()) => {
            tracing::info!(path = spec.path, appid = account, "stored a {kind} ticket");
            page(StatusCode::OK, "授权成功", spec.done)
        }
        Err(e) => {
            tracing::error!(path = spec.path, appid = account, "could not store a {kind} ticket: {e}");
            page(StatusCode::INTERNAL_SERVER_ERROR, "暂时无法完成", "暂时无法保存授权信息，请稍后刷新此页面重试。")
        }
    }
}

/// A short UTF-8 HTML page.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body style=\"font-family: sans-serif; text-align: center; padding: 3em 1em\">\
         <h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
