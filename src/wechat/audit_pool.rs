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
    /// `queryquota` by `read`, awaited the first time it is asked for only.
    async fn read_once<F>(&mut self, read: F) -> Result<AuditQuota, ApiError>
    where
        F: std::future::Future<Output = Result<AuditQuota, ApiError>>,
    {
        if let Some(q) = self.read {
            return Ok(q);
        }
        let q = read.await?;
        self.read = Some(q);
        self.rest = q.rest;
        Ok(q)
    }
}

impl AuditPool {
    /// `queryquota` as this run read it (with `appid`'s token when it has not yet): what
    /// `plan` sets the sheet's submissions against, without a second call when a row asked.
    pub async fn quota(&self, api: &Api, appid: &str) -> Result<AuditQuota, ApiError> {
        self.state.lock().await.read_once(api.call(appid, &QueryQuota {})).await
    }

    /// A place for row `identity`; `read` is the run's `queryquota` call (with the row's
    /// token), awaited only by the first row that asks.
    pub async fn claim<F>(&self, identity: &str, read: F) -> Result<Claim, ApiError>
    where
        F: std::future::Future<Output = Result<AuditQuota, ApiError>>,
    {
        let mut st = self.state.lock().await;
        let quota = st.read_once(read).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn quota(rest: i64, limit: i64) -> AuditQuota {
        AuditQuota { rest, limit, ..Default::default() }
    }

    /// One reading for the run, places in the order rows ask, the rest spent; a row that asks
    /// again (a retried decision) keeps its place and takes no other.
    #[tokio::test]
    async fn three_places_for_five_rows_go_to_the_first_three_that_ask() {
        let pool = AuditPool::default();
        let reads = AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(quota(3, 20))
        };
        let mut claims = Vec::new();
        for row in ["r1", "r2", "r3", "r4", "r5"] {
            claims.push(pool.claim(row, read()).await.unwrap());
        }
        assert_eq!(
            claims,
            [
                Claim::Granted { rest: 2, limit: 20 },
                Claim::Granted { rest: 1, limit: 20 },
                Claim::Granted { rest: 0, limit: 20 },
                Claim::Spent { limit: 20 },
                Claim::Spent { limit: 20 },
            ]
        );
        assert_eq!(pool.claim("r2", read()).await.unwrap(), Claim::Granted { rest: 0, limit: 20 });
        assert_eq!(reads.load(Ordering::SeqCst), 1, "queryquota once per run");
        let summary = PoolSummary { rest_at_start: 3, limit: 20, submitted: 3, deferred: 2 };
        assert_eq!(pool.summary(), Some(summary));
        assert_eq!(
            summary.line(),
            "audit quota: 3 submitted, 2 deferred (queryquota showed 3 of 20 left this month)\n"
        );
    }

    /// A refusal before the pool was taken (85009) gives the place to the next row; 85085
    /// spends the pool for the rest of the run, whatever the reading said.
    #[tokio::test]
    async fn a_place_given_back_goes_to_the_next_row_and_85085_spends_the_pool() {
        let pool = AuditPool::default();
        let read = || async { Ok(quota(1, 5)) };
        assert_eq!(pool.claim("r1", read()).await.unwrap(), Claim::Granted { rest: 0, limit: 5 });
        assert_eq!(pool.claim("r2", read()).await.unwrap(), Claim::Spent { limit: 5 });
        pool.give_back("r1").await;
        assert_eq!(pool.claim("r2", read()).await.unwrap(), Claim::Granted { rest: 0, limit: 5 });
        pool.give_back("r2").await;
        pool.spent("r2").await;
        assert_eq!(pool.claim("r3", read()).await.unwrap(), Claim::Spent { limit: 5 });
        assert_eq!(pool.summary(), Some(PoolSummary { rest_at_start: 1, limit: 5, submitted: 0, deferred: 2 }));
    }

    #[tokio::test]
    async fn no_reading_no_summary_and_a_failed_reading_is_the_rows_error() {
        let pool = AuditPool::default();
        assert_eq!(pool.summary(), None);
        let failed =
            pool.claim("r1", async { Err(ApiError::Http { api: "/wxa/queryquota".into(), status: 502 }) }).await;
        assert!(failed.is_err());
        assert_eq!(pool.summary(), None, "a later row reads it again");
    }
}
