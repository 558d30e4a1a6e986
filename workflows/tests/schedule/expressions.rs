//! 5/6/7-field expressions, standard day-of-week numbering, and errors that name the problem.

use aijia_workflows::schedule::{CronSpec, ScheduleError};
use chrono::{Datelike, Weekday};

use crate::{spec, utc};

#[test]
fn five_fields_fire_on_the_minute() {
    let s = spec("*/15 9-10 * * *", "UTC");
    assert_eq!(
        s.upcoming(utc(2026, 3, 2, 9, 40, 0), 4),
        vec![
            utc(2026, 3, 2, 9, 45, 0),
            utc(2026, 3, 2, 10, 0, 0),
            utc(2026, 3, 2, 10, 15, 0),
            utc(2026, 3, 2, 10, 30, 0),
        ]
    );
}

#[test]
fn six_fields_put_the_second_first() {
    let s = spec("30 0 9 * * *", "UTC");
    assert_eq!(
        s.next_after(utc(2026, 3, 2, 9, 0, 0)),
        Some(utc(2026, 3, 2, 9, 0, 30))
    );
    let every_ten_seconds = spec("*/10 * * * * *", "UTC");
    assert_eq!(
        every_ten_seconds.upcoming(utc(2026, 3, 2, 9, 0, 5), 2),
        vec![utc(2026, 3, 2, 9, 0, 10), utc(2026, 3, 2, 9, 0, 20)]
    );
}

#[test]
fn seven_fields_add_a_year_and_end_with_it() {
    let s = spec("0 0 9 1 1 * 2027", "UTC");
    assert_eq!(
        s.next_after(utc(2026, 3, 2, 0, 0, 0)),
        Some(utc(2027, 1, 1, 9, 0, 0))
    );
    assert_eq!(s.next_after(utc(2027, 1, 1, 9, 0, 0)), None);
}

#[test]
fn shorthands_expand_to_their_five_fields() {
    assert_eq!(
        spec("@daily", "UTC").next_after(utc(2026, 3, 2, 9, 0, 0)),
        Some(utc(2026, 3, 3, 0, 0, 0))
    );
    assert_eq!(
        spec("@weekly", "UTC").next_after(utc(2026, 3, 2, 9, 0, 0)),
        Some(utc(2026, 3, 8, 0, 0, 0)),
        "midnight on Sunday"
    );
}

fn weekdays(expression: &str) -> Vec<Weekday> {
    // From Sunday 2026-03-01 00:00 UTC, a week of daily 09:00 candidates.
    spec(expression, "UTC")
        .upcoming(utc(2026, 3, 1, 0, 0, 0), 7)
        .into_iter()
        .take_while(|t| *t < utc(2026, 3, 8, 0, 0, 0))
        .map(|t| t.weekday())
        .collect()
}

#[test]
fn sunday_is_0_or_7_and_1_to_5_are_monday_to_friday_in_every_form() {
    use Weekday::*;
    assert_eq!(weekdays("0 9 * * 0"), vec![Sun]);
    assert_eq!(weekdays("0 9 * * 7"), vec![Sun]);
    assert_eq!(weekdays("0 9 * * SUN"), vec![Sun]);
    assert_eq!(weekdays("0 9 * * 1-5"), vec![Mon, Tue, Wed, Thu, Fri]);
    assert_eq!(weekdays("0 9 * * MON-FRI"), vec![Mon, Tue, Wed, Thu, Fri]);
    assert_eq!(weekdays("0 9 * * 5-7"), vec![Sun, Fri, Sat]);
    assert_eq!(weekdays("0 9 * * 0,6"), vec![Sun, Sat]);
    assert_eq!(weekdays("0 9 * * */2"), vec![Sun, Tue, Thu, Sat]);
    // Seconds first, the same numbering: not the cron crate's (where 1 is Sunday).
    assert_eq!(weekdays("0 0 9 * * 1"), vec![Mon]);
    assert_eq!(
        weekdays("0 0 9 * * 1-5 2026"),
        vec![Mon, Tue, Wed, Thu, Fri]
    );
    assert_eq!(weekdays("0 0 9 ? * 0"), vec![Sun]);
}

