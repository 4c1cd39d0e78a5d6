//! The XML of WeChat's pushes: the outer body that carries `<Encrypt>`, and the decrypted
//! event inside it ([`crate::crypto`] opens the one into the other).
//!
//! A receiver needs typed events to act on (store the verify ticket, record authorizations
//! and registrations, move review steps on), and a simulator needs to produce the very same
//! XML, so both directions live here, both with quick-xml (its reader, and its writer for
//! what the simulator sends). Bodies come from the network: input over [`MAX_BODY`]
//! bytes is refused before parsing, nothing here panics, entity declarations are never expanded
//! (quick-xml knows only the five predefined entities), and values that are credentials (the
//! verify ticket, authorization codes) are held as [`Secret`]s so they cannot leak into logs.
//!
//! Both documents are a flat `<xml>` root whose children are the fields; only
//! `notify_third_fasteregister` nests one level (`<info>`). Field values are the element's text
//! and CDATA, trimmed of surrounding whitespace. A field given twice is refused rather than
//! guessed at. Unknown fields are ignored; unknown event types become [`Event::Other`].

use std::collections::BTreeMap;

use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event as XmlEvent};
use quick_xml::{Reader, Writer};

use crate::secret::Secret;

/// The largest body, outer or inner, that is parsed at all.
pub const MAX_BODY: usize = 64 * 1024;

/// Elements nested deeper than this are refused (WeChat's documents use three levels).
const MAX_DEPTH: usize = 8;

/// The longest element name quoted back in an error.
const MAX_QUOTED_NAME: usize = 64;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body is larger than [`MAX_BODY`].
    #[error("body is {len} bytes, more than the {max} accepted")]
    TooLarge {
        /// The body's length in bytes.
        len: usize,
        /// [`MAX_BODY`].
        max: usize,
    },
    /// The body is not well-formed XML with an `<xml>` root.
    #[error("body is not a well-formed <xml> document: {0}")]
    Malformed(String),
    /// A field the event needs is absent.
    #[error("body has no <{0}> element")]
    Missing(&'static str),
    /// A field has a value of the wrong kind.
    #[error("<{field}> is not {expected}")]
    BadField {
        /// The field's element name.
        field: &'static str,
        /// What its value should have been ("an integer").
        expected: &'static str,
    },
    /// A field appears more than once.
    #[error("<{0}> appears more than once")]
    Duplicate(String),
}

/// The fields of a flat `<xml>` document, and of its `<info>` child.
#[derive(Debug, Default)]
struct Fields {
    top: BTreeMap<String, String>,
    info: BTreeMap<String, String>,
}

fn quoted(name: &str) -> String {
    name.chars().take(MAX_QUOTED_NAME).collect()
}

fn insert(map: &mut BTreeMap<String, String>, name: String, value: &str) -> Result<(), EventError> {
    if map.contains_key(&name) {
        return Err(EventError::Duplicate(quoted(&name)));
    }
    map.insert(name, value.trim().to_owned());
    Ok(())
}

/// One open element: its name and whether it has element children.
struct Open {
    name: String,
    has_children: bool,
}

