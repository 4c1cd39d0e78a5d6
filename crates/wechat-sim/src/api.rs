//! How every simulated API call is served: one pipeline for all endpoints.
//!
//! WeChat's endpoints share their envelope (token in the query, JSON in, `errcode` out, HTTP
//! 200 even on errors), so one handler does the common part in a fixed order: latency, body
//! parsing, token resolution, fault injection, method check, the 45009 daily quota, then the
//! endpoint's own rules ([`Endpoint::handle`]) under the state lock, and finally the call log.
//! Endpoint rules live in their own modules (`token`, `register`, `account`, `nickname`,
//! `categories`, `media`) as synchronous functions over [`State`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::calllog::{raw, redact, CallRecord};
use super::conn::ConnKill;
use super::faults::{Fault, FaultKind};
use super::state::{now_ms, Owner, State};
use super::{account, categories, golive, media, nickname, register, token, Shared};

/// The largest request body read (media over 2 MB must still arrive to be refused with 40009).
pub(super) const MAX_BODY: usize = 16 * 1024 * 1024;

/// A WeChat error answer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    pub errcode: i64,
    pub errmsg: String,
    /// Fields some errors still carry (`modify_domain`'s lists), else `Null`.
    pub fields: Value,
}

/// Builds an [`ApiError`].
pub(super) fn err(errcode: i64, errmsg: impl Into<String>) -> ApiError {
    ApiError { errcode, errmsg: errmsg.into(), fields: Value::Null }
}

impl ApiError {
    /// The error with these fields beside errcode and errmsg.
    pub(super) fn with_fields(self, fields: Value) -> ApiError {
        ApiError { fields, ..self }
    }
}

/// A successful answer: its fields (besides errcode/errmsg) and whether state changed.
#[derive(Debug)]
pub(super) struct Done {
    pub body: Value,
    pub effect: bool,
}

pub(super) type Reply = Result<Done, ApiError>;

/// Success without a business effect.
pub(super) fn ok(body: Value) -> Reply {
    Ok(Done { body, effect: false })
}

/// Success that changed state.
pub(super) fn changed(body: Value) -> Reply {
    Ok(Done { body, effect: true })
}

/// What a call carries besides its token.
pub(super) struct Ctx<'a> {
    /// The authorizer appid the token is bound to (None for component calls).
    pub appid: Option<&'a str>,
    pub now: u64,
    pub body: &'a Value,
    pub upload: Option<&'a Upload>,
    /// The query string's parameters (the access token among them).
    pub query: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    /// The authorizer appid; the pipeline guarantees it for authorizer endpoints.
    pub(super) fn appid(&self) -> Result<&str, ApiError> {
        self.appid.ok_or_else(|| err(40001, "invalid credential, access_token is invalid"))
    }
    pub(super) fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
    pub(super) fn i64(&self, key: &str) -> Option<i64> {
        as_i64(self.body.get(key)?)
    }
    pub(super) fn f64(&self, key: &str) -> Option<f64> {
        match self.body.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// An integer sent as a number or a numeric string.
pub(super) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A multipart media upload, as received.
#[derive(Debug)]
pub(super) struct Upload {
    /// The `type` query parameter.
    pub kind: Option<String>,
    pub file: Option<UploadFile>,
}

#[derive(Debug)]
pub(super) struct UploadFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// What the bytes decoded to; `None` when they are no image format at all.
    pub decoded: Option<media::Decoded>,
}

/// Which token an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    None,
    Component,
    /// The component's token, given as `access_token` (the go-live calls, golive.md) or as
    /// `component_access_token`.
    ComponentAsAccessToken,
    Authorizer,
}

/// Every simulated endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    ComponentToken,
    QueryAuth,
    AuthorizerToken,
    AuthorizerList,
    AuthorizerInfo,
    FastRegister,
    RebindAdmin,
    BasicInfo,
    CheckNickname,
    SetNickname,
    QueryNickname,
    HeadImage,
    Signature,
    AllCategories,
    AddCategory,
    DeleteCategory,
    ModifyCategory,
    GetCategory,
    QuotaGet,
    MediaUpload,
    /// The go-live endpoints (`golive`).
    Golive(golive::Endpoint),
}

impl Endpoint {
    pub(super) const ALL: [Endpoint; 20] = [
        Endpoint::ComponentToken,
        Endpoint::QueryAuth,
        Endpoint::AuthorizerToken,
        Endpoint::AuthorizerList,
        Endpoint::AuthorizerInfo,
        Endpoint::FastRegister,
        Endpoint::RebindAdmin,
        Endpoint::BasicInfo,
        Endpoint::CheckNickname,
        Endpoint::SetNickname,
        Endpoint::QueryNickname,
        Endpoint::HeadImage,
        Endpoint::Signature,
        Endpoint::AllCategories,
        Endpoint::AddCategory,
        Endpoint::DeleteCategory,
        Endpoint::ModifyCategory,
        Endpoint::GetCategory,
        Endpoint::QuotaGet,
        Endpoint::MediaUpload,
    ];

