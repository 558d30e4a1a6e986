//! Reading a cron expression as people write it into what the `cron` crate runs.
//!
//! We accept standard cron everywhere: five fields (`minute hour day-of-month month
//! day-of-week`), six with seconds first, seven with a year last, and the `@hourly`, `@daily`,
//! `@weekly`, `@monthly`, `@yearly` (`@annually`) shorthands. Day-of-week numbers are those of
//! standard cron in every form: `0` and `7` are Sunday, `1`-`5` Monday to Friday, `6` Saturday
//! (names `SUN`-`SAT` work too). The `cron` crate numbers Sunday 1 to Saturday 7 and wants the
//! seconds field, so every field is checked and expanded here (with a message naming the field
//! and the token) and handed to the crate as plain lists in its own numbering.
//!
//! When both day-of-month and day-of-week are restricted (neither starts with `*` or is `?`),
//! a day matches if either does, as in standard cron (`0 9 1 * MON`: the 1st and every
//! Monday); the crate only knows "both", so such an expression becomes two crate schedules.

use std::collections::BTreeSet;

use crate::bounds::echo;

/// One field of an expression: its name in messages, its range, and the names it accepts.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of the first name (`JAN` = 1, `SUN` = 0).
    first_named: u32,
    /// Whether `?` may stand for "any" (day-of-month and day-of-week only).
    any: bool,
}

const SECOND: Field = plain("second", 0, 59);
const MINUTE: Field = plain("minute", 0, 59);
const HOUR: Field = plain("hour", 0, 23);
const DAY_OF_MONTH: Field = Field {
    any: true,
    ..plain("day-of-month", 1, 31)
};
const MONTH: Field = Field {
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    first_named: 1,
    ..plain("month", 1, 12)
};
/// Standard numbering: 0-7 with both 0 and 7 Sunday.
const DAY_OF_WEEK: Field = Field {
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    first_named: 0,
    any: true,
    ..plain("day-of-week", 0, 7)
};
/// The years the `cron` crate can compute.
const YEAR: Field = plain("year", 1970, 2100);

const fn plain(name: &'static str, min: u32, max: u32) -> Field {
    Field {
        name,
        min,
        max,
        names: &[],
        first_named: 0,
        any: false,
    }
}

/// An expression made ready for the `cron` crate.
#[derive(Debug, Clone)]
pub(super) struct Compiled {
    /// One schedule, or two whose union is meant (day-of-month or day-of-week).
    pub(super) schedules: Vec<cron::Schedule>,
    /// The hour field matches every hour: the schedule runs hourly or more often.
    pub(super) every_hour: bool,
}

/// Check and translate `expression`; the error says which field and token are wrong.
pub(super) fn compile(expression: &str) -> Result<Compiled, String> {
    let text = expression.trim();
    let expanded = match text.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other if other.starts_with('@') => {
            return Err(format!(
                "unknown shorthand {}; expected @yearly, @annually, @monthly, @weekly, \
                 @daily, @midnight or @hourly",
                echo(text)
            ));
        }
        _ => text,
    };
    let tokens: Vec<&str> = expanded.split_whitespace().collect();
    let (second, rest, year) = match tokens.len() {
        5 => ("0", &tokens[..], "*"),
        6 => (tokens[0], &tokens[1..], "*"),
        7 => (tokens[0], &tokens[1..6], tokens[6]),
        n => {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), 6 (a second \
                 first) or 7 (a second first and a year last); got {n}"
            ));
        }
    };
    let (minute, hour, dom, month, dow) = (rest[0], rest[1], rest[2], rest[3], rest[4]);

    let seconds = values(&SECOND, second)?;
    let minutes = values(&MINUTE, minute)?;
    let hours = values(&HOUR, hour)?;
    let days = values(&DAY_OF_MONTH, dom)?;
    let months = values(&MONTH, month)?;
    // 7 is Sunday as 0 is; the crate numbers Sunday 1 .. Saturday 7.
    let weekdays: BTreeSet<u32> = values(&DAY_OF_WEEK, dow)?
        .into_iter()
        .map(|d| d % 7 + 1)
        .collect();
    let years = if year == "*" {
        None
    } else {
        Some(values(&YEAR, year)?)
    };

    let list = |set: &BTreeSet<u32>| set.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let head = format!("{} {} {}", list(&seconds), list(&minutes), list(&hours));
    let year = years.as_ref().map_or_else(|| "*".to_owned(), list);
    let months = list(&months);
    let restricted = |field: &str| !(field.starts_with('*') || field == "?");
    let day_rules: Vec<(String, String)> = if restricted(dom) && restricted(dow) {
        vec![(list(&days), "*".into()), ("*".into(), list(&weekdays))]
    } else {
        vec![(list(&days), list(&weekdays))]
    };
    let schedules = day_rules
        .into_iter()
        .map(|(days, weekdays)| {
            let source = format!("{head} {days} {months} {weekdays} {year}");
            source
                .parse::<cron::Schedule>()
                .map_err(|e| format!("cannot be computed ({e})"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Compiled {
        schedules,
        every_hour: hours.len() == 24,
    })
}

/// The values one field selects: a comma list of `*`, `?`, `N`, `A-B`, each optionally `/S`.
fn values(field: &Field, text: &str) -> Result<BTreeSet<u32>, String> {
    let fail = |token: &str, problem: String| {
        Err(format!("{} field {}: {problem}", field.name, echo(token)))
    };
    let mut set = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return fail(text, "an empty item in the list".into());
        }
        if quartz_special(item) {
            return fail(
                item,
                "L, W and # (last day, weekday, nth weekday) are not supported".into(),
            );
        }
        let (base, step) = match item.split_once('/') {
            None => (item, None),
            Some((base, step)) => match step.parse::<u32>() {
                Ok(s) if s >= 1 => (base, Some(s)),
                _ => {
                    return fail(
                        item,
                        format!("the step {step:?} must be a whole number >= 1"),
                    );
                }
            },
        };
        let (start, end) = match base {
            // Every day of the week once: 0-6, not 0-7 (7 repeats Sunday).
            "*" => (field.min, if field.max == 7 { 6 } else { field.max }),
            "?" if field.any => (field.min, field.max),
            "?" => {
                return fail(
                    item,
                    "? is only allowed for day-of-month and day-of-week".into(),
                );
            }
            _ => match base.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (value(field, a, item)?, value(field, b, item)?);
                    if a > b {
                        return fail(item, format!("the range runs backwards ({a} > {b})"));
                    }
                    (a, b)
                }
                // `N/S` means from N to the end of the range in steps of S.
                None if step.is_some() => (value(field, base, item)?, field.max),
                None => {
                    let v = value(field, base, item)?;
                    (v, v)
                }
            },
        };
        let step = step.unwrap_or(1) as usize;
        set.extend((start..=end).step_by(step));
    }
    Ok(set)
}