fn parse_fields(input: &[u8]) -> Result<Fields, EventError> {
    if input.len() > MAX_BODY {
        return Err(EventError::TooLarge { len: input.len(), max: MAX_BODY });
    }
    let text = std::str::from_utf8(input).map_err(|_| EventError::Malformed("body is not UTF-8".into()))?;
    let malformed = |e: quick_xml::Error| EventError::Malformed(e.to_string());
    let mut reader = Reader::from_str(text);
    let mut fields = Fields::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut value = String::new();
    let mut seen_root = false;

    // Records a leaf element that just closed (or was empty) at the current stack position.
    fn record(fields: &mut Fields, stack: &[Open], name: String, value: &str) -> Result<(), EventError> {
        match stack {
            [_root] => insert(&mut fields.top, name, value),
            [_root, parent] if parent.name == "info" => insert(&mut fields.info, name, value),
            _ => Ok(()),
        }
    }

    fn open(stack: &mut [Open], seen_root: &mut bool, name: &str) -> Result<(), EventError> {
        let depth = stack.len();
        match stack.last_mut() {
            None if *seen_root => Err(EventError::Malformed("more than one root element".into())),
            None if name != "xml" => {
                Err(EventError::Malformed(format!("root element is <{}>, not <xml>", quoted(name))))
            }
            None => {
                *seen_root = true;
                Ok(())
            }
            Some(_) if depth >= MAX_DEPTH => Err(EventError::Malformed("elements nested too deep".into())),
            Some(parent) => {
                parent.has_children = true;
                Ok(())
            }
        }
    }

    loop {
        match reader.read_event().map_err(malformed)? {
            XmlEvent::Start(e) => {
                let name = std::str::from_utf8(e.name().as_ref())
                    .map_err(|_| EventError::Malformed("element name is not UTF-8".into()))?
                    .to_owned();
                open(&mut stack, &mut seen_root, &name)?;
                stack.push(Open { name, has_children: false });
                value.clear();
            }
            XmlEvent::Empty(e) => {
                let name = std::str::from_utf8(e.name().as_ref())
                    .map_err(|_| EventError::Malformed("element name is not UTF-8".into()))?
                    .to_owned();
                open(&mut stack, &mut seen_root, &name)?;
                record(&mut fields, &stack, name, "")?;
            }
            XmlEvent::End(_) => {
                // quick-xml has already checked that the end tag matches.
                let Some(closed) = stack.pop() else {
                    return Err(EventError::Malformed("unexpected end tag".into()));
                };
                if !closed.has_children {
                    record(&mut fields, &stack, closed.name, &value)?;
                }
                value.clear();
            }
            XmlEvent::Text(e) => {
                let text = e.unescape().map_err(malformed)?;
                if stack.is_empty() {
                    if !text.trim().is_empty() {
                        return Err(EventError::Malformed("text outside the root element".into()));
                    }
                } else {
                    value.push_str(&text);
                }
            }
            XmlEvent::CData(e) => {
                if stack.is_empty() {
                    return Err(EventError::Malformed("CDATA outside the root element".into()));
                }
                let text = std::str::from_utf8(&e).map_err(|_| EventError::Malformed("CDATA is not UTF-8".into()))?;
                value.push_str(text);
            }
            XmlEvent::Eof => break,
            XmlEvent::Decl(_) | XmlEvent::Comment(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(EventError::Malformed("unclosed element".into()));
    }
    if !seen_root {
        return Err(EventError::Malformed("no <xml> root element".into()));
    }
    Ok(fields)
}

/// A flat WeChat document being written with quick-xml's writer: the `<xml>` root, fields
/// whose text is CDATA (quick-xml splits a `]]>` in a value across two sections) and numbers
/// as plain text, as WeChat writes them.
struct XmlOut(Writer<Vec<u8>>);

impl XmlOut {
    fn new() -> XmlOut {
        let mut out = XmlOut(Writer::new(Vec::new()));
        out.start("xml");
        out
    }

    /// Writes one event; writing into memory cannot fail.
    fn write(&mut self, event: XmlEvent<'_>) {
        let written = self.0.write_event(event);
        debug_assert!(written.is_ok(), "writing into a Vec failed: {written:?}");
    }

    fn start(&mut self, name: &str) {
        self.write(XmlEvent::Start(BytesStart::new(name)));
    }

    fn end(&mut self, name: &str) {
        self.write(XmlEvent::End(BytesEnd::new(name)));
    }

    fn field(&mut self, name: &str, value: &str) {
        self.start(name);
        for section in BytesCData::escaped(value) {
            self.write(XmlEvent::CData(section));
        }
        self.end(name);
    }

    fn number(&mut self, name: &str, value: i64) {
        self.start(name);
        self.write(XmlEvent::Text(BytesText::new(&value.to_string())));
        self.end(name);
    }

    /// Closes the root and returns the document.
    fn finish(mut self) -> String {
        self.end("xml");
        // Only `&str`s went in, and quick-xml writes them as they are.
        String::from_utf8_lossy(&self.0.into_inner()).into_owned()
    }
}

/// The outer body of an encrypted push. The message URL's pushes name the recipient in
/// `<ToUserName>`; the authorization-event URL's pushes name the component in `<AppId>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushBody {
    /// `<ToUserName>`: the recipient's original id (`gh_…`) or appid, on message-URL pushes.
    pub to_user_name: Option<String>,
    /// `<AppId>`: the component appid, on authorization-event pushes.
    pub app_id: Option<String>,
    /// The Base64 ciphertext, to hand to [`MsgCrypt::decrypt`](crate::crypto::MsgCrypt::decrypt).
    pub encrypt: String,
}

impl PushBody {
    /// Reads an outer push body; `<Encrypt>` is required.
    pub fn parse(body: &[u8]) -> Result<PushBody, EventError> {
        let mut fields = parse_fields(body)?;
        let encrypt = fields.top.remove("Encrypt").ok_or(EventError::Missing("Encrypt"))?;
        Ok(PushBody { to_user_name: fields.top.remove("ToUserName"), app_id: fields.top.remove("AppId"), encrypt })
    }

    /// The body as WeChat sends it (for the simulator).
    pub fn to_xml(&self) -> String {
        let mut out = XmlOut::new();
        if let Some(to) = &self.to_user_name {
            out.field("ToUserName", to);
        }
        if let Some(app_id) = &self.app_id {
            out.field("AppId", app_id);
        }
        out.field("Encrypt", &self.encrypt);
        out.finish()
    }
}

/// A decrypted push: the common header fields and the typed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// `<AppId>`: the component appid, on authorization events.
    pub app_id: Option<String>,
    /// `<ToUserName>`: the recipient's original id (`gh_…`) or appid, on message-URL events.
    pub to_user_name: Option<String>,
    /// `<CreateTime>`, Unix seconds.
    pub create_time: Option<i64>,
    /// What happened.
    pub event: Event,
}