    pub(super) fn path(self) -> &'static str {
        match self {
            Endpoint::ComponentToken => "/cgi-bin/component/api_component_token",
            Endpoint::QueryAuth => "/cgi-bin/component/api_query_auth",
            Endpoint::AuthorizerToken => "/cgi-bin/component/api_authorizer_token",
            Endpoint::AuthorizerList => "/cgi-bin/component/api_get_authorizer_list",
            Endpoint::AuthorizerInfo => "/cgi-bin/component/api_get_authorizer_info",
            Endpoint::FastRegister => "/cgi-bin/account/fastregister",
            Endpoint::RebindAdmin => "/cgi-bin/account/componentrebindadmin",
            Endpoint::BasicInfo => "/cgi-bin/account/getaccountbasicinfo",
            Endpoint::CheckNickname => "/cgi-bin/wxverify/checkwxverifynickname",
            Endpoint::SetNickname => "/wxa/setnickname",
            Endpoint::QueryNickname => "/wxa/api_wxa_querynickname",
            Endpoint::HeadImage => "/cgi-bin/account/modifyheadimage",
            Endpoint::Signature => "/cgi-bin/account/modifysignature",
            Endpoint::AllCategories => "/cgi-bin/wxopen/getallcategories",
            Endpoint::AddCategory => "/cgi-bin/wxopen/addcategory",
            Endpoint::DeleteCategory => "/cgi-bin/wxopen/deletecategory",
            Endpoint::ModifyCategory => "/cgi-bin/wxopen/modifycategory",
            Endpoint::GetCategory => "/cgi-bin/wxopen/getcategory",
            Endpoint::QuotaGet => "/cgi-bin/openapi/quota/get",
            Endpoint::MediaUpload => "/cgi-bin/media/upload",
            Endpoint::Golive(g) => g.path(),
        }
    }

    /// Every endpoint, the go-live ones included.
    pub(super) fn all() -> impl Iterator<Item = Endpoint> {
        Endpoint::ALL.into_iter().chain(golive::Endpoint::ALL.into_iter().map(Endpoint::Golive))
    }

    pub(super) fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::all().find(|e| e.path() == path)
    }

    pub(super) fn token(self) -> TokenKind {
        match self {
            Endpoint::ComponentToken => TokenKind::None,
            Endpoint::QueryAuth | Endpoint::AuthorizerToken | Endpoint::AuthorizerList | Endpoint::AuthorizerInfo => {
                TokenKind::Component
            }
            Endpoint::Golive(g) => g.token(),
            _ => TokenKind::Authorizer,
        }
    }

    /// GET endpoints; they accept POST as well (one document says POST for basic info).
    fn is_get(self) -> bool {
        match self {
            Endpoint::Golive(g) => g.is_get(),
            _ => matches!(self, Endpoint::BasicInfo | Endpoint::AllCategories | Endpoint::GetCategory),
        }
    }

    /// The multipart field that carries the file, for the upload endpoints.
    fn multipart_field(self) -> Option<&'static str> {
        match self {
            Endpoint::MediaUpload => Some("media"),
            Endpoint::Golive(g) => g.multipart_field(),
            _ => None,
        }
    }

    /// GET endpoints that refuse POST (43001).
    fn get_only(self) -> bool {
        matches!(self, Endpoint::Golive(g) if g.get_only())
    }

    /// Random faults spare the two token-issuing calls: they are rare, and their failures are
    /// better tested with scheduled faults.
    fn random_faults(self) -> bool {
        !matches!(self, Endpoint::ComponentToken | Endpoint::AuthorizerToken)
    }

    fn handle(self, st: &mut State, ctx: &Ctx) -> Reply {
        match self {
            Endpoint::ComponentToken => token::component_token(st, ctx),
            Endpoint::QueryAuth => token::query_auth(st, ctx),
            Endpoint::AuthorizerToken => token::authorizer_token(st, ctx),
            Endpoint::AuthorizerList => token::authorizer_list(st, ctx),
            Endpoint::AuthorizerInfo => token::authorizer_info(st, ctx),
            Endpoint::FastRegister => register::fastregister(st, ctx),
            Endpoint::RebindAdmin => register::rebind_admin(st, ctx),
            Endpoint::BasicInfo => account::basic_info(st, ctx),
            Endpoint::CheckNickname => nickname::check(st, ctx),
            Endpoint::SetNickname => nickname::set(st, ctx),
            Endpoint::QueryNickname => nickname::query(st, ctx),
            Endpoint::HeadImage => account::modify_head_image(st, ctx),
            Endpoint::Signature => account::modify_signature(st, ctx),
            Endpoint::AllCategories => categories::all(st, ctx),
            Endpoint::AddCategory => categories::add(st, ctx),
            Endpoint::DeleteCategory => categories::delete(st, ctx),
            Endpoint::ModifyCategory => categories::modify(st, ctx),
            Endpoint::GetCategory => categories::get(st, ctx),
            Endpoint::QuotaGet => account::quota_get(st, ctx),
            Endpoint::MediaUpload => media::upload(st, ctx),
            Endpoint::Golive(g) => g.handle(st, ctx),
        }
    }
}

