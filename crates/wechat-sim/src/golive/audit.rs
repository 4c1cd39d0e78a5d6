//! Code audits: `submit_audit` within the platform's monthly pool, one audit at a time per
//! mini-program, how an audit ends (the control API, or the fixture's `code_audit` rule), the
//! `weapp_audit_*` push of each outcome, and the status, withdraw, speed-up and quota calls
//! (golive.md §3.6–§3.10, §3.13).
//!
//! Rules:
//! - `submit_audit`, in this order: no committed code 85086; the privacy scan still running
//!   61039; an audit of this mini-program in review or delayed (status 2 or 4) 85009; no
//!   nickname, avatar or signature 86002; no approved category 85008; `item_list` (optional)
//!   with 1–5 items (85023), each with its class names (85010), an approved category pair
//!   (85008), a page of the code (85007), at most 10 tags of at most 20 characters (85006)
//!   and a title of at most 32 (85011); `feedback_stuff` (at most 5, 85093) and
//!   `preview_info` (an object, 85092; at most 10 pictures and 1 video, 85093 [assumed]) naming
//!   this mini-program's media from `/wxa/uploadmedia` (40007 [assumed]); location APIs used but not declared or not opened,
//!   unless `privacy_api_not_use` is true, 61040; the platform's pool for this Beijing month
//!   spent 85085. A submission takes one from the pool (a rejection gives nothing back) and
//!   answers `auditid`, a number (a string with `shapes.auditid_as_string`).
//! - An audit in review (2) ends through `POST /__sim/code_audit`, or by itself when the
//!   fixture's `code_audit.result` is `approve` or `reject`, once `after_secs` have passed
//!   since the submission and `after_queries` status queries have answered 2. Ending by itself,
//!   an audit whose version's privacy guide lacks a key the scan found is rejected, naming
//!   the key, whatever the rule says. A delay (4) is not final: only the control API ends it.
//! - Each outcome (approved 0, rejected 1, delayed 4) is pushed to the configured callback
//!   (`golive.callback`, `POST /__sim/callback`) as `weapp_audit_success` / `_fail` /
//!   `_delay`, encrypted like every push, to the URL with `$APPID$` replaced by the appid and
//!   `ToUserName` the original id; what was sent is listed at `GET /__sim/pushes`.
//! - `get_auditstatus {auditid}` (number or numeric string; another mini-program's or unknown
//!   85012): `status`, `reason`, `screenshot`. `get_latest_auditstatus`: the newest audit
//!   (none 85012) with `auditid`, `user_version`, `user_desc`, `submit_audit_time` and the
//!   screenshot under `ScreenShot` (the live key; `shapes.screenshot_key` for the table's).
//! - `undocodeaudit`: withdraws the audit in review or delayed (status 3; none 85019
//!   [assumed]); `undo_per_day` (1) a Beijing day and `undo_per_month` (10) a month, else
//!   87013; the pool is refunded only with `undo_refunds_quota`.
//! - `speedupaudit {auditid}`: the audit must be in review (89402), not sped up already
//!   (89404), and the month's `speedup_rest` above 0 (89405); it spends one.
//! - `queryquota`: `rest`, `limit`, `speedup_rest`, `speedup_limit` of the platform's pool,
//!   with any authorizer's token; a new Beijing month starts the pool over at its limits.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wechat_open::event::{CodeAuditOutcome, Event, Pushed};

use super::rules::{AutoResult, QuotaFixture};
use super::{app, day_of, month_of, privacy, secs};
use crate::api::{as_i64, changed, err, ok, ApiError, Ctx, Reply};
use crate::state::State;

/// The platform's audit pool for one Beijing month.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pool {
    pub month: String,
    pub limit: u32,
    pub rest: u32,
    pub speedup_limit: u32,
    pub speedup_rest: u32,
}

impl Pool {
    pub(crate) fn from_fixture(q: &QuotaFixture, now: u64) -> Pool {
        Pool {
            month: month_of(now),
            limit: q.limit,
            rest: q.rest.unwrap_or(q.limit),
            speedup_limit: q.speedup_limit,
            speedup_rest: q.speedup_rest.unwrap_or(q.speedup_limit),
        }
    }

