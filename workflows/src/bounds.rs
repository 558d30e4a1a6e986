//! The ranges the core accepts for what callers give: durations, points in time, and how much
//! of a refused value a refusal quotes back. Every edge (gRPC, CLI, policy files) checks
//! against these, so date arithmetic on a caller's value can never overflow and a refusal
//! never grows with the input.

use std::collections::HashSet;
use std::hash::Hash;

use chrono::{DateTime, Datelike, TimeDelta, Utc};

/// The longest duration a caller may give: ten years (3650 days). Anything longer is a typo,
/// and staying this far from chrono's limits keeps `now ± duration` representable.
pub const MAX_DURATION_SECS: i64 = 3_650 * 86_400;

/// Times a caller may give lie in these years (inclusive).
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9_999;

/// How many characters of a refused value a message quotes.
const ECHO_CHARS: usize = 64;

/// A duration of `seconds` and `nanos` (a protobuf `Duration`): not negative, nanos below one
/// second, at most [`MAX_DURATION_SECS`]. The error says what is allowed.
pub fn duration(seconds: i64, nanos: i32) -> Result<TimeDelta, String> {
    if seconds < 0 || nanos < 0 {
        return Err("must not be negative".into());
    }
    if nanos >= 1_000_000_000 {
        return Err(format!(
            "nanos is {nanos}; it must be below 1000000000 (one second)"
        ));
    }
    if seconds > MAX_DURATION_SECS || (seconds == MAX_DURATION_SECS && nanos > 0) {
        return Err(format!(
            "is {seconds} seconds; at most {MAX_DURATION_SECS} (3650 days)"
        ));
    }
    TimeDelta::new(seconds, nanos as u32).ok_or_else(|| "is not a valid duration".into())
}

/// A point in time of `seconds` and `nanos` since the Unix epoch (a protobuf `Timestamp`),
/// within the years [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn time(seconds: i64, nanos: i32) -> Result<DateTime<Utc>, String> {
    let range = || format!("must lie in the years {MIN_YEAR} to {MAX_YEAR}");
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| format!("nanos is {nanos}; it must be 0 to 999999999"))?;
    DateTime::from_timestamp(seconds, nanos)
        .filter(|t| (MIN_YEAR..=MAX_YEAR).contains(&t.year()))
        .ok_or_else(range)
}

/// `text` as a refusal quotes it: in quotes, escaped, and cut to its first 64 characters
/// (then `…`), so that a message stays small whatever was sent.
pub fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
    }
}

/// The items in first-seen order without repeats, in one pass.
pub fn unique<T: Eq + Hash + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded_on_both_sides() {
        assert_eq!(duration(90, 5), Ok(TimeDelta::new(90, 5).expect("valid")));
        assert_eq!(
            duration(MAX_DURATION_SECS, 0),
            Ok(TimeDelta::days(3_650)),
            "exactly ten years is allowed"
        );
        assert!(
            duration(MAX_DURATION_SECS, 1)
                .expect_err("refused")
                .contains("3650 days")
        );
        assert!(
            duration(i64::MAX, 0)
                .expect_err("refused")
                .contains("at most")
        );
        assert!(duration(-1, 0).expect_err("refused").contains("negative"));
        assert!(duration(0, -1).expect_err("refused").contains("negative"));
        assert!(
            duration(1, 1_000_000_000)
                .expect_err("refused")
                .contains("nanos")
        );
    }

    #[test]
    fn times_lie_between_1970_and_9999() {
        assert_eq!(time(0, 0).expect("valid").year(), 1970);
        assert_eq!(
            time(253_402_300_799, 999_999_999).expect("valid").year(),
            9_999
        );
        assert!(
            time(253_402_300_800, 0)
                .expect_err("refused")
                .contains("9999"),
            "year 10000"
        );
        assert!(time(-1, 0).expect_err("refused").contains("1970"));
        assert!(time(i64::MAX, 0).is_err());
        assert!(time(i64::MIN, 0).is_err());
        assert!(time(0, -1).expect_err("refused").contains("nanos"));
        assert!(
            time(0, 1_000_000_000)
                .expect_err("refused")
                .contains("nanos")
        );
    }

    #[test]
    fn an_echo_is_cut_to_64_characters() {
        assert_eq!(echo("abc"), "\"abc\"");
        let long = "é".repeat(8_000);
        let echoed = echo(&long);
        assert!(echoed.ends_with('…'));
        assert_eq!(
            echoed.chars().count(),
            64 + 3,
            "64 characters, two quotes and …"
        );
        assert_eq!(echo("a\0b"), "\"a\\0b\"", "control characters are escaped");
    }

    #[test]
    fn unique_keeps_first_seen_order_in_linear_time() {
        assert_eq!(unique(["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
        let started = std::time::Instant::now();
        assert_eq!(unique(0..100_000u32).len(), 100_000);
        // Comparing each of 100k distinct items with those before takes many seconds; one
        // pass takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
