//! Durations as people write them in configuration: `30m`, `24h`, `2d`, `1h30m`, `1w`,
//! `250ms`. The one parser of the workspace: timer policies, the CLI and the activities'
//! files and retry policies all read durations with it.

use chrono::Duration;

use crate::bounds::{MAX_DURATION_SECS, echo};

/// The longest duration accepted: [`MAX_DURATION_SECS`], as every edge bounds durations.
const MAX_MS: i64 = MAX_DURATION_SECS * 1_000;

/// Parse a duration made of `<number><unit>` parts, units `w`, `d`, `h`, `m`, `s`, `ms`
/// (e.g. `"1h30m"`, `"2d"`, `"90s"`, `"250ms"`). Spaces between parts are allowed; the
/// message of an error says what to write instead.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let given = text.trim();
    if given.is_empty() {
        return Err("expected a duration like \"30m\", \"24h\", \"2d\" or \"1h30m\"".into());
    }
    let mut total_ms: i64 = 0;
    let mut digits = String::new();
    let mut chars = given.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        let unit_ms: i64 = match c {
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1_000,
            other => {
                return Err(format!(
                    "{} is not a duration: unknown unit {other:?}; use w, d, h, m, s or ms \
                     (e.g. \"1h30m\")",
                    echo(given)
                ));
            }
        };
        if digits.is_empty() {
            return Err(format!(
                "{} is not a duration: a number must come before {c:?}",
                echo(given)
            ));
        }
        let part = digits
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .and_then(|ms| total_ms.checked_add(ms))
            .filter(|ms| *ms <= MAX_MS);
        total_ms = part.ok_or_else(|| format!("{} is too long: at most 10 years", echo(given)))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!(
            "{} is not a duration: {digits} has no unit; write e.g. \"{digits}m\" or \"{digits}h\"",
            echo(given)
        ));
    }
    Ok(Duration::milliseconds(total_ms))
}

/// The shortest text [`parse_duration`] reads back as `duration` (to the millisecond), e.g.
/// `1d2h`, `1s500ms`.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.num_milliseconds();
    if ms <= 0 {
        return if ms == 0 {
            "0s".to_owned()
        } else {
            format!("{ms}ms")
        };
    }
    let mut out = String::new();
    for (unit, name) in [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ] {
        if ms >= unit {
            out.push_str(&format!("{}{name}", ms / unit));
            ms %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_and_combined_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("24h"), Ok(Duration::hours(24)));
        assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
        assert_eq!(parse_duration("1w"), Ok(Duration::days(7)));
        assert_eq!(
            parse_duration(" 1h30m "),
            Ok(Duration::minutes(90)),
            "surrounding spaces are fine"
        );
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::milliseconds(250)));
        assert_eq!(
            parse_duration("1m30s500ms"),
            Ok(Duration::milliseconds(90_500))
        );
    }

    #[test]
    fn refuses_what_is_not_a_duration_saying_why() {
        assert!(
            parse_duration("")
                .expect_err("invalid")
                .contains("expected a duration")
        );
        assert!(
            parse_duration("30")
                .expect_err("invalid")
                .contains("30 has no unit")
        );
        assert!(
            parse_duration("3x")
                .expect_err("invalid")
                .contains("unknown unit 'x'")
        );
        assert!(
            parse_duration("h")
                .expect_err("invalid")
                .contains("a number must come")
        );
        assert!(
            parse_duration("-1h")
                .expect_err("invalid")
                .contains("unknown unit '-'")
        );
        assert!(
            parse_duration("99999999999d")
                .expect_err("invalid")
                .contains("too long")
        );
    }

    #[test]
    fn formats_back_to_what_it_reads() {
        for text in ["30m", "1d", "1h30m", "2d3h4m5s", "45s", "250ms", "1s500ms"] {
            let parsed = parse_duration(text).expect("valid");
            assert_eq!(format_duration(parsed), text);
        }
        assert_eq!(format_duration(Duration::zero()), "0s");
    }
}