    /// Starts the pool over when the Beijing month has changed.
    pub(crate) fn roll(&mut self, now: u64) {
        let month = month_of(now);
        if self.month != month {
            self.month = month;
            self.rest = self.limit;
            self.speedup_rest = self.speedup_limit;
        }
    }
}

/// Audit statuses (golive.md §3.7).
pub(crate) const APPROVED: i64 = 0;
pub(crate) const REJECTED: i64 = 1;
pub(crate) const IN_REVIEW: i64 = 2;
pub(crate) const WITHDRAWN: i64 = 3;
pub(crate) const DELAYED: i64 = 4;

/// One code audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodeAudit {
    pub auditid: i64,
    pub appid: String,
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub status: i64,
    pub reason: String,
    pub screenshots: Vec<String>,
    pub submit_time: i64,
    pub submit_ms: u64,
    /// Unix seconds of the last outcome.
    pub decided_time: Option<i64>,
    /// Status queries answered "in review".
    pub queries: u32,
    pub sped_up: bool,
    /// Published by `release`.
    pub released: bool,
    /// What was submitted.
    pub item_list: Value,
    pub version_desc: String,
    pub feedback_info: String,
}

impl CodeAudit {
    fn running(&self) -> bool {
        self.status == IN_REVIEW || self.status == DELAYED
    }
}

/// `undocodeaudit` calls of one mini-program.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct UndoCount {
    pub day: String,
    pub today: u32,
    pub month: String,
    pub this_month: u32,
}

/// A push sent or tried.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PushRecord {
    pub at_ms: u64,
    pub appid: String,
    pub auditid: i64,
    pub event: String,
    /// The URL with `$APPID$` replaced (no signature parameters).
    pub url: String,
    /// The callback's HTTP status, or why it could not be reached.
    pub status: Option<u16>,
    pub answer: String,
}

/// A push decided under the state lock, to send after it.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub appid: String,
    pub auditid: i64,
    pub url: String,
    pub token: String,
    pub encoding_aes_key: String,
    pub pushed: Pushed,
}

/// The running audit of `appid`, if any.
pub(crate) fn running_of(st: &State, appid: &str) -> Option<i64> {
    st.golive.audits.values().rev().find(|a| a.appid == appid && a.running()).map(|a| a.auditid)
}

/// The newest audit of `appid`, if any.
pub(crate) fn latest_of(st: &State, appid: &str) -> Option<i64> {
    st.golive.audits.values().rev().find(|a| a.appid == appid).map(|a| a.auditid)
}

/// Ends (or delays) audit `auditid` and queues its push. `Err` says why it cannot.
pub(crate) fn decide(
    st: &mut State,
    auditid: i64,
    status: i64,
    reason: &str,
    screenshots: Vec<String>,
    now: u64,
) -> Result<(), String> {
    let a = st.golive.audits.get_mut(&auditid).ok_or_else(|| format!("no audit {auditid}"))?;
    if !a.running() {
        return Err(format!("audit {auditid} is not in review (status {})", a.status));
    }
    a.status = status;
    a.decided_time = Some(secs(now));
    a.reason = if status == APPROVED { String::new() } else { reason.to_string() };
    a.screenshots = if status == REJECTED { screenshots } else { Vec::new() };
    let (appid, reason, shots) = (a.appid.clone(), a.reason.clone(), a.screenshots.clone());
    let outcome = match status {
        APPROVED => CodeAuditOutcome::Approved,
        REJECTED => CodeAuditOutcome::Rejected,
        _ => CodeAuditOutcome::Delayed,
    };
    if let Some(cb) = st.golive.config.callback.clone() {
        let pushed = Pushed {
            app_id: None,
            to_user_name: Some(crate::state::original_id(&appid)),
            create_time: Some(secs(now)),
            event: Event::CodeAudit { outcome, time: Some(secs(now)), reason, screenshots: shots },
        };
        st.golive.outbox.push(Outgoing {
            url: cb.url.replace("$APPID$", &appid),
            appid,
            auditid,
            token: cb.token,
            encoding_aes_key: cb.encoding_aes_key,
            pushed,
        });
    }
    Ok(())
}

