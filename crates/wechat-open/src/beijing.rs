//! Beijing time. WeChat's daily, monthly and yearly quotas reset on Beijing-time days,
//! months and years (UTC+8, no daylight saving time), whatever the time zone of the machine
//! that calls it; so the dates a deferred call waits for are computed here, and times shown
//! to people who deal with WeChat are shown on Beijing's clock and say so.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};

/// UTC+8.
pub fn offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// What a time shown to people is followed by.
pub(crate) const LABEL: &str = "Beijing time";

/// `t` on Beijing's clock.
pub fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&offset())
}

/// A Unix time as ops staff read it, to the minute: `2026-11-21 11:15 Beijing time`; `-`
/// when there is none.
pub fn show(secs: Option<i64>) -> String {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| format!("{} {LABEL}", local(t).format("%Y-%m-%d %H:%M")))
        .unwrap_or_else(|| "-".into())
}

/// `t` for machines that read it and people who look: RFC 3339 with milliseconds, on
/// Beijing's clock, with its offset (`2026-11-21T11:15:00.123+08:00`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    local(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// A compact stamp of `t` on Beijing's clock to the millisecond, `20261121-111500.123`
/// (wxprov's run ids start with it). Stamps sort by time because Beijing has no daylight
/// saving time.
pub fn run_stamp(t: DateTime<Utc>) -> String {
    local(t).format("%Y%m%d-%H%M%S%.3f").to_string()
}

/// Midnight at the start of the Beijing-time day `now` is in.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = local(now).date_naive();
    midnight(day.year(), day.month(), day.day())
}

/// Midnight at the start of the Beijing-time day after `now`.
pub fn next_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&offset()).date_naive();
    let next = local.succ_opt().unwrap_or(local);
    midnight(next.year(), next.month(), next.day())
}

/// Midnight at the start of the first day of the Beijing-time month after `now`.
pub fn next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&offset());
    let (year, month) = if local.month() == 12 { (local.year() + 1, 1) } else { (local.year(), local.month() + 1) };
    midnight(year, month, 1)
}

/// Midnight at the start of 1 January of the Beijing-time year after `now` (yearly quotas,
/// such as the name changes, reset then).
pub fn next_year(now: DateTime<Utc>) -> DateTime<Utc> {
    midnight(now.with_timezone(&offset()).year() + 1, 1, 1)
}

/// Midnight at the start of the Beijing-time month `now` is in.
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&offset());
    midnight(local.year(), local.month(), 1)
}

fn midnight(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    offset()
        .with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .expect("midnight exists at a fixed offset")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_and_months_turn_in_beijing() {
        // 17:00 UTC on the 30th is already 01:00 on 1 December in Beijing.
        assert_eq!(next_day(utc("2026-11-30T17:00:00Z")), utc("2026-12-01T16:00:00Z"));
        assert_eq!(next_day(utc("2026-11-30T15:59:59Z")), utc("2026-11-30T16:00:00Z"));
        assert_eq!(next_month(utc("2026-11-30T15:59:59Z")), utc("2026-11-30T16:00:00Z"));
        assert_eq!(next_month(utc("2026-11-30T16:00:00Z")), utc("2026-12-31T16:00:00Z"));
        assert_eq!(next_month(utc("2026-12-15T00:00:00Z")), utc("2026-12-31T16:00:00Z"));
        assert_eq!(day_start(utc("2026-11-30T17:00:00Z")), utc("2026-11-30T16:00:00Z"));
        assert_eq!(day_start(utc("2026-11-30T15:59:59Z")), utc("2026-11-29T16:00:00Z"));
        // 31 December 15:59:59 UTC is 23:59:59 in Beijing; a second later it is 1 January.
        assert_eq!(next_year(utc("2026-12-31T15:59:59Z")), utc("2026-12-31T16:00:00Z"));
        assert_eq!(next_year(utc("2026-12-31T16:00:00Z")), utc("2027-12-31T16:00:00Z"));
        assert_eq!(next_year(utc("2026-03-01T00:00:00Z")), utc("2026-12-31T16:00:00Z"));
    }

    #[test]
    fn times_for_people_are_on_beijings_clock_and_say_so() {
        let t = utc("2026-11-21T03:15:00.123Z");
        assert_eq!(run_stamp(t), "20261121-111500.123");
        assert_eq!(rfc3339(t), "2026-11-21T11:15:00.123+08:00");
        assert_eq!(show(Some(t.timestamp())), "2026-11-21 11:15 Beijing time");
        assert_eq!(show(None), "-");
        // 16:30 UTC is already the next day in Beijing.
        assert_eq!(run_stamp(utc("2026-11-30T16:30:00Z")), "20261201-003000.000");
    }
}