/// The events wxprov acts on (NOTES.md, "Message encryption").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `InfoType` `component_verify_ticket`: pushed every 10 minutes, lives 12 hours.
    ComponentVerifyTicket {
        /// `<ComponentVerifyTicket>`: what the component token is fetched with.
        ticket: Secret,
    },
    /// `InfoType` `authorized`: an account authorized the platform.
    Authorized(Authorization),
    /// `InfoType` `updateauthorized`: an account changed what it authorized.
    UpdateAuthorized(Authorization),
    /// `InfoType` `unauthorized`: an account withdrew its authorization.
    Unauthorized {
        /// `<AuthorizerAppid>`: the account that withdrew.
        authorizer_appid: String,
    },
    /// `InfoType` `notify_third_fasteregister`: the outcome of a fast registration.
    FastRegister(FastRegistration),
    /// `Event` `wxa_nickname_audit`: the outcome of a nickname review.
    NicknameAudit {
        /// `<ret>`: approved or rejected.
        ret: AuditResult,
        /// `<nickname>`: the name that was reviewed.
        nickname: String,
        /// `<reason>`: why it was rejected (empty when approved).
        reason: String,
    },
    /// `Event` `wxa_category_audit`: the outcome of a category review.
    CategoryAudit {
        /// `<ret>`: approved or rejected.
        ret: AuditResult,
        /// `<first>`: the first-level category id, when given.
        first: Option<String>,
        /// `<second>`: the second-level category id, when given.
        second: Option<String>,
        /// `<reason>`: why it was rejected (empty when approved).
        reason: String,
    },
    /// `Event` `weapp_audit_success`, `weapp_audit_fail` or `weapp_audit_delay`: the outcome of
    /// a code audit (`golive.md` §3.13). It carries no audit id: the mini-program is the
    /// path's `$APPID$` or the `ToUserName`.
    CodeAudit {
        /// Which of the three events.
        outcome: CodeAuditOutcome,
        /// `<SuccTime>`, `<FailTime>` or `<DelayTime>`, Unix seconds, when given.
        time: Option<i64>,
        /// `<Reason>`: why it was rejected or delayed (may contain `<br>`); empty on success.
        reason: String,
        /// `<ScreenShot>`: the rejection's media ids (`|`-separated in the XML); empty otherwise.
        screenshots: Vec<String>,
    },
    /// Any other `InfoType` (`component` is true) or `Event` (`component` is false).
    Other {
        /// The `InfoType` or `Event` text.
        kind: String,
        /// Whether it came as an `InfoType` (an authorization-event push).
        component: bool,
    },
    /// A message that is not an event (`MsgType` `text`, `image`, …): a user wrote to the
    /// account. Its content is not kept.
    Message {
        /// `<MsgType>`.
        msg_type: String,
    },
}

/// The fields of `authorized` and `updateauthorized`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// `AuthorizerAppid`: the account that authorized.
    pub authorizer_appid: String,
    /// `AuthorizationCode`: exchanged for the account's tokens.
    pub authorization_code: Option<Secret>,
    /// `AuthorizationCodeExpiredTime`, Unix seconds.
    pub authorization_code_expired_time: Option<i64>,
    /// `PreAuthCode`: the pre-authorization code the link was made with.
    pub pre_auth_code: Option<Secret>,
}

/// The fields of `notify_third_fasteregister`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastRegistration {
    /// The new mini-program's appid; absent or empty when registration failed.
    pub appid: Option<String>,
    /// 0 on success, otherwise WeChat's error code.
    pub status: i64,
    /// The authorization code for the new mini-program.
    pub auth_code: Option<Secret>,
    /// `msg`: WeChat's text about the outcome.
    pub msg: String,
    /// The `<info>` children (what was submitted: name, code, legal person, …).
    pub info: BTreeMap<String, String>,
}

/// A review outcome: `ret` 2 rejected, 3 approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// `ret` 2.
    Rejected,
    /// `ret` 3.
    Approved,
    /// Any other `ret`.
    Other(i64),
}

impl AuditResult {
    /// Reads a `ret` value.
    pub fn from_ret(ret: i64) -> AuditResult {
        match ret {
            2 => AuditResult::Rejected,
            3 => AuditResult::Approved,
            other => AuditResult::Other(other),
        }
    }

    /// The `ret` value.
    pub fn ret(self) -> i64 {
        match self {
            AuditResult::Rejected => 2,
            AuditResult::Approved => 3,
            AuditResult::Other(other) => other,
        }
    }
}

/// Which `weapp_audit_*` event a code audit's push is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAuditOutcome {
    /// `weapp_audit_success`: approved (`<SuccTime>`).
    Approved,
    /// `weapp_audit_fail`: rejected (`<FailTime>`, `<Reason>`, `<ScreenShot>`).
    Rejected,
    /// `weapp_audit_delay`: the review takes longer (`<DelayTime>`, `<Reason>`); not final.
    Delayed,
}

impl CodeAuditOutcome {
    /// The `<Event>` text.
    pub fn event(self) -> &'static str {
        match self {
            CodeAuditOutcome::Approved => "weapp_audit_success",
            CodeAuditOutcome::Rejected => "weapp_audit_fail",
            CodeAuditOutcome::Delayed => "weapp_audit_delay",
        }
    }

    /// The element that carries the event's time.
    fn time_field(self) -> &'static str {
        match self {
            CodeAuditOutcome::Approved => "SuccTime",
            CodeAuditOutcome::Rejected => "FailTime",
            CodeAuditOutcome::Delayed => "DelayTime",
        }
    }

    fn from_event(kind: &str) -> Option<CodeAuditOutcome> {
        [CodeAuditOutcome::Approved, CodeAuditOutcome::Rejected, CodeAuditOutcome::Delayed]
            .into_iter()
            .find(|o| o.event() == kind)
    }
}

fn integer(field: &'static str, value: &str) -> Result<i64, EventError> {
    value.parse().map_err(|_| EventError::BadField { field, expected: "an integer" })
}

fn optional_integer(top: &mut BTreeMap<String, String>, field: &'static str) -> Result<Option<i64>, EventError> {
    top.remove(field).filter(|v| !v.is_empty()).map(|v| integer(field, &v)).transpose()
}

