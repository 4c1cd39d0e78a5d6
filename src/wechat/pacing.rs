//! How a job's `[limits]` become the pacer's ([`wechat_open::pacing::Limits`]).

use wechat_open::pacing::Limits;

impl From<&crate::config::Limits> for Limits {
    fn from(limits: &crate::config::Limits) -> Limits {
        Limits {
            calls_per_second: limits.calls_per_second,
            per_appid_per_second: limits.per_appid_per_second,
            per_minute: limits.per_minute.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jobs_limits_are_the_pacers() {
        let mut job = crate::config::Limits::default();
        job.per_minute.insert("/a".into(), 20);
        let limits = Limits::from(&job);
        assert_eq!(
            (limits.calls_per_second, limits.per_appid_per_second, limits.per_minute),
            (job.calls_per_second, job.per_appid_per_second, job.per_minute)
        );
    }
}