/// Has audit `a` reached the end the fixture's rule gives it?
fn due(st: &State, a: &CodeAudit, now: u64) -> bool {
    let rule = &st.golive.config.code_audit;
    a.status == IN_REVIEW
        && rule.result != AutoResult::Manual
        && now >= a.submit_ms + rule.after_secs * 1000
        && a.queries >= rule.after_queries
}

/// Ends audit `auditid` by the fixture's rule.
fn decide_by_rule(st: &mut State, auditid: i64, now: u64) {
    let Some(a) = st.golive.audits.get(&auditid) else { return };
    let rule = st.golive.config.code_audit.clone();
    let missing = privacy::unconfigured_keys(st, &a.appid);
    let _ = if !missing.is_empty() {
        let reason = format!("隐私保护指引未配置：{}", missing.join("、"));
        decide(st, auditid, REJECTED, &reason, Vec::new(), now)
    } else if rule.result == AutoResult::Reject {
        decide(st, auditid, REJECTED, &rule.reason, rule.screenshot, now)
    } else {
        decide(st, auditid, APPROVED, "", Vec::new(), now)
    };
}

/// Ends every audit whose time has come by the fixture's rule; true when one did.
pub(crate) fn settle_due(st: &mut State, now: u64) -> bool {
    let ids: Vec<i64> = st.golive.audits.values().filter(|a| due(st, a, now)).map(|a| a.auditid).collect();
    for id in &ids {
        decide_by_rule(st, *id, now);
    }
    !ids.is_empty()
}

/// A status query of audit `auditid`: counts it, or ends the audit when it is due.
fn query(st: &mut State, auditid: i64, now: u64) -> bool {
    let Some(a) = st.golive.audits.get(&auditid) else { return false };
    if due(st, a, now) {
        decide_by_rule(st, auditid, now);
        return true;
    }
    if a.status == IN_REVIEW && st.golive.config.code_audit.result != AutoResult::Manual {
        if let Some(a) = st.golive.audits.get_mut(&auditid) {
            a.queries += 1;
        }
        return true;
    }
    false
}

fn auditid_value(st: &State, id: i64) -> Value {
    if st.golive.config.shapes.auditid_as_string {
        json!(id.to_string())
    } else {
        json!(id)
    }
}

fn check_items(st: &State, appid: &str, ctx: &Ctx) -> Result<Value, ApiError> {
    let mp = &st.mini_programs[appid];
    let approved: Vec<(i64, i64)> =
        mp.categories.iter().filter(|c| c.audit_status == 3).map(|c| (c.first, c.second)).collect();
    if approved.is_empty() {
        return Err(err(85008, "no approved category, or the category is not this mini-program's"));
    }
    let pages = mp.golive.trial.as_ref().map(|t| t.pages.clone()).unwrap_or_default();
    let items = match ctx.body.get("item_list") {
        None | Some(Value::Null) => return Ok(json!([])),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(err(47001, "data format error: item_list must be an array")),
    };
    if items.is_empty() || items.len() > 5 {
        return Err(err(85023, "item_list must have 1 to 5 items"));
    }
    for item in items {
        let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if text("first_class").is_empty() || text("second_class").is_empty() {
            return Err(err(85010, "an item of item_list is empty"));
        }
        let pair = (item.get("first_id").and_then(as_i64), item.get("second_id").and_then(as_i64));
        let (Some(first), Some(second)) = pair else {
            return Err(err(85010, "an item of item_list is empty"));
        };
        if !approved.contains(&(first, second)) {
            return Err(err(
                85008,
                format!("category {first}/{second} is not an approved category of this mini-program"),
            ));
        }
        let address = text("address");
        if !address.is_empty() && !pages.contains(&address) {
            return Err(err(85007, format!("invalid page path {address}")));
        }
        let tag = text("tag");
        let tags: Vec<&str> = tag.split_whitespace().collect();
        if tags.len() > 10 || tags.iter().any(|t| t.chars().count() > 20) {
            return Err(err(85006, "invalid tag format"));
        }
        if text("title").chars().count() > 32 {
            return Err(err(85011, "invalid title"));
        }
    }
    Ok(Value::Array(items.clone()))
}