fn required(top: &mut BTreeMap<String, String>, field: &'static str) -> Result<String, EventError> {
    top.remove(field).ok_or(EventError::Missing(field))
}

fn non_empty(top: &mut BTreeMap<String, String>, field: &'static str) -> Option<String> {
    top.remove(field).filter(|v| !v.is_empty())
}

impl Pushed {
    /// Reads a decrypted push.
    pub fn parse(xml: &[u8]) -> Result<Pushed, EventError> {
        let Fields { mut top, info } = parse_fields(xml)?;
        let app_id = top.remove("AppId");
        let to_user_name = top.remove("ToUserName");
        let create_time = optional_integer(&mut top, "CreateTime")?;
        let event = if let Some(kind) = top.remove("InfoType") {
            component_event(kind, &mut top, info)?
        } else if let Some(kind) = top.remove("Event") {
            message_event(kind, &mut top)?
        } else if let Some(msg_type) = non_empty(&mut top, "MsgType") {
            Event::Message { msg_type }
        } else {
            return Err(EventError::Missing("InfoType"));
        };
        Ok(Pushed { app_id, to_user_name, create_time, event })
    }

    /// The event as WeChat sends it, before encryption (for the simulator). `info` keys must be
    /// XML names.
    pub fn to_xml(&self) -> String {
        let mut out = XmlOut::new();
        if let Some(to) = &self.to_user_name {
            out.field("ToUserName", to);
        }
        if let Some(app_id) = &self.app_id {
            out.field("AppId", app_id);
        }
        if let Some(time) = self.create_time {
            out.number("CreateTime", time);
        }
        let message_event = |out: &mut XmlOut, kind: &str| {
            out.field("MsgType", "event");
            out.field("Event", kind);
        };
        match &self.event {
            Event::ComponentVerifyTicket { ticket } => {
                out.field("InfoType", "component_verify_ticket");
                out.field("ComponentVerifyTicket", ticket.expose());
            }
            Event::Authorized(a) | Event::UpdateAuthorized(a) => {
                let kind = if matches!(self.event, Event::Authorized(_)) { "authorized" } else { "updateauthorized" };
                out.field("InfoType", kind);
                out.field("AuthorizerAppid", &a.authorizer_appid);
                if let Some(code) = &a.authorization_code {
                    out.field("AuthorizationCode", code.expose());
                }
                if let Some(time) = a.authorization_code_expired_time {
                    out.number("AuthorizationCodeExpiredTime", time);
                }
                if let Some(code) = &a.pre_auth_code {
                    out.field("PreAuthCode", code.expose());
                }
            }
            Event::Unauthorized { authorizer_appid } => {
                out.field("InfoType", "unauthorized");
                out.field("AuthorizerAppid", authorizer_appid);
            }
            Event::FastRegister(r) => {
                out.field("InfoType", "notify_third_fasteregister");
                if let Some(appid) = &r.appid {
                    out.field("appid", appid);
                }
                out.number("status", r.status);
                if let Some(code) = &r.auth_code {
                    out.field("auth_code", code.expose());
                }
                out.field("msg", &r.msg);
                out.start("info");
                for (name, value) in &r.info {
                    out.field(name, value);
                }
                out.end("info");
            }
            Event::NicknameAudit { ret, nickname, reason } => {
                message_event(&mut out, "wxa_nickname_audit");
                out.number("ret", ret.ret());
                out.field("nickname", nickname);
                out.field("reason", reason);
            }
            Event::CategoryAudit { ret, first, second, reason } => {
                message_event(&mut out, "wxa_category_audit");
                out.number("ret", ret.ret());
                if let Some(first) = first {
                    out.field("first", first);
                }
                if let Some(second) = second {
                    out.field("second", second);
                }
                out.field("reason", reason);
            }
            Event::CodeAudit { outcome, time, reason, screenshots } => {
                message_event(&mut out, outcome.event());
                if let Some(time) = time {
                    out.number(outcome.time_field(), *time);
                }
                if *outcome != CodeAuditOutcome::Approved {
                    out.field("Reason", reason);
                }
                if *outcome == CodeAuditOutcome::Rejected {
                    out.field("ScreenShot", &screenshots.join("|"));
                }
            }
            Event::Other { kind, component } => {
                if *component {
                    out.field("InfoType", kind);
                } else {
                    message_event(&mut out, kind);
                }
            }
            Event::Message { msg_type } => out.field("MsgType", msg_type),
        }
        out.finish()
    }
}

fn authorization(top: &mut BTreeMap<String, String>) -> Result<Authorization, EventError> {
    Ok(Authorization {
        authorizer_appid: required(top, "AuthorizerAppid")?,
        authorization_code: non_empty(top, "AuthorizationCode").map(Secret::new),
        authorization_code_expired_time: optional_integer(top, "AuthorizationCodeExpiredTime")?,
        pre_auth_code: non_empty(top, "PreAuthCode").map(Secret::new),
    })
}

fn component_event(
    kind: String,
    top: &mut BTreeMap<String, String>,
    info: BTreeMap<String, String>,
) -> Result<Event, EventError> {
    Ok(match kind.as_str() {
        "component_verify_ticket" => {
            let ticket = non_empty(top, "ComponentVerifyTicket").ok_or(EventError::Missing("ComponentVerifyTicket"))?;
            Event::ComponentVerifyTicket { ticket: Secret::new(ticket) }
        }
        "authorized" => Event::Authorized(authorization(top)?),
        "updateauthorized" => Event::UpdateAuthorized(authorization(top)?),
        "unauthorized" => Event::Unauthorized { authorizer_appid: required(top, "AuthorizerAppid")? },
        "notify_third_fasteregister" => {
            let status = integer("status", &required(top, "status")?)?;
            Event::FastRegister(FastRegistration {
                appid: non_empty(top, "appid"),
                status,
                auth_code: non_empty(top, "auth_code").map(Secret::new),
                msg: top.remove("msg").unwrap_or_default(),
                info,
            })
        }
        _ => Event::Other { kind, component: true },
    })
}

