//! The platform's monthly audit quota as one run sees it (DESIGN §9, golive.md §3.10): one
//! pool shared by every mini-program of the platform, so every row of a run draws from one
//! reading of `queryquota` rather than each asking WeChat and all of them submitting on the
//! same `rest`.
//!
//! The first row that wants to submit reads `queryquota` (with its own token: any
//! authorizer's works); each submission then takes one from the run's count, under one lock,
//! in the order the rows ask — rows are taken up in sheet order. When the count is 0 the rest
//! are deferred (85085's rule, [`DeferUntil::AuditQuota`](wechat_open::errcode::DeferUntil)):
//! a later run reads `queryquota` again and submits them as soon as it shows `rest > 0`. A
//! submission WeChat refused before it took from the pool gives its place back; one whose
//! answer was lost keeps it (it may have been taken). How many rows were deferred is what
//! the run's summary shows ([`AuditPool::summary`]).

use std::collections::HashSet;

use serde::Serialize;
use wechat_open::golive::audit::{AuditQuota, QueryQuota};
use wechat_open::ApiError;

use super::Api;

/// The run's count of the platform's audit quota.
#[derive(Debug, Default)]
pub struct AuditPool {
    state: tokio::sync::Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// `queryquota` as read once this run; `None` until a row asks.
    read: Option<AuditQuota>,
    /// Submissions left for this run.
    rest: i64,
    /// The rows (identities) holding a place: asking again (a retried decision) takes none.
    granted: HashSet<String>,
    /// The rows deferred because the pool was spent.
    deferred: HashSet<String>,
}

/// What a row asking for a place gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// It may submit; `rest` is what is left after it.
    Granted { rest: i64, limit: i64 },
    /// The pool is spent: it waits for a later run.
    Spent { limit: i64 },
}

/// What `summary.json` and the end of a run show of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolSummary {
    /// `queryquota`'s `rest` when this run read it.
    pub rest_at_start: i64,
    /// `queryquota`'s `limit` then.
    pub limit: i64,
    /// Rows given a place this run (submitted, or about to be).
    pub submitted: usize,
    /// Rows deferred because the pool was spent.
    pub deferred: usize,
}

impl PoolState {
    /// `queryquota`, read the first time it is asked for.
    async fn read_once(&mut self, api: &Api, appid: &str) -> Result<AuditQuota, ApiError> {
        if let Some(q) = self.read {
            return Ok(q);
        }
        let q = api.call(appid, &QueryQuota {}).await?;
        self.read = Some(q);
        self.rest = q.rest;
        Ok(q)
    }
}

impl AuditPool {
    /// A place for row `identity` of mini-program `appid`, reading `queryquota` with its
    /// token when this run has not read it yet.
    pub async fn claim(&self, api: &Api, appid: &str, identity: &str) -> Result<Claim, ApiError> {
        let mut st = self.state.lock().await;
        let quota = st.read_once(api, appid).await?;
        if st.granted.contains(identity) {
            return Ok(Claim::Granted { rest: st.rest, limit: quota.limit });
        }
        if st.rest <= 0 {
            st.deferred.insert(identity.to_string());
            return Ok(Claim::Spent { limit: quota.limit });
        }
        st.rest -= 1;
        st.granted.insert(identity.to_string());
        st.deferred.remove(identity);
        Ok(Claim::Granted { rest: st.rest, limit: quota.limit })
    }

    /// `queryquota` as this run read it (with `appid`'s token when it has not yet): what
    /// `plan` sets the sheet's submissions against, without a second call when a row asked.
    pub async fn quota(&self, api: &Api, appid: &str) -> Result<AuditQuota, ApiError> {
        self.state.lock().await.read_once(api, appid).await
    }

    /// WeChat refused row `identity`'s submission before taking from the pool: its place
    /// goes to the next row.
    pub async fn give_back(&self, identity: &str) {
        let mut st = self.state.lock().await;
        if st.granted.remove(identity) {
            st.rest += 1;
        }
    }

    /// WeChat said the pool is spent (85085) for row `identity`: no row of this run gets a
    /// place any more, and this one is deferred.
    pub async fn spent(&self, identity: &str) {
        let mut st = self.state.lock().await;
        st.rest = 0;
        st.granted.remove(identity);
        st.deferred.insert(identity.to_string());
    }

    /// What the run saw of the pool; `None` when no row asked for a place.
    pub fn summary(&self) -> Option<PoolSummary> {
        let st = self.state.try_lock().ok()?;
        let read = st.read?;
        Some(PoolSummary {
            rest_at_start: read.rest,
            limit: read.limit,
            submitted: st.granted.len(),
            deferred: st.deferred.len(),
        })
    }
}

impl PoolSummary {
    /// The line the end of a run prints.
    pub fn line(&self) -> String {
        format!(
            "audit quota: {} submitted, {} deferred (queryquota showed {} of {} left this month)\n",
            self.submitted, self.deferred, self.rest_at_start, self.limit
        )
    }
}
