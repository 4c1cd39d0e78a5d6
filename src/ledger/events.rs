//! The append-only log of every API call: when, which run, which appid, which API, the
//! errcode and how long it took. Never a token: the API is a path without its query string.
//! Each call that reached WeChat also counts toward `quota_use` (per appid, API and
//! Beijing-time day), which is what WeChat's daily quotas count.

use rusqlite::params;

use super::Ledger;

/// One API call, as the event log records it.
#[derive(Debug, Clone)]
pub struct CallEvent {
    pub at_ms: i64,
    pub run_id: Option<String>,
    pub appid: Option<String>,
    /// The API path, e.g. `/cgi-bin/account/modifysignature`.
    pub api: String,
    /// 0 on success; `None` for transport failures.
    pub errcode: Option<i64>,
    pub duration_ms: i64,
    /// `ok`, `errcode`, `http 502`, `timeout`, `connection`…
    pub outcome: String,
}

impl Ledger {
    /// Appends a call to the event log. Queued, not awaited: the call log must not slow
    /// every call down by a commit; it is written with the next batch.
    pub fn record_call(&self, event: CallEvent) {
        self.call_later(move |c| {
            c.prepare_cached(
                "INSERT INTO events (at_ms, run_id, appid, api, errcode, duration_ms, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                event.at_ms,
                event.run_id,
                event.appid,
                event.api,
                event.errcode,
                event.duration_ms,
                event.outcome
            ])?;
            if event.errcode.is_some() {
                let day = chrono::DateTime::from_timestamp_millis(event.at_ms)
                    .unwrap_or_default()
                    .with_timezone(&crate::beijing::offset())
                    .format("%Y-%m-%d")
                    .to_string();
                c.prepare_cached(
                    "INSERT INTO quota_use (appid, api, day, calls) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (appid, api, day) DO UPDATE SET calls = calls + 1",
                )?
                .execute(params![event.appid.unwrap_or_default(), event.api, day])?;
            }
            Ok(())
        })
    }
}
