//! Publishing: `release` publishes the last approved version, `revertcoderelease` goes back
//! to an earlier one (golive.md §3.11, §3.12).
//!
//! Rules: the body must be exactly `{}` (an empty body 44002; fields 47001 [assumed]); no
//! audit ever submitted 85019; the newest audit not approved (in review, rejected,
//! withdrawn, delayed) 85020; its version already released 85052. A release makes the
//! version live (`getversioninfo`'s `release_info`), the development privacy guide the live
//! one, and the effective domains (`get_effective_domain`) the mini-program's own. The last
//! five releases are kept; a rollback (to the previous one, or `app_version`) needs one to go
//! back to (87012) and removes the versions after it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::audit::{latest_of, APPROVED};
use super::{app, domain, secs};
use crate::api::{changed, err, ok, Ctx, Reply};
use crate::state::State;

/// A released version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Release {
    /// Numbers releases of one mini-program from 1.
    pub app_version: i64,
    pub auditid: i64,
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub release_time: i64,
}

/// `release`.
pub(crate) fn release(st: &mut State, ctx: &Ctx) -> Reply {
    if ctx.body.as_object().is_some_and(|o| !o.is_empty()) {
        return Err(err(47001, "data format error: release takes the body {}"));
    }
    let appid = app(st, ctx)?.appid.clone();
    let id = latest_of(st, &appid).ok_or_else(|| err(85019, "no version has been audited"))?;
    let a = &st.golive.audits[&id];
    if a.status != APPROVED {
        return Err(err(85020, format!("the audit's status (status {}) does not allow a release", a.status)));
    }
    if a.released {
        return Err(err(85052, "app is already released"));
    }
    let (template_id, user_version, user_desc) = (a.template_id, a.user_version.clone(), a.user_desc.clone());
    if let Some(a) = st.golive.audits.get_mut(&id) {
        a.released = true;
    }
    let g = &mut app(st, ctx)?.golive;
    let app_version = g.releases.last().map_or(1, |r| r.app_version + 1);
    g.releases.push(Release {
        app_version,
        auditid: id,
        template_id,
        user_version,
        user_desc,
        release_time: secs(ctx.now),
    });
    if g.releases.len() > 5 {
        g.releases.remove(0);
    }
    g.privacy_live = g.privacy_dev.clone();
    g.domains.live = domain::effective_server(&g.domains);
    g.domains.live_webview = domain::effective_webview(&g.domains);
    changed(json!({}))
}

/// `revertcoderelease`: `action=get_history_version` lists the kept releases; otherwise rolls
/// back to the previous one or to `app_version`.
pub(crate) fn revert(st: &mut State, ctx: &Ctx) -> Reply {
    let g = &mut app(st, ctx)?.golive;
    if ctx.query.get("action").map(String::as_str) == Some("get_history_version") {
        let list: Vec<Value> = g
            .releases
            .iter()
            .map(|r| {
                json!({ "app_version": r.app_version, "user_version": r.user_version,
                        "user_desc": r.user_desc, "commit_time": r.release_time })
            })
            .collect();
        return ok(json!({ "version_list": list, "total_count": list.len() }));
    }
    let target = match ctx.query.get("app_version").filter(|v| !v.is_empty()) {
        Some(v) => v.parse::<i64>().map_err(|_| err(40097, "invalid args: app_version"))?,
        None => {
            let n = g.releases.len();
            if n < 2 {
                return Err(err(87012, "this version cannot be rolled back"));
            }
            g.releases[n - 2].app_version
        }
    };
    let current = g.releases.last().map(|r| r.app_version);
    let Some(pos) = g.releases.iter().position(|r| r.app_version == target).filter(|_| current != Some(target)) else {
        return Err(err(87012, "this version cannot be rolled back"));
    };
    g.releases.truncate(pos + 1);
    changed(json!({}))
}