/// The appid an access token acts for, or the errcode WeChat gives for it.
fn resolve_token(
    st: &State,
    kind: TokenKind,
    query: &HashMap<String, String>,
    now: u64,
) -> Result<Option<String>, ApiError> {
    let key = match kind {
        TokenKind::None => return Ok(None),
        TokenKind::Component => "component_access_token",
        TokenKind::ComponentAsAccessToken | TokenKind::Authorizer => "access_token",
    };
    // The go-live documents send the component's token as `access_token`, the 2.0 ones and
    // wxprov's other component calls as `component_access_token`: either is taken there.
    let token = match kind {
        TokenKind::ComponentAsAccessToken => query.get(key).or_else(|| query.get("component_access_token")),
        _ => query.get(key),
    };
    let token = token.map(String::as_str).unwrap_or("");
    if token.is_empty() {
        return Err(err(41001, format!("access_token missing ({key})")));
    }
    let invalid = || err(40001, "invalid credential, access_token is invalid or not latest");
    let info = st.access_tokens.get(token).ok_or_else(invalid)?;
    let appid = match (&info.owner, kind) {
        (Owner::Component, TokenKind::Component | TokenKind::ComponentAsAccessToken) => None,
        (Owner::Authorizer(appid), TokenKind::Authorizer) => Some(appid.clone()),
        _ => return Err(invalid()),
    };
    if info.forced_expired || info.expires_ms <= now {
        return Err(err(42001, "access_token expired"));
    }
    Ok(appid)
}

/// The body as parsed for the handler, and as it goes into the call log.
struct Input {
    json: Result<Value, ApiError>,
    upload: Option<Upload>,
    logged: Value,
}

async fn read_input(ep: Endpoint, query: &HashMap<String, String>, req: Request) -> Input {
    if let Some(field) = ep.multipart_field() {
        return read_upload(query, req, field).await;
    }
    let is_post = req.method() == Method::POST;
    let bytes = match to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Input {
                json: Err(err(47001, "data format error: body unreadable or too large")),
                upload: None,
                logged: Value::Null,
            }
        }
    };
    if ep.is_get() && (!is_post || bytes.iter().all(u8::is_ascii_whitespace)) {
        return Input { json: Ok(Value::Null), upload: None, logged: Value::Null };
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Input { json: Err(err(44002, "empty post data")), upload: None, logged: Value::Null };
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v @ Value::Object(_)) => Input { logged: redact(&v), json: Ok(v), upload: None },
        _ => Input {
            json: Err(err(47001, "data format error")),
            upload: None,
            logged: json!({ "unparsed_bytes": bytes.len() }),
        },
    }
}

async fn read_upload(query: &HashMap<String, String>, req: Request, file_field: &str) -> Input {
    let kind = query.get("type").cloned();
    let mut upload = Upload { kind: kind.clone(), file: None };
    let mut fields = Map::new();
    let mut bad = None;
    // A body that is not multipart at all has no media field: the handler answers 41005.
    if let Ok(mut mp) = Multipart::from_request(req, &()).await {
        let malformed = || err(47001, "data format error: bad multipart body");
        loop {
            let field = match mp.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(_) => {
                    bad = Some(malformed());
                    break;
                }
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().unwrap_or("").to_string();
            let content_type = field.content_type().unwrap_or("").to_string();
            let Ok(bytes) = field.bytes().await else {
                bad = Some(malformed());
                break;
            };
            let mut logged = json!({
                "filename": filename,
                "content_type": content_type,
                "size": bytes.len(),
                "sha256": hex::encode(Sha256::digest(&bytes)),
            });
            if name == file_field && upload.file.is_none() {
                // The call log shows what arrived as a picture: format and dimensions.
                let decoded = media::inspect(&bytes);
                logged["decoded"] = json!(decoded);
                upload.file = Some(UploadFile { filename, content_type, bytes: bytes.to_vec(), decoded });
            }
            fields.insert(name, logged);
        }
    }
    let logged = json!({ "fields": fields, "type": kind });
    Input { json: bad.map_or(Ok(Value::Null), Err), upload: Some(upload), logged }
}