/// `preview_info` and `feedback_stuff`: this mini-program's media from `/wxa/uploadmedia`.
fn check_material(st: &State, appid: &str, ctx: &Ctx) -> Result<(), ApiError> {
    let own = |id: &str| {
        st.media_of(appid, id, ctx.now).map(|_| ()).ok_or_else(|| err(40007, format!("invalid media_id {id}")))
    };
    if let Some(stuff) = ctx.str("feedback_stuff") {
        let ids: Vec<&str> = stuff.split('|').filter(|m| !m.is_empty()).collect();
        if ids.len() > 5 {
            return Err(err(85093, "too many feedback_stuff media (5 at most)"));
        }
        ids.into_iter().try_for_each(own)?;
    }
    match ctx.body.get("preview_info") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            let list = |k: &str| -> Result<Vec<String>, ApiError> {
                super::strings(&Value::Object(p.clone()), k)
                    .map_err(|_| err(85092, "invalid preview_info"))
                    .map(Option::unwrap_or_default)
            };
            let (pics, videos) = (list("pic_id_list")?, list("video_id_list")?);
            if pics.len() > 10 || videos.len() > 1 {
                return Err(err(85093, "too many pictures (10) or videos (1) in preview_info"));
            }
            pics.iter().chain(&videos).try_for_each(|id| own(id))?;
        }
        Some(_) => return Err(err(85092, "invalid preview_info")),
    }
    Ok(())
}

/// `submit_audit`.
pub(crate) fn submit(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let trial = app(st, ctx)?.golive.trial.clone().ok_or_else(|| err(85086, "commit code before submitting it"))?;
    privacy::scan_gate(st, &appid, ctx.now)?;
    if running_of(st, &appid).is_some() {
        return Err(err(85009, "a version is already in review"));
    }
    let mp = &st.mini_programs[&appid];
    if mp.nickname.is_empty() || mp.head_image_url.is_empty() || mp.signature.is_empty() {
        return Err(err(86002, "the mini-program has no nickname, avatar or signature yet"));
    }
    let item_list = check_items(st, &appid, ctx)?;
    check_material(st, &appid, ctx)?;
    let not_use = ctx.body.get("privacy_api_not_use").and_then(Value::as_bool).unwrap_or(false);
    let (without_auth, without_conf) = privacy::missing_apis(st, &appid);
    if !not_use && (!without_auth.is_empty() || !without_conf.is_empty()) {
        let mut apis = without_conf;
        apis.extend(without_auth.into_iter().filter(|a| !apis.contains(a)).collect::<Vec<_>>());
        return Err(err(61040, format!("privacy APIs without permission or declaration: {}", apis.join(","))));
    }
    let pool = &mut st.golive.pool;
    pool.roll(ctx.now);
    if pool.rest == 0 {
        return Err(err(85085, "this month's submissions for audit have reached the limit"));
    }
    pool.rest -= 1;
    let auditid = st.golive.next_auditid;
    st.golive.next_auditid += 1;
    st.golive.audits.insert(
        auditid,
        CodeAudit {
            auditid,
            appid,
            template_id: trial.template_id,
            user_version: trial.user_version,
            user_desc: trial.user_desc,
            status: IN_REVIEW,
            reason: String::new(),
            screenshots: Vec::new(),
            submit_time: secs(ctx.now),
            submit_ms: ctx.now,
            decided_time: None,
            queries: 0,
            sped_up: false,
            released: false,
            item_list,
            version_desc: ctx.str("version_desc").unwrap_or("").to_string(),
            feedback_info: ctx.str("feedback_info").unwrap_or("").to_string(),
        },
    );
    changed(json!({ "auditid": auditid_value(st, auditid) }))
}

