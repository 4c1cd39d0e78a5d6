//! What `plan` shows of go-live beyond each step's line (DESIGN §9, #14 item 5): the audit
//! submissions the sheet needs against the platform's monthly pool (`queryquota`, one call:
//! the run's [`AuditPool`](crate::wechat::audit_pool::AuditPool) reading, which the audit
//! steps' decisions share),
//! and each go-live row's ICP filing status (`get_icp_entrance_info`) as information. Both
//! are read-only; neither changes what `plan` exits with — the steps' own decisions do.
//!
//! The audit quota is one pool for every mini-program of the platform, so the number that
//! matters before a big run is the sheet's total, not a row's: a row needs a submission when
//! its audit step would submit, now or once its earlier steps (or its registration) are done
//! (`set`, `wait`), or is held back by the spent pool (`defer`). A row already in review, approved, rejected on this
//! input or blocked needs none.

use futures::StreamExt;
use wechat_open::golive::audit::AuditQuota;
use wechat_open::golive::icp::{GetIcpEntranceInfo, IcpInfo, ICP_FILED};

use crate::lifecycle::StepState;
use crate::manifest::StepKind;
use crate::runner::RowResult;
use crate::wechat::Api;

/// What `plan` read of the go-live of a sheet with go-live rows.
#[derive(Debug)]
pub(super) struct GoLiveInfo {
    /// Rows whose audit step would submit, now or later.
    pub(super) needed: usize,
    /// `queryquota`, or why it could not be read.
    pub(super) quota: Result<AuditQuota, String>,
    /// Each go-live row's filing status, in line order.
    pub(super) icp: Vec<RowIcp>,
}

/// One go-live row's ICP filing status.
#[derive(Debug)]
pub(super) struct RowIcp {
    pub(super) line: u64,
    pub(super) identity: String,
    pub(super) filing: Filing,
}

/// A row's filing as `get_icp_entrance_info` answered.
#[derive(Debug)]
pub(super) enum Filing {
    Read(IcpInfo),
    /// The row registers its mini-program first: there is nothing to ask about yet.
    NotRegistered,
    /// The call failed; why.
    Unread(String),
}

/// True when the row's go-live includes an audit to submit (every go-live row has one).
fn goes_live(row: &RowResult) -> bool {
    row.steps.contains_key(&StepKind::Audit)
}

/// True when the row's audit step would take from the platform's pool: its decision (not the
/// state `plan` expects `run` to leave, which takes a submission as made) is to submit, or to
/// wait — for the pool, for the row's earlier steps, for its registration, or for a cause
/// outside the sheet (a blocked audit still submits once its cause is fixed). An audit done,
/// in review or failed takes nothing more.
fn needs_submission(row: &RowResult) -> bool {
    let Some(plan) = &row.planned else { return false };
    plan.steps.iter().any(|s| {
        s.kind == StepKind::Audit
            && matches!(
                s.outcome.state,
                StepState::Pending | StepState::Deferred | StepState::Waiting | StepState::Blocked
            )
    })
}

/// Reads the go-live information of `rows` (as `plan` planned them): `None` when no row goes
/// live, and then no call is made.
pub(super) async fn read(api: &Api, rows: &[RowResult], concurrency: usize) -> anyhow::Result<Option<GoLiveInfo>> {
    let golive: Vec<&RowResult> = rows.iter().filter(|r| goes_live(r)).collect();
    if golive.is_empty() {
        return Ok(None);
    }
    let needed = golive.iter().filter(|r| needs_submission(r)).count();
    let quota = match quota_reader(api, &golive).await? {
        Some(appid) => api.audit_pool.quota(api, &appid).await.map_err(|e| format!("not read: {e}")),
        None => {
            Err("not read: no mini-program of the platform is authorized yet (queryquota takes one's token)".into())
        }
    };
    let icp = futures::stream::iter(golive.iter().map(|row| async move {
        let filing = if row.appid.is_empty() {
            Filing::NotRegistered
        } else {
            match api.call(&row.appid, &GetIcpEntranceInfo {}).await {
                Ok(answer) => Filing::Read(answer.info),
                Err(e) => Filing::Unread(e.to_string()),
            }
        };
        let identity = row.planned.as_ref().map(|p| p.identity.clone()).unwrap_or_default();
        RowIcp { line: row.line, identity, filing }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await;
    Ok(Some(GoLiveInfo { needed, quota, icp }))
}

/// The mini-program whose token reads `queryquota` (any authorizer's answers for the whole
/// platform): the first go-live row's with a stored token, else any stored one, else the
/// first go-live row's (a token helper may have it).
async fn quota_reader(api: &Api, golive: &[&RowResult]) -> anyhow::Result<Option<String>> {
    let stored = api.stored_authorizers().await?;
    let rows = golive.iter().map(|r| r.appid.as_str()).filter(|a| !a.is_empty());
    Ok(rows
        .clone()
        .find(|a| stored.iter().any(|s| s == a))
        .or_else(|| stored.first().map(String::as_str))
        .or_else(|| rows.clone().next())
        .map(str::to_string))
}

impl GoLiveInfo {
    /// The audit quota in a sentence: how many submissions the sheet needs against `rest`.
    pub(super) fn quota_sentence(&self) -> String {
        let needed = match self.needed {
            1 => "1 audit submission needed".to_string(),
            n => format!("{n} audit submissions needed"),
        };
        match &self.quota {
            Err(why) => format!("{needed}; queryquota {why}"),
            Ok(q) if self.needed as i64 > q.rest => format!(
                "{needed}, queryquota shows {} of {} left this month: the first {} in sheet order would be submitted, \
                 the other {} deferred until the quota is raised or the month turns (exit 4)",
                q.rest,
                q.limit,
                q.rest.max(0),
                self.needed as i64 - q.rest.max(0)
            ),
            Ok(q) => format!("{needed}, queryquota shows {} of {} left this month", q.rest, q.limit),
        }
    }

    /// The table's section, after the counts.
    pub(super) fn section(&self) -> String {
        let mut out = format!("\ngo-live: {}\n", plural(self.icp.len(), "row"));
        out.push_str(&format!("  audit quota: {}\n", self.quota_sentence()));
        out.push_str(&format!(
            "  ICP filing (get_icp_entrance_info; release needs {ICP_FILED}, 已备案):\n{:>7}  {:<20} {:<6} {}\n",
            "line", "row", "status", "meaning"
        ));
        for row in &self.icp {
            out.push_str(&format!(
                "{:>7}  {:<20} {:<6} {}\n",
                row.line,
                row.identity,
                row.filing.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                row.filing.meaning()
            ));
        }
        out
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

impl Filing {
    /// The status code, when read.
    pub(super) fn status(&self) -> Option<i64> {
        match self {
            Filing::Read(info) => Some(info.status),
            _ => None,
        }
    }

    /// What the status means, or why there is none.
    pub(super) fn meaning(&self) -> String {
        match self {
            Filing::Read(info) => info.describe().to_string(),
            Filing::NotRegistered => "not registered yet: read once the registration is done".into(),
            Filing::Unread(why) => format!("not read: {why}"),
        }
    }

    /// The plan line's detail: the status code first, then its meaning.
    pub(super) fn detail(&self) -> String {
        match self.status() {
            Some(status) => format!("{status} {}", self.meaning()),
            None => self.meaning(),
        }
    }
}