fn message_event(kind: String, top: &mut BTreeMap<String, String>) -> Result<Event, EventError> {
    Ok(match kind.as_str() {
        "wxa_nickname_audit" => Event::NicknameAudit {
            ret: AuditResult::from_ret(integer("ret", &required(top, "ret")?)?),
            nickname: top.remove("nickname").unwrap_or_default(),
            reason: top.remove("reason").unwrap_or_default(),
        },
        "wxa_category_audit" => Event::CategoryAudit {
            ret: AuditResult::from_ret(integer("ret", &required(top, "ret")?)?),
            first: non_empty(top, "first"),
            second: non_empty(top, "second"),
            reason: top.remove("reason").unwrap_or_default(),
        },
        _ => match CodeAuditOutcome::from_event(&kind) {
            Some(outcome) => Event::CodeAudit {
                outcome,
                time: optional_integer(top, outcome.time_field())?,
                reason: top.remove("Reason").unwrap_or_default(),
                screenshots: top
                    .remove("ScreenShot")
                    .map(|s| s.split('|').map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect())
                    .unwrap_or_default(),
            },
            None => Event::Other { kind, component: false },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MsgCrypt;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn outer_body_with_to_user_name() {
        // The outer body of Tencent's official sample (sbzhu/weworkapi_php, callback/Sample.php).
        let body = b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";
        let parsed = PushBody::parse(body).unwrap();
        assert_eq!(parsed.to_user_name.as_deref(), Some("wx5823bf96d3bd56c7"));
        assert_eq!(parsed.app_id, None);
        assert!(parsed.encrypt.starts_with("RypEvHKD8QQ"));
        assert!(parsed.encrypt.ends_with("+qN+E7Q=="));
    }

    #[test]
    fn outer_body_with_app_id_and_whitespace() {
        let body = b"<?xml version=\"1.0\"?>\n<xml>\n  <AppId><![CDATA[wxcomponent]]></AppId>\n  <Encrypt>\n    <![CDATA[QUJD]]>\n  </Encrypt>\n</xml>\n";
        let parsed = PushBody::parse(body).unwrap();
        assert_eq!(parsed.app_id.as_deref(), Some("wxcomponent"));
        assert_eq!(parsed.encrypt, "QUJD");
    }

    #[test]
    fn outer_body_round_trips() {
        let body = PushBody { to_user_name: Some("gh_abc".into()), app_id: None, encrypt: "a]]>b".into() };
        assert_eq!(PushBody::parse(body.to_xml().as_bytes()).unwrap(), body);
    }

    #[test]
    fn outer_body_refusals() {
        assert_eq!(PushBody::parse(b"<xml><ToUserName>x</ToUserName></xml>"), Err(EventError::Missing("Encrypt")));
        assert_eq!(
            PushBody::parse(b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>"),
            Err(EventError::Duplicate("Encrypt".into()))
        );
        for bad in [
            &b""[..],
            b"   ",
            b"<notxml><Encrypt>a</Encrypt></notxml>",
            b"<xml><Encrypt>a</Encrypt>",
            b"<xml><Encrypt>a</Foo></xml>",
            b"<xml/><xml/>",
            b"junk<xml/>",
            b"<xml><Encrypt>&bogus;</Encrypt></xml>",
            b"<xml>\xff</xml>",
        ] {
            assert!(
                matches!(PushBody::parse(bad), Err(EventError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(MAX_BODY));
        assert!(matches!(PushBody::parse(huge.as_bytes()), Err(EventError::TooLarge { .. })));
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert!(matches!(PushBody::parse(deep.as_bytes()), Err(EventError::Malformed(_))));
    }

    #[test]
    fn doctype_entities_are_not_expanded() {
        let body = br#"<!DOCTYPE xml [<!ENTITY e "EXPANDED">]><xml><Encrypt>&e;</Encrypt></xml>"#;
        assert!(matches!(PushBody::parse(body), Err(EventError::Malformed(_))));
    }

    #[test]
    fn component_verify_ticket() {
        let xml = b"<xml><AppId>wxcomp</AppId><CreateTime>1413192605</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket><![CDATA[ticket@@@abc]]></ComponentVerifyTicket></xml>";
        let pushed = Pushed::parse(xml).unwrap();
        assert_eq!(pushed.app_id.as_deref(), Some("wxcomp"));
        assert_eq!(pushed.create_time, Some(1413192605));
        assert_eq!(pushed.event, Event::ComponentVerifyTicket { ticket: Secret::new("ticket@@@abc") });
        assert!(!format!("{pushed:?}").contains("ticket@@@abc"));
        let missing = b"<xml><InfoType>component_verify_ticket</InfoType></xml>";
        assert_eq!(Pushed::parse(missing), Err(EventError::Missing("ComponentVerifyTicket")));
    }

    #[test]
    fn authorization_events() {
        let xml = b"<xml><AppId>wxcomp</AppId><CreateTime>1413192760</CreateTime><InfoType>authorized</InfoType><AuthorizerAppid>wxauthorizer</AuthorizerAppid><AuthorizationCode>code123</AuthorizationCode><AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime><PreAuthCode>pre456</PreAuthCode></xml>";
        let pushed = Pushed::parse(xml).unwrap();
        assert_eq!(
            pushed.event,
            Event::Authorized(Authorization {
                authorizer_appid: "wxauthorizer".into(),
                authorization_code: Some(Secret::new("code123")),
                authorization_code_expired_time: Some(1413196360),
                pre_auth_code: Some(Secret::new("pre456")),
            })
        );
        let shown = format!("{pushed:?}");
        assert!(!shown.contains("code123") && !shown.contains("pre456"));

        let xml = b"<xml><AppId>wxcomp</AppId><InfoType>updateauthorized</InfoType><AuthorizerAppid>wxa</AuthorizerAppid></xml>";
        assert!(matches!(
            Pushed::parse(xml).unwrap().event,
            Event::UpdateAuthorized(Authorization { ref authorizer_appid, authorization_code: None, .. }) if authorizer_appid == "wxa"
        ));

        let xml = b"<xml><AppId>wxcomp</AppId><CreateTime>1413192760</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxgone</AuthorizerAppid></xml>";
        assert_eq!(Pushed::parse(xml).unwrap().event, Event::Unauthorized { authorizer_appid: "wxgone".into() });
        let xml = b"<xml><InfoType>unauthorized</InfoType></xml>";
        assert_eq!(Pushed::parse(xml), Err(EventError::Missing("AuthorizerAppid")));
    }

    #[test]
    fn fast_registration() {
        let xml = "<xml>
            <AppId><![CDATA[wxcomp]]></AppId>
            <CreateTime>1535442403</CreateTime>
            <InfoType><![CDATA[notify_third_fasteregister]]></InfoType>
            <appid>wxnewmini</appid>
            <status>0</status>
            <auth_code>authcode789</auth_code>
            <msg><![CDATA[OK]]></msg>
            <info>
              <name><![CDATA[某某有限公司]]></name>
              <code><![CDATA[91440300MA5XXXXXXX]]></code>
              <code_type>1</code_type>
              <legal_persona_wechat><![CDATA[wechatid]]></legal_persona_wechat>
              <legal_persona_name><![CDATA[张三]]></legal_persona_name>
              <component_phone><![CDATA[10086]]></component_phone>
            </info>
        </xml>";
        let pushed = Pushed::parse(xml.as_bytes()).unwrap();
        let Event::FastRegister(r) = &pushed.event else { panic!("{pushed:?}") };
        assert_eq!(r.appid.as_deref(), Some("wxnewmini"));
        assert_eq!(r.status, 0);
        assert_eq!(r.auth_code, Some(Secret::new("authcode789")));
        assert_eq!(r.msg, "OK");
        assert_eq!(r.info.get("name").map(String::as_str), Some("某某有限公司"));
        assert_eq!(r.info.get("code_type").map(String::as_str), Some("1"));
        assert_eq!(r.info.len(), 6);
        assert!(!format!("{pushed:?}").contains("authcode789"));

        let failed = b"<xml><InfoType>notify_third_fasteregister</InfoType><appid></appid><status>89249</status><msg>task running</msg><info/></xml>";
        let Event::FastRegister(r) = Pushed::parse(failed).unwrap().event else { panic!() };
        assert_eq!((r.appid, r.status, r.auth_code), (None, 89249, None));

        let bad = b"<xml><InfoType>notify_third_fasteregister</InfoType><status>ok</status></xml>";
        assert_eq!(Pushed::parse(bad), Err(EventError::BadField { field: "status", expected: "an integer" }));
    }

    #[test]
    fn nickname_audit() {
        let xml = "<xml><ToUserName><![CDATA[gh_fxxxxxxxa4b2]]></ToUserName><FromUserName><![CDATA[odxxxxM-xxxxxxxx-trm4a7apsU8]]></FromUserName><CreateTime>1488800000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[wxa_nickname_audit]]></Event><ret>2</ret><nickname>昵称</nickname><reason>驳回原因</reason></xml>";
        let pushed = Pushed::parse(xml.as_bytes()).unwrap();
        assert_eq!(pushed.to_user_name.as_deref(), Some("gh_fxxxxxxxa4b2"));
        assert_eq!(
            pushed.event,
            Event::NicknameAudit {
                ret: AuditResult::Rejected, nickname: "昵称".into(), reason: "驳回原因".into()
            }
        );
        let approved = "<xml><Event>wxa_nickname_audit</Event><ret>3</ret><nickname>n</nickname><reason/></xml>";
        assert!(matches!(
            Pushed::parse(approved.as_bytes()).unwrap().event,
            Event::NicknameAudit { ret: AuditResult::Approved, .. }
        ));
        let no_ret = "<xml><Event>wxa_nickname_audit</Event></xml>";
        assert_eq!(Pushed::parse(no_ret.as_bytes()), Err(EventError::Missing("ret")));
    }

    #[test]
    fn category_audit() {
        let xml = "<xml><ToUserName><![CDATA[gh_870882ca4b1]]></ToUserName><FromUserName><![CDATA[oaKk346BaSkjx7-4SPgS3GOhFKFI]]></FromUserName><CreateTime>1488800000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[wxa_category_audit]]></Event><ret>3</ret><first>1</first><second>2</second><reason></reason></xml>";
        let pushed = Pushed::parse(xml.as_bytes()).unwrap();
        assert_eq!(pushed.to_user_name.as_deref(), Some("gh_870882ca4b1"));
        assert_eq!(
            pushed.event,
            Event::CategoryAudit {
                ret: AuditResult::Approved,
                first: Some("1".into()),
                second: Some("2".into()),
                reason: String::new()
            }
        );
    }

    #[test]
    fn unknown_types_are_kept() {
        let xml = b"<xml><AppId>c</AppId><InfoType>notify_something_new</InfoType></xml>";
        assert_eq!(
            Pushed::parse(xml).unwrap().event,
            Event::Other { kind: "notify_something_new".into(), component: true }
        );
        let xml = b"<xml><MsgType>event</MsgType><Event>wxa_privacy_apply</Event></xml>";
        assert_eq!(
            Pushed::parse(xml).unwrap().event,
            Event::Other { kind: "wxa_privacy_apply".into(), component: false }
        );
        let text = "<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>o_user</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1234</MsgId></xml>";
        assert_eq!(Pushed::parse(text.as_bytes()).unwrap().event, Event::Message { msg_type: "text".into() });
        assert_eq!(Pushed::parse(b"<xml><MsgType></MsgType></xml>"), Err(EventError::Missing("InfoType")));
        assert_eq!(Pushed::parse(b"<xml><Content>x</Content></xml>"), Err(EventError::Missing("InfoType")));
    }

    fn samples() -> Vec<Pushed> {
        let header = |event| Pushed {
            app_id: Some("wxcomp".into()),
            to_user_name: None,
            create_time: Some(1_700_000_000),
            event,
        };
        let message = |event| Pushed {
            app_id: None,
            to_user_name: Some("gh_0123456789ab".into()),
            create_time: Some(1_700_000_000),
            event,
        };
        vec![
            header(Event::ComponentVerifyTicket { ticket: Secret::new("ticket@@@x]]>y") }),
            header(Event::Authorized(Authorization {
                authorizer_appid: "wxa".into(),
                authorization_code: Some(Secret::new("code")),
                authorization_code_expired_time: Some(1_700_003_600),
                pre_auth_code: None,
            })),
            header(Event::UpdateAuthorized(Authorization {
                authorizer_appid: "wxa".into(),
                authorization_code: None,
                authorization_code_expired_time: None,
                pre_auth_code: Some(Secret::new("pre")),
            })),
            header(Event::Unauthorized { authorizer_appid: "wxa".into() }),
            header(Event::FastRegister(FastRegistration {
                appid: Some("wxnew".into()),
                status: 0,
                auth_code: Some(Secret::new("ac")),
                msg: "OK".into(),
                info: [("name".to_string(), "公司 & <co>".to_string())].into_iter().collect(),
            })),
            header(Event::Other { kind: "future".into(), component: true }),
            message(Event::NicknameAudit {
                ret: AuditResult::Other(1),
                nickname: "名字".into(),
                reason: String::new(),
            }),
            message(Event::CategoryAudit {
                ret: AuditResult::Rejected,
                first: Some("10".into()),
                second: None,
                reason: "缺少资质".into(),
            }),
            message(Event::CodeAudit {
                outcome: CodeAuditOutcome::Rejected,
                time: Some(1717300000),
                reason: "页面内容与所选类目不符<br>请修改".into(),
                screenshots: vec!["mid1".into(), "mid2".into()],
            }),
            message(Event::CodeAudit {
                outcome: CodeAuditOutcome::Approved,
                time: Some(1717300001),
                reason: String::new(),
                screenshots: Vec::new(),
            }),
            message(Event::CodeAudit {
                outcome: CodeAuditOutcome::Delayed,
                time: None,
                reason: "需要更多时间".into(),
                screenshots: Vec::new(),
            }),
            message(Event::Other { kind: "weapp_unknown_event".into(), component: false }),
            message(Event::Message { msg_type: "text".into() }),
        ]
    }

    /// golive.md §3.13's example of a rejection, as WeChat pushes it.
    #[test]
    fn code_audit_fail_from_the_document() {
        let xml = "<xml><ToUserName><![CDATA[gh_1a2b3c4d5e6f]]></ToUserName>\
<FromUserName><![CDATA[o_system]]></FromUserName><CreateTime>1717300000</CreateTime>\
<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_fail]]></Event>\
<Reason><![CDATA[页面内容与所选类目不符]]></Reason><FailTime>1717300000</FailTime>\
<ScreenShot><![CDATA[mid1|mid2]]></ScreenShot></xml>";
        let pushed = Pushed::parse(xml.as_bytes()).unwrap();
        assert_eq!(pushed.to_user_name.as_deref(), Some("gh_1a2b3c4d5e6f"));
        assert_eq!(
            pushed.event,
            Event::CodeAudit {
                outcome: CodeAuditOutcome::Rejected,
                time: Some(1_717_300_000),
                reason: "页面内容与所选类目不符".into(),
                screenshots: vec!["mid1".into(), "mid2".into()],
            }
        );
        let success =
            "<xml><MsgType>event</MsgType><Event>weapp_audit_success</Event><SuccTime>1717300001</SuccTime></xml>";
        let pushed = Pushed::parse(success.as_bytes()).unwrap();
        assert_eq!(
            pushed.event,
            Event::CodeAudit {
                outcome: CodeAuditOutcome::Approved,
                time: Some(1_717_300_001),
                reason: String::new(),
                screenshots: Vec::new(),
            }
        );
        let bad_time = "<xml><MsgType>event</MsgType><Event>weapp_audit_delay</Event><DelayTime>soon</DelayTime></xml>";
        assert_eq!(
            Pushed::parse(bad_time.as_bytes()),
            Err(EventError::BadField { field: "DelayTime", expected: "an integer" })
        );
    }

    #[test]
    fn events_round_trip() {
        for pushed in samples() {
            let xml = pushed.to_xml();
            assert_eq!(Pushed::parse(xml.as_bytes()).unwrap(), pushed, "{xml}");
        }
    }

    /// The bytes the simulator sends, whole: fields as CDATA, numbers as text, `<info>` nested,
    /// and a `]]>` inside a value split across two CDATA sections.
    #[test]
    fn to_xml_writes_what_wechat_sends() {
        let [ticket, _, _, _, registration, ..] = &samples()[..] else { panic!("samples") };
        assert_eq!(
            ticket.to_xml(),
            "<xml><AppId><![CDATA[wxcomp]]></AppId><CreateTime>1700000000</CreateTime>\
             <InfoType><![CDATA[component_verify_ticket]]></InfoType>\
             <ComponentVerifyTicket><![CDATA[ticket@@@x]]]]><![CDATA[>y]]></ComponentVerifyTicket></xml>"
        );
        assert_eq!(
            registration.to_xml(),
            "<xml><AppId><![CDATA[wxcomp]]></AppId><CreateTime>1700000000</CreateTime>\
             <InfoType><![CDATA[notify_third_fasteregister]]></InfoType><appid><![CDATA[wxnew]]></appid>\
             <status>0</status><auth_code><![CDATA[ac]]></auth_code><msg><![CDATA[OK]]></msg>\
             <info><name><![CDATA[公司 & <co>]]></name></info></xml>"
        );
        let audit = Pushed {
            app_id: None,
            to_user_name: Some("gh_0123456789ab".into()),
            create_time: None,
            event: Event::CategoryAudit {
                ret: AuditResult::Approved,
                first: None,
                second: None,
                reason: String::new(),
            },
        };
        assert_eq!(
            audit.to_xml(),
            "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[wxa_category_audit]]></Event><ret>3</ret><reason><![CDATA[]]></reason></xml>"
        );
        let body =
            PushBody { to_user_name: Some("gh_abc".into()), app_id: Some("wxcomp".into()), encrypt: "QUJD".into() };
        assert_eq!(
            body.to_xml(),
            "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><AppId><![CDATA[wxcomp]]></AppId>\
             <Encrypt><![CDATA[QUJD]]></Encrypt></xml>"
        );
    }

    #[test]
    fn encrypted_push_end_to_end() {
        let crypt = MsgCrypt::new("token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxcomp").unwrap();
        for pushed in samples() {
            let (encrypt, sig) = crypt.encrypt(&pushed.to_xml(), "1700000000", "42");
            let body = PushBody { to_user_name: None, app_id: Some("wxcomp".into()), encrypt }.to_xml();
            let outer = PushBody::parse(body.as_bytes()).unwrap();
            let inner = crypt.decrypt(&sig, "1700000000", "42", &outer.encrypt).unwrap();
            assert_eq!(Pushed::parse(inner.as_bytes()).unwrap(), pushed);
        }
    }

    /// Random bytes, random mutations of valid documents and random tag soup: never a panic.
    #[test]
    fn random_inputs_never_panic() {
        let mut rng = StdRng::seed_from_u64(0x000E_1E17);
        let docs: Vec<String> = samples().iter().map(Pushed::to_xml).collect();
        const SOUP: &[&str] = &[
            "<xml>",
            "</xml>",
            "<info>",
            "</info>",
            "<ret>",
            "</ret>",
            "<![CDATA[",
            "]]>",
            "<",
            ">",
            "/>",
            "&amp;",
            "&",
            ";",
            "<Event>",
            "</Event>",
            "<InfoType>",
            "</InfoType>",
            "wxa_nickname_audit",
            "notify_third_fasteregister",
            "<status>",
            "</status>",
            "9",
            "-",
            "<!--",
            "-->",
            "<?xml ?>",
            "<!DOCTYPE x>",
            "\"",
            "'",
            "=",
            " ",
            "\n",
            "é",
            "<a b='c'>",
            "</a>",
            "<Encrypt>",
            "</Encrypt>",
        ];
        for round in 0..3000 {
            let input: Vec<u8> = match round % 3 {
                0 => {
                    let len = rng.gen_range(0..300);
                    (0..len).map(|_| rng.gen()).collect()
                }
                1 => {
                    let mut doc = docs[rng.gen_range(0..docs.len())].clone().into_bytes();
                    for _ in 0..rng.gen_range(1..6) {
                        if doc.is_empty() {
                            break;
                        }
                        let at = rng.gen_range(0..doc.len());
                        match rng.gen_range(0..3) {
                            0 => doc[at] = rng.gen(),
                            1 => {
                                doc.remove(at);
                            }
                            _ => doc.truncate(at),
                        }
                    }
                    doc
                }
                _ => {
                    let n = rng.gen_range(0..40);
                    (0..n).map(|_| SOUP[rng.gen_range(0..SOUP.len())]).collect::<String>().into_bytes()
                }
            };
            let _ = PushBody::parse(&input);
            let _ = Pushed::parse(&input);
        }
    }
}
