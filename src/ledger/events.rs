//! The append-only log of every API call: when, which run, which appid, which API, the
//! errcode and how long it took. Never a token: the API is a path without its query string.
//! The view `quota_use` counts from it the calls that reached WeChat per appid, API and
//! Beijing-time day, which is what WeChat's daily quotas count.

use rusqlite::params;

use super::Ledger;
use wechat_open::calls::CallSink;

pub use wechat_open::calls::CallEvent;

impl Ledger {
    /// Appends calls to the event log. Queued, not awaited: the call log must not slow
    /// every call down by a commit; it is written with the next batch.
    pub fn record_calls(&self, events: Vec<CallEvent>) {
        self.call_later(move |c| {
            super::atomic(c, |c| {
                let mut stmt = c.prepare_cached(
                    "INSERT INTO events (at_ms, run_id, appid, api, errcode, duration_ms, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for e in events {
                    stmt.execute(params![e.at_ms, e.run_id, e.appid, e.api, e.errcode, e.duration_ms, e.outcome])?;
                }
                Ok(())
            })
        })
    }
}

/// The call log's events go to the event log.
impl CallSink for Ledger {
    fn record(&self, events: Vec<CallEvent>) {
        self.record_calls(events);
    }
}