/// A method's name as the call log keeps it.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// The one handler behind every API path.
pub(super) async fn serve_api(
    AxState(shared): AxState<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnKill>,
    req: Request,
) -> Response {
    let at_ms = now_ms();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: HashMap<String, String> =
        req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let Some(ep) = Endpoint::from_path(&path) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"errcode": 40066, "errmsg": "invalid url"}))).into_response();
    };
    if shared.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.opts.latency_ms)).await;
    }
    let input = read_input(ep, &query, req).await;
    let now = now_ms();

    let token = resolve_token(&shared.lock_state(), ep.token(), &query, now);
    let appid = token.as_ref().ok().cloned().flatten();
    let fault = shared.lock_faults().decide(&path, appid.as_deref(), ep.random_faults());

    let mut rec = CallRecord {
        seq: 0,
        at_ms,
        method: method_name(&method),
        path: shared.lock_log().path(&path),
        appid: appid.as_deref().map(Box::from),
        body: raw(&input.logged),
        errcode: None,
        http_status: None,
        fault: fault.as_ref().map(|f| f.kind.name()),
        effect: false,
    };

    // Faults that replace the call.
    if let Some(Fault { kind, errcode, status }) = fault {
        let resp = match kind {
            FaultKind::Errcode => {
                rec.errcode = Some(errcode);
                rec.http_status = Some(200);
                Some(envelope(Err(err(errcode, fault_message(errcode)))))
            }
            FaultKind::Http => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                rec.http_status = Some(status.as_u16());
                Some((status, Body::from(format!("<html><body>{status}</body></html>"))).into_response())
            }
            FaultKind::Drop => {
                conn.kill();
                Some(StatusCode::INTERNAL_SERVER_ERROR.into_response())
            }
            FaultKind::EffectThenDrop | FaultKind::EffectThenErrcode => None,
        };
        if let Some(resp) = resp {
            shared.lock_log().push(rec);
            return resp;
        }
    }

    let reply = (|| {
        let appid = token?;
        if method != Method::POST && !ep.is_get() {
            return Err(err(43002, "require POST method"));
        }
        if method == Method::POST && ep.get_only() {
            return Err(err(43001, "require GET method"));
        }
        let body = input.json?;
        let mut st = shared.lock_state();
        if let Some(q) = st.quotas.get_mut(&path) {
            if q.used >= q.daily_limit {
                return Err(err(45009, "reach max api daily quota limit"));
            }
            q.used += 1;
        }
        let ctx = Ctx { appid: appid.as_deref(), now, body: &body, upload: input.upload.as_ref(), query: &query };
        ep.handle(&mut st, &ctx)
    })();
    // Audit outcomes this call decided are pushed once the answer is on its way.
    golive::control::send_pushes_later(&shared);

    rec.effect = matches!(&reply, Ok(d) if d.effect);
    match fault {
        // effect_then_drop: the effect stands, the answer never arrives.
        Some(Fault { kind: FaultKind::EffectThenDrop, .. }) => {
            conn.kill();
            shared.lock_log().push(rec);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        // effect_then_errcode: the effect stands, the answer says it failed.
        Some(Fault { kind: FaultKind::EffectThenErrcode, errcode, .. }) => {
            rec.errcode = Some(errcode);
            rec.http_status = Some(200);
            shared.lock_log().push(rec);
            return envelope(Err(err(errcode, fault_message(errcode))));
        }
        _ => {}
    }
    rec.errcode = Some(reply.as_ref().map_or_else(|e| e.errcode, |_| 0));
    rec.http_status = Some(200);
    shared.lock_log().push(rec);
    if let Ok(done) = &reply {
        if done.body.get(golive::code::QRCODE_MARK).is_some() {
            return ([(axum::http::header::CONTENT_TYPE, "image/jpeg")], golive::code::QRCODE_JPEG).into_response();
        }
    }
    envelope(reply)
}

fn fault_message(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        45009 => "reach max api daily quota limit",
        61058 => "ticket verification failed",
        45011 => "api minute-quota reach limit, must slower, retry next minute",
        _ => "simulated fault",
    }
}

/// The JSON answer WeChat gives: errcode/errmsg plus the fields, always HTTP 200.
pub(super) fn envelope(reply: Reply) -> Response {
    let mut out = Map::new();
    match reply {
        Ok(done) => {
            out.insert("errcode".into(), json!(0));
            out.insert("errmsg".into(), json!("ok"));
            if let Value::Object(fields) = done.body {
                out.extend(fields);
            }
        }
        Err(e) => {
            out.insert("errcode".into(), json!(e.errcode));
            out.insert("errmsg".into(), json!(e.errmsg));
            if let Value::Object(fields) = e.fields {
                out.extend(fields);
            }
        }
    }
    axum::Json(Value::Object(out)).into_response()
}
