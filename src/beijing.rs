//! Beijing time. WeChat's daily and monthly quotas reset on Beijing-time days and months
//! (NOTES.md), whatever the time zone of the machine running wxprov.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};

/// UTC+8.
pub fn offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
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
    }
}
