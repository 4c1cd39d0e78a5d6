//! WeChat's own limits for an API (`quota/get`'s `rate_limit` and `component_rate_limit`,
//! NOTES.md, read as [`StatedLimits`]) as the pacer's ceiling for that path, cached in the
//! ledger.
//!
//! The limits are WeChat's for a path, not for one account, so they are asked once per path
//! and Beijing day: before a run's first call to a path, with the token that call carries (so
//! no token is fetched for it), and kept in the ledger's cache until the Beijing day ends.
//! Asking is never a reason to stop: a `quota/get` that fails (76021 invalid path, 76022 no
//! quota for it, 48001, a timeout…) only means WeChat states no limit, and the job's own
//! limits pace the path.

use super::api::{QuotaGet, RateLimit};
use super::{Api, Endpoint};
pub use wechat_open::pacing::StatedLimits;
use wechat_open::secret::Secret;

/// The ledger cache key of a path's stated limits.
fn cache_key(path: &str) -> String {
    format!("quota/get {path}")
}

impl Api {
    /// Before the run's first call to `path` (made for `appid` with `token`): the limits
    /// WeChat states for it become the pacer's ceiling. Calls made with an authorizer's token
    /// are made on that account's behalf, so `component_rate_limit` binds as well. Only runs
    /// that pace (a pacer) ask; `quota/get` itself is never asked about.
    pub(super) async fn heed_stated_limit(&self, path: &str, appid: &str, token: &Secret) {
        let Some(pacer) = self.calls.pacer() else { return };
        if path == QuotaGet::PATH {
            return;
        }
        pacer
            .stated_lookup(path)
            .get_or_init(|| async {
                let Some(stated) = self.stated_limits(path, appid, token).await else { return };
                let stated_any = stated.any();
                match pacer.heed(path, &stated, true) {
                    Some(spacing) if stated_any => tracing::info!(
                        "WeChat limits {path} to {} (on an account's behalf {}): at most one call every {} ms",
                        shown(stated.rate_limit),
                        shown(stated.component_rate_limit),
                        spacing.as_millis()
                    ),
                    _ => tracing::debug!("WeChat states no rate limit for {path}"),
                }
            })
            .await;
    }

    /// `path`'s stated limits: today's cached answer, else `quota/get`'s; `None` when it
    /// could not be read.
    async fn stated_limits(&self, path: &str, appid: &str, token: &Secret) -> Option<StatedLimits> {
        let key = cache_key(path);
        let today = wechat_open::beijing::day_start(chrono::Utc::now()).timestamp();
        match self.ledger.cache_get(&key, today).await {
            Ok(Some(text)) => match serde_json::from_str(&text) {
                Ok(stated) => return Some(stated),
                Err(e) => tracing::debug!("ignoring the cached limits of {path}: {e}"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!("could not read the cached limits of {path}: {e}"),
        }
        let req = QuotaGet { cgi_path: path.to_string() };
        let answer = self
            .calls
            .send(Some(appid), QuotaGet::PATH, wechat_open::calls::request_key(&req), QuotaGet::TOKEN, false, || {
                self.client.call(Some(token), &req)
            })
            .await;
        let stated = match answer {
            Ok(answer) => {
                // The daily quota it states for this account, which the status page shows
                // beside the calls per day.
                let daily = answer.quota.daily_limit.to_string();
                if let Err(e) = self.ledger.cache_put(&crate::ledger::daily_limit_key(path), &daily).await {
                    tracing::warn!("could not cache the daily limit of {path}: {e}");
                }
                StatedLimits::of(&answer)
            }
            Err(e) => match StatedLimits::of_error(&e) {
                Some(none) => {
                    tracing::debug!("no stated rate limit for {path}: {e}");
                    none
                }
                None => {
                    tracing::info!("could not read WeChat's rate limit for {path} ({e}); the job's limits pace it");
                    return None;
                }
            },
        };
        match serde_json::to_string(&stated) {
            Ok(text) => {
                if let Err(e) = self.ledger.cache_put(&key, &text).await {
                    tracing::warn!("could not cache the limits of {path}: {e}");
                }
            }
            Err(e) => tracing::warn!("could not cache the limits of {path}: {e}"),
        }
        Some(stated)
    }
}

fn shown(limit: Option<RateLimit>) -> String {
    limit.map_or_else(|| "none stated".to_string(), |l| format!("{} calls per {} s", l.call_count, l.refresh_second))
}