#[test]
fn day_of_month_and_day_of_week_both_given_match_either_as_in_standard_cron() {
    // 2026-03-01 is a Sunday: the 1st, then every Monday.
    assert_eq!(
        spec("0 9 1 * MON", "UTC").upcoming(utc(2026, 2, 28, 0, 0, 0), 3),
        vec![
            utc(2026, 3, 1, 9, 0, 0),
            utc(2026, 3, 2, 9, 0, 0),
            utc(2026, 3, 9, 9, 0, 0),
        ]
    );
    // A day-of-month starting with * only narrows: odd days that are Mondays.
    assert_eq!(
        spec("0 9 */2 * MON", "UTC").upcoming(utc(2026, 2, 28, 0, 0, 0), 2),
        vec![utc(2026, 3, 9, 9, 0, 0), utc(2026, 3, 23, 9, 0, 0)]
    );
}

fn expression_error(expression: &str) -> String {
    match CronSpec::parse(expression, "UTC") {
        Err(e @ ScheduleError::Expression { .. }) => e.to_string(),
        other => panic!("{expression}: expected an expression error, got {other:?}"),
    }
}

#[test]
fn bad_expressions_are_refused_naming_the_field_and_token() {
    let cases = [
        ("0 9 * *", "expected 5 fields"),
        ("0 9 * * * * * *", "got 8"),
        ("0 25 * * *", "hour field \"25\": 25 is out of range 0-23"),
        ("61 9 * * *", "minute field \"61\": 61 is out of range 0-59"),
        (
            "0 9 32 * *",
            "day-of-month field \"32\": 32 is out of range 1-31",
        ),
        ("0 9 * 13 *", "month field \"13\": 13 is out of range 1-12"),
        (
            "0 9 * * 8",
            "day-of-week field \"8\": 8 is out of range 0-7",
        ),
        (
            "0 9 * * MON-FUN",
            "\"FUN\" is neither a number in 0-7 nor one of SUN",
        ),
        (
            "0 9 * JANUARY *",
            "\"JANUARY\" is neither a number in 1-12 nor one of JAN",
        ),
        (
            "0 9 L * *",
            "L, W and # (last day, weekday, nth weekday) are not supported",
        ),
        ("0 9 * * 1#2", "not supported"),
        ("*/0 9 * * *", "the step \"0\" must be a whole number >= 1"),
        ("0 9 * * 5-1", "the range runs backwards (5 > 1)"),
        (
            "0 0 9 * * * 1969",
            "year field \"1969\": 1969 is out of range 1970-2100",
        ),
        ("@fortnightly", "unknown shorthand"),
        ("", "got 0"),
    ];
    for (expression, expected) in cases {
        let message = expression_error(expression);
        assert!(
            message.contains(expected),
            "{expression:?}: {message:?} should contain {expected:?}"
        );
        assert!(message.starts_with("bad cron expression"), "{message}");
    }
    assert_eq!(
        expression_error("0 25 * * *"),
        "bad cron expression \"0 25 * * *\": hour field \"25\": 25 is out of range 0-23"
    );
}

#[test]
fn unknown_time_zones_are_refused_by_name() {
    let error = CronSpec::parse("0 9 * * *", "Mars/Olympus_Mons").expect_err("unknown zone");
    assert_eq!(error, ScheduleError::TimeZone("Mars/Olympus_Mons".into()));
    assert_eq!(
        error.to_string(),
        "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as Asia/Shanghai, \
         Europe/Berlin or UTC"
    );
    assert!(CronSpec::parse("0 9 * * *", "").is_err());
    assert!(CronSpec::parse("0 9 * * *", "EST5EDT").is_ok());
}

#[test]
fn a_spec_keeps_its_expression_and_zone() {
    let s = spec(" 0 9 * * 1-5 ", "Asia/Shanghai");
    assert_eq!(s.expression(), "0 9 * * 1-5");
    assert_eq!(s.time_zone(), "Asia/Shanghai");
}

#[test]
fn an_expression_that_names_no_date_at_all_is_refused_quickly() {
    for expression in ["0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 11 * *"] {
        let started = std::time::Instant::now();
        let message = expression_error(expression);
        assert!(message.contains("never fires"), "{expression}: {message}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{expression}: searching to the crate's horizon stays cheap"
        );
    }
    // 29 February does come, once in four years.
    assert_eq!(
        spec("0 0 29 2 *", "UTC").next_after(utc(2026, 3, 1, 0, 0, 0)),
        Some(utc(2028, 2, 29, 0, 0, 0))
    );
}

#[test]
fn an_echoed_expression_is_cut_short() {
    let long = format!("0 0 {} * *", "1,".repeat(4_000));
    let message = expression_error(&long);
    assert!(message.len() < 400, "{} bytes", message.len());
    assert!(message.contains('…'));
}