/// Quartz's `L`, `W`, `LW`, `5L`, `15W` and `#`, which standard cron and the crate lack.
fn quartz_special(item: &str) -> bool {
    let upper = item.to_ascii_uppercase();
    let digits_then = |suffix: char| {
        upper
            .strip_suffix(suffix)
            .is_some_and(|head| !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit()))
    };
    upper.contains('#') || upper == "L" || upper == "LW" || digits_then('L') || digits_then('W')
}

/// One number or name of a field, checked against the field's range.
fn value(field: &Field, token: &str, item: &str) -> Result<u32, String> {
    let problem = if let Ok(n) = token.parse::<u32>() {
        if (field.min..=field.max).contains(&n) {
            return Ok(n);
        }
        format!("{n} is out of range {}-{}", field.min, field.max)
    } else if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(token))
    {
        return Ok(field.first_named + i as u32);
    } else if field.names.is_empty() {
        format!(
            "{} is not a number in {}-{}",
            echo(token),
            field.min,
            field.max
        )
    } else {
        format!(
            "{} is neither a number in {}-{} nor one of {}",
            echo(token),
            field.min,
            field.max,
            field.names.join(", ")
        )
    };
    Err(format!("{} field {}: {problem}", field.name, echo(item)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(field: &Field, text: &str) -> Vec<u32> {
        values(field, text).expect("valid").into_iter().collect()
    }

    #[test]
    fn standard_day_of_week_numbers_sunday_as_0_and_7() {
        assert_eq!(set(&DAY_OF_WEEK, "1-5"), vec![1, 2, 3, 4, 5]);
        assert_eq!(set(&DAY_OF_WEEK, "MON-FRI"), vec![1, 2, 3, 4, 5]);
        assert_eq!(set(&DAY_OF_WEEK, "0,7"), vec![0, 7]);
        assert_eq!(set(&DAY_OF_WEEK, "5-7"), vec![5, 6, 7]);
        assert_eq!(set(&DAY_OF_WEEK, "*/2"), vec![0, 2, 4, 6]);
        assert_eq!(set(&DAY_OF_WEEK, "sun,Sat"), vec![0, 6]);
        assert_eq!(set(&DAY_OF_WEEK, "MON-WED"), vec![1, 2, 3]);
    }

    #[test]
    fn lists_ranges_and_steps_expand() {
        assert_eq!(set(&MINUTE, "*/15"), vec![0, 15, 30, 45]);
        assert_eq!(set(&MINUTE, "10-30/10,59"), vec![10, 20, 30, 59]);
        assert_eq!(set(&HOUR, "20/2"), vec![20, 22]);
        assert_eq!(set(&MONTH, "JAN,jun-aug"), vec![1, 6, 7, 8]);
    }

    #[test]
    fn messages_name_the_field_and_the_token() {
        let e = |field: &Field, text: &str| values(field, text).expect_err("invalid");
        assert_eq!(e(&HOUR, "25"), "hour field \"25\": 25 is out of range 0-23");
        assert_eq!(
            e(&DAY_OF_WEEK, "MON-FUN"),
            "day-of-week field \"MON-FUN\": \"FUN\" is neither a number in 0-7 nor one of \
             SUN, MON, TUE, WED, THU, FRI, SAT"
        );
        assert_eq!(
            e(&MINUTE, "*/0"),
            "minute field \"*/0\": the step \"0\" must be a whole number >= 1"
        );
        assert_eq!(
            e(&DAY_OF_MONTH, "L"),
            "day-of-month field \"L\": L, W and # (last day, weekday, nth weekday) are not supported"
        );
        assert_eq!(
            e(&DAY_OF_WEEK, "5-1"),
            "day-of-week field \"5-1\": the range runs backwards (5 > 1)"
        );
        assert!(e(&DAY_OF_WEEK, "5#3").contains("not supported"));
        assert!(e(&DAY_OF_MONTH, "15W").contains("not supported"));
        assert_eq!(
            e(&MINUTE, "1,,2"),
            "minute field \"1,,2\": an empty item in the list"
        );
        assert_eq!(
            e(&HOUR, "?"),
            "hour field \"?\": ? is only allowed for day-of-month and day-of-week"
        );
    }
}
