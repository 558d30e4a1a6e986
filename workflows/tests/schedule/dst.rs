//! Next fire times across daylight saving changes, in real zones.
//!
//! 2026 transitions used here: America/New_York springs forward 2026-03-08 02:00 EST -> 03:00
//! EDT (07:00 UTC) and falls back 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC);
//! Europe/Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC).

use crate::{spec, utc};

#[test]
fn a_daily_time_inside_the_new_york_spring_gap_fires_once_at_the_end_of_the_gap() {
    let s = spec("30 2 * * *", "America/New_York");
    assert_eq!(
        s.upcoming(utc(2026, 3, 7, 0, 0, 0), 3),
        vec![
            utc(2026, 3, 7, 7, 30, 0), // 02:30 EST
            utc(2026, 3, 8, 7, 0, 0),  // 02:30 does not exist: 03:00 EDT, the gap's end
            utc(2026, 3, 9, 6, 30, 0), // 02:30 EDT
        ]
    );
}

#[test]
fn a_daily_time_inside_the_berlin_spring_gap_fires_once_at_the_end_of_the_gap() {
    let s = spec("30 2 * * *", "Europe/Berlin");
    assert_eq!(
        s.upcoming(utc(2026, 3, 28, 0, 0, 0), 3),
        vec![
            utc(2026, 3, 28, 1, 30, 0), // 02:30 CET
            utc(2026, 3, 29, 1, 0, 0),  // 03:00 CEST
            utc(2026, 3, 30, 0, 30, 0), // 02:30 CEST
        ]
    );
}

#[test]
fn several_times_inside_one_gap_fire_once_together() {
    let s = spec("0,30 2 * * *", "America/New_York");
    assert_eq!(
        s.upcoming(utc(2026, 3, 8, 0, 0, 0), 2),
        vec![utc(2026, 3, 8, 7, 0, 0), utc(2026, 3, 9, 6, 0, 0)]
    );
}

#[test]
fn a_daily_time_inside_the_new_york_fall_back_overlap_fires_once_not_twice() {
    let s = spec("30 1 * * *", "America/New_York");
    assert_eq!(
        s.upcoming(utc(2026, 10, 31, 12, 0, 0), 2),
        vec![
            utc(2026, 11, 1, 5, 30, 0), // 01:30 EDT, the first time it is 01:30
            utc(2026, 11, 2, 6, 30, 0), // next day 01:30 EST; never 06:30 UTC on Nov 1
        ]
    );
    // Asked from inside the second pass of the repeated hour: still not again that night.
    assert_eq!(
        s.next_after(utc(2026, 11, 1, 6, 10, 0)),
        Some(utc(2026, 11, 2, 6, 30, 0))
    );
}

#[test]
fn an_hourly_schedule_keeps_real_time_through_both_changes() {
    let hourly = spec("30 * * * *", "America/New_York");
    // Fall back: 01:30 happens twice, an hour apart in real time; both fire.
    assert_eq!(
        hourly.upcoming(utc(2026, 11, 1, 4, 45, 0), 3),
        vec![
            utc(2026, 11, 1, 5, 30, 0), // 01:30 EDT
            utc(2026, 11, 1, 6, 30, 0), // 01:30 EST
            utc(2026, 11, 1, 7, 30, 0), // 02:30 EST
        ]
    );
    // Asked from the first pass after its 01:30 fired: the second 01:30 is next.
    assert_eq!(
        hourly.next_after(utc(2026, 11, 1, 5, 45, 0)),
        Some(utc(2026, 11, 1, 6, 30, 0))
    );
    // Spring forward: 02:30 never happens, so nothing is made up for it.
    assert_eq!(
        hourly.upcoming(utc(2026, 3, 8, 5, 45, 0), 3),
        vec![
            utc(2026, 3, 8, 6, 30, 0), // 01:30 EST
            utc(2026, 3, 8, 7, 30, 0), // 03:30 EDT
            utc(2026, 3, 8, 8, 30, 0),
        ]
    );
    let quarter = spec("*/15 * * * *", "America/New_York");
    let through_the_overlap = quarter.upcoming(utc(2026, 11, 1, 4, 50, 0), 10);
    for pair in through_the_overlap.windows(2) {
        assert_eq!(pair[1] - pair[0], chrono::Duration::minutes(15), "{pair:?}");
    }
}

#[test]
fn shanghai_has_no_dst_and_weekday_mornings_skip_the_weekend() {
    let s = spec("0 9 * * 1-5", "Asia/Shanghai");
    // From Friday 2026-03-06 10:00 local.
    assert_eq!(
        s.upcoming(utc(2026, 3, 6, 2, 0, 0), 6),
        vec![
            utc(2026, 3, 9, 1, 0, 0), // Monday 09:00 +08:00
            utc(2026, 3, 10, 1, 0, 0),
            utc(2026, 3, 11, 1, 0, 0),
            utc(2026, 3, 12, 1, 0, 0),
            utc(2026, 3, 13, 1, 0, 0),
            utc(2026, 3, 16, 1, 0, 0),
        ]
    );
    // The local date decides the weekday: Monday 09:00 in Shanghai is Monday 01:00 UTC.
    assert_eq!(
        spec("0 9 * * MON", "Asia/Shanghai").next_after(utc(2026, 3, 8, 23, 0, 0)),
        Some(utc(2026, 3, 9, 1, 0, 0))
    );
}

#[test]
fn next_after_is_strict_and_ignores_fractions_of_a_second() {
    let s = spec("0 9 * * *", "UTC");
    let nine = utc(2026, 3, 2, 9, 0, 0);
    assert_eq!(s.next_after(nine), Some(utc(2026, 3, 3, 9, 0, 0)));
    let just_before = nine - chrono::Duration::milliseconds(1);
    assert_eq!(s.next_after(just_before), Some(nine));
    let just_after = nine + chrono::Duration::milliseconds(500);
    assert_eq!(s.next_after(just_after), Some(utc(2026, 3, 3, 9, 0, 0)));
}

#[test]
fn second_granular_schedules_cross_the_overlap_quickly_and_correctly() {
    let started = std::time::Instant::now();
    // Every second of the 01:00 hour: the first pass only.
    let s = spec("* * 1 * * *", "America/New_York");
    assert_eq!(
        s.next_after(utc(2026, 11, 1, 5, 59, 59)),
        Some(utc(2026, 11, 2, 6, 0, 0))
    );
    assert_eq!(
        s.next_after(utc(2026, 11, 1, 6, 30, 0)),
        Some(utc(2026, 11, 2, 6, 0, 0)),
        "from inside the second pass"
    );
    // Every ten seconds, all day: real time, straight through.
    let s = spec("*/10 * * * * *", "America/New_York");
    assert_eq!(
        s.upcoming(utc(2026, 11, 1, 5, 59, 45), 3),
        vec![
            utc(2026, 11, 1, 5, 59, 50),
            utc(2026, 11, 1, 6, 0, 0),
            utc(2026, 11, 1, 6, 0, 10),
        ]
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
