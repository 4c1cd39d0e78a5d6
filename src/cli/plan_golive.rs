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
use crate::report::LineSpool;
use crate::runner::RowResult;
use crate::wechat::Api;

/// What `plan` gathers of the go-live rows as the rows are planned: how many there are, how
/// many need a submission, and each one's line, identity and appid, in a temporary file put
/// back in line order ([`LineSpool`]), for the filings read after.
pub(super) struct GoLiveRows {
    rows: usize,
    needed: usize,
    /// Each go-live row a record: line, identity, appid.
    spool: LineSpool,
}

impl GoLiveRows {
    pub(super) fn new() -> anyhow::Result<GoLiveRows> {
        Ok(GoLiveRows { rows: 0, needed: 0, spool: LineSpool::temporary("plan-golive")? })
    }

    /// Takes a planned row: noted when it goes live.
    pub(super) fn take(&mut self, row: &RowResult) -> anyhow::Result<()> {
        if !goes_live(row) {
            return Ok(());
        }
        self.rows += 1;
        self.needed += usize::from(needs_submission(row));
        let identity = row.planned.as_ref().map(|p| p.identity.clone()).unwrap_or_default();
        self.spool.push(row.line, vec![vec![row.line.to_string(), identity, row.appid.clone()]])
    }

    /// Puts the rows in line order, from disk if need be.
    pub(super) fn finish(&mut self) -> anyhow::Result<()> {
        self.spool.finish()
    }

    /// The go-live rows in line order: line, identity, appid.
    fn each(&self) -> anyhow::Result<impl Iterator<Item = anyhow::Result<(u64, String, String)>>> {
        Ok(self.spool.records()?.into_records().map(|record| {
            let record = record?;
            let field = |i| record.get(i).unwrap_or_default().to_string();
            Ok((field(0).parse()?, field(1), field(2)))
        }))
    }
}

/// What `plan` read of the go-live of a sheet with go-live rows: the audit quota; the
/// filings are read as they are shown ([`GoLiveInfo::icp`]).
#[derive(Debug)]
pub(super) struct GoLiveInfo<'a> {
    /// How many rows go live.
    rows: usize,
    /// Rows whose audit step would submit, now or later.
    pub(super) needed: usize,
    /// `queryquota`, or why it could not be read.
    pub(super) quota: Result<AuditQuota, String>,
    golive: &'a GoLiveRows,
}

impl std::fmt::Debug for GoLiveRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoLiveRows").field("rows", &self.rows).field("needed", &self.needed).finish_non_exhaustive()
    }
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

/// Reads the audit quota for the go-live rows (as `plan` planned them): `None` when no row
/// goes live, and then no call is made.
pub(super) async fn read<'a>(api: &Api, golive: &'a GoLiveRows) -> anyhow::Result<Option<GoLiveInfo<'a>>> {
    if golive.rows == 0 {
        return Ok(None);
    }
    let quota = match quota_reader(api, golive).await? {
        Some(appid) => api.audit_pool.quota(api, &appid).await.map_err(|e| format!("not read: {e}")),
        None => {
            Err("not read: no mini-program of the platform is authorized yet (queryquota takes one's token)".into())
        }
    };
    Ok(Some(GoLiveInfo { rows: golive.rows, needed: golive.needed, quota, golive }))
}

/// The mini-program whose token reads `queryquota` (any authorizer's answers for the whole
/// platform): the first go-live row's with a stored token, else any stored one, else the
/// first go-live row's (a token helper may have it).
async fn quota_reader(api: &Api, golive: &GoLiveRows) -> anyhow::Result<Option<String>> {
    /// Go-live rows looked up in the ledger at a time.
    const BATCH: usize = 512;
    let (mut first, mut batch) = (None, Vec::with_capacity(BATCH));
    let mut rows = golive.each()?.peekable();
    while let Some(row) = rows.next() {
        let (_, _, appid) = row?;
        if !appid.is_empty() {
            first.get_or_insert_with(|| appid.clone());
            batch.push(appid);
        }
        if batch.len() == BATCH || (rows.peek().is_none() && !batch.is_empty()) {
            let held = api.ledger.refreshable_of(std::mem::take(&mut batch)).await?;
            if let Some(appid) = held.into_iter().next() {
                return Ok(Some(appid));
            }
        }
    }
    Ok(api.stored_authorizers(1).await?.into_iter().next().or(first))
}

impl GoLiveInfo<'_> {
    /// Reads each go-live row's filing (`get_icp_entrance_info`, `concurrency` at a time) and
    /// hands them to `each` in line order, as they come.
    pub(super) async fn icp(
        &self,
        api: &Api,
        concurrency: usize,
        mut each: impl FnMut(RowIcp) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let rows = futures::stream::iter(self.golive.each()?).map(|row| async move {
            let (line, identity, appid) = row?;
            let filing = if appid.is_empty() {
                Filing::NotRegistered
            } else {
                match api.call(&appid, &GetIcpEntranceInfo {}).await {
                    Ok(answer) => Filing::Read(answer.info),
                    Err(e) => Filing::Unread(e.to_string()),
                }
            };
            anyhow::Ok(RowIcp { line, identity, filing })
        });
        let mut rows = std::pin::pin!(rows.buffered(concurrency.max(1)));
        while let Some(row) = rows.next().await {
            each(row?)?;
        }
        Ok(())
    }

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

    /// The head of the table's section, after the counts: the rows' filings follow
    /// ([`GoLiveInfo::section_row`]).
    pub(super) fn section_head(&self) -> String {
        let mut out = format!("\ngo-live: {}\n", plural(self.rows, "row"));
        out.push_str(&format!("  audit quota: {}\n", self.quota_sentence()));
        out.push_str(&format!(
            "  ICP filing (get_icp_entrance_info; release needs {ICP_FILED}, 已备案):\n{:>7}  {:<20} {:<6} {}\n",
            "line", "row", "status", "meaning"
        ));
        out
    }

    /// A go-live row's line in the table's section.
    pub(super) fn section_row(row: &RowIcp) -> String {
        format!(
            "{:>7}  {:<20} {:<6} {}\n",
            row.line,
            row.identity,
            row.filing.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            row.filing.meaning()
        )
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