fn audit_of<'a>(st: &'a State, appid: &str, auditid: Option<i64>) -> Result<&'a CodeAudit, ApiError> {
    auditid
        .and_then(|id| st.golive.audits.get(&id))
        .filter(|a| a.appid == appid)
        .ok_or_else(|| err(85012, "invalid audit id"))
}

fn answer(body: Value, effect: bool) -> Reply {
    if effect {
        changed(body)
    } else {
        ok(body)
    }
}

/// `get_auditstatus`.
pub(crate) fn status(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let id = audit_of(st, &appid, ctx.body.get("auditid").and_then(as_i64))?.auditid;
    let effect = query(st, id, ctx.now);
    let a = &st.golive.audits[&id];
    let body = json!({ "status": a.status, "reason": a.reason, "screenshot": a.screenshots.join("|") });
    answer(body, effect)
}

/// `get_latest_auditstatus`.
pub(crate) fn latest(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let id = audit_of(st, &appid, latest_of(st, &appid))?.auditid;
    let effect = query(st, id, ctx.now);
    let a = &st.golive.audits[&id];
    let key = st.golive.config.shapes.screenshot_key.clone();
    let body = json!({
        "auditid": auditid_value(st, id),
        "status": a.status,
        "reason": a.reason,
        key: a.screenshots.join("|"),
        "user_version": a.user_version,
        "user_desc": a.user_desc,
        "submit_audit_time": a.submit_time,
    });
    answer(body, effect)
}

/// `undocodeaudit`.
pub(crate) fn undo(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let id = running_of(st, &appid).ok_or_else(|| err(85019, "no version in audit"))?;
    let (per_day, per_month) = (st.golive.config.undo_per_day, st.golive.config.undo_per_month);
    let (day, month) = (day_of(ctx.now), month_of(ctx.now));
    let undo = &mut app(st, ctx)?.golive.undo;
    if undo.day != day {
        undo.day = day;
        undo.today = 0;
    }
    if undo.month != month {
        undo.month = month;
        undo.this_month = 0;
    }
    if undo.today >= per_day || undo.this_month >= per_month {
        return Err(err(87013, "withdrawals have reached the limit"));
    }
    undo.today += 1;
    undo.this_month += 1;
    if let Some(a) = st.golive.audits.get_mut(&id) {
        a.status = WITHDRAWN;
        a.decided_time = Some(secs(ctx.now));
    }
    if st.golive.config.undo_refunds_quota {
        let pool = &mut st.golive.pool;
        pool.roll(ctx.now);
        pool.rest += 1;
    }
    changed(json!({}))
}

/// `speedupaudit`.
pub(crate) fn speedup(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let a = audit_of(st, &appid, ctx.body.get("auditid").and_then(as_i64))?;
    let id = a.auditid;
    if a.status != IN_REVIEW {
        return Err(err(89402, "this mini-program is not in the audit queue"));
    }
    if a.sped_up {
        return Err(err(89404, "this audit was already sped up"));
    }
    let pool = &mut st.golive.pool;
    pool.roll(ctx.now);
    if pool.speedup_rest == 0 {
        return Err(err(89405, "this month's speed-ups are used up"));
    }
    pool.speedup_rest -= 1;
    if let Some(a) = st.golive.audits.get_mut(&id) {
        a.sped_up = true;
    }
    changed(json!({}))
}

/// `queryquota`.
pub(crate) fn query_quota(st: &mut State, ctx: &Ctx) -> Reply {
    // Any authorizer's token will do: the pool is the platform's (golive.md §3.10).
    ctx.appid()?;
    let pool = &mut st.golive.pool;
    let before = pool.month.clone();
    pool.roll(ctx.now);
    let body = json!({
        "rest": pool.rest, "limit": pool.limit,
        "speedup_rest": pool.speedup_rest, "speedup_limit": pool.speedup_limit,
    });
    answer(body, before != pool.month)
}
