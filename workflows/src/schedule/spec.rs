//! A cron expression in a time zone, and when it next fires.
//!
//! Expressions are matched against the wall clock of the schedule's zone. Daylight saving
//! changes are handled as cronie (Vixie cron's successor) handles them, because that is what
//! people who write cron lines expect:
//!
//! - A schedule tied to particular hours (the hour field is not every hour) fires once per
//!   matching wall-clock time. A time inside a spring-forward gap (02:30 on the night the
//!   clocks jump from 02:00 to 03:00) fires at the first instant after the gap (03:00 local):
//!   the day's run is late, not lost. Several times inside one gap fire once together. A time
//!   inside a fall-back overlap (01:30 on the night 01:00-02:00 happens twice) fires at its
//!   first occurrence only, never twice.
//! - A schedule that runs every hour or more often (`*` or a full range in the hour field)
//!   keeps its rhythm in real time: wall-clock times inside a gap do not exist and are not
//!   made up, and in an overlap each real instant whose wall clock matches fires (so
//!   `*/15 * * * *` fires every 15 minutes through the repeated hour too).

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::ScheduleError;
use super::expression::{Compiled, compile};

/// The most candidate wall-clock times one `next_after` looks at. Only the instants inside one
/// DST gap or overlap are ever passed over, so this bound is never reached in practice.
const MAX_STEPS: u32 = 100_000;

/// A checked cron expression with its IANA time zone.
#[derive(Debug, Clone)]
pub struct CronSpec {
    expression: String,
    zone: Tz,
    compiled: Compiled,
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression && self.zone == other.zone
    }
}

impl Eq for CronSpec {}

impl CronSpec {
    /// Check `expression` (5, 6 or 7 fields, standard day-of-week numbering in all of them;
    /// see [`crate::schedule`]) and `time_zone` (an IANA name such as `Asia/Shanghai`). The
    /// error names the bad field and token, or the unknown zone.
    pub fn parse(expression: &str, time_zone: &str) -> Result<CronSpec, ScheduleError> {
        let zone: Tz = time_zone
            .trim()
            .parse()
            .map_err(|_| ScheduleError::TimeZone(time_zone.to_owned()))?;
        let compiled = compile(expression).map_err(|reason| ScheduleError::Expression {
            expression: expression.to_owned(),
            reason,
        })?;
        let spec = CronSpec {
            expression: expression.trim().to_owned(),
            zone,
            compiled,
        };
        // Fields that are each fine can still name no date at all (30 February); such a
        // schedule would be stored and never run.
        if spec.naive_next(DateTime::UNIX_EPOCH.naive_utc()).is_none() {
            return Err(ScheduleError::Expression {
                expression: expression.to_owned(),
                reason: "it never fires: no date matches all its fields (e.g. day 30 of \
                         February)"
                    .into(),
            });
        }
        Ok(spec)
    }

    /// The expression as given (trimmed).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The IANA name of the schedule's time zone.
    pub fn time_zone(&self) -> &str {
        self.zone.name()
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// `at` on the schedule's wall clock.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }

    /// The first nominal fire time strictly after `after` (whole seconds), or `None` when the
    /// expression never matches again (the crate computes up to the year 2100).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = after.with_nanosecond(0)?;
        let local = self
            .zone
            .from_utc_datetime(&after.naive_utc())
            .naive_local();
        let real_time = self.compiled.every_hour;
        // Standing in the first pass of a repeated hour, the second pass is still ahead.
        let mut cursor = match self.zone.from_local_datetime(&local) {
            LocalResult::Ambiguous(first, second) if real_time && first.to_utc() == after => {
                local - (second.to_utc() - first.to_utc())
            }
            _ => local,
        };
        // The second occurrence of a repeated wall time, and the wall time up to which a
        // first occurrence can still come before it.
        let mut pending: Option<(NaiveDateTime, DateTime<Utc>)> = None;
        for _ in 0..MAX_STEPS {
            let naive = self.naive_next(cursor)?;
            cursor = naive;
            if let Some((limit, second)) = pending
                && naive >= limit
            {
                return Some(second);
            }
            let found = match self.zone.from_local_datetime(&naive) {
                LocalResult::Single(t) => Some(t.to_utc()),
                LocalResult::Ambiguous(first, second) => {
                    let (first, second) = (first.to_utc(), second.to_utc());
                    if real_time && first <= after && second > after && pending.is_none() {
                        pending = Some((naive + (second - first), second));
                    }
                    Some(first)
                }
                LocalResult::None if real_time => None,
                LocalResult::None => self.gap_end(naive),
            };
            if let Some(t) = found.filter(|t| *t > after) {
                return Some(pending.map_or(t, |(_, second)| second.min(t)));
            }
        }
        pending.map(|(_, second)| second)
    }

    /// The next `count` nominal fire times after `after`, e.g. for listing schedules.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut times = Vec::with_capacity(count);
        let mut cursor = after;
        while times.len() < count {
            let Some(next) = self.next_after(cursor) else {
                break;
            };
            times.push(next);
            cursor = next;
        }
        times
    }

    /// The first wall-clock time after `after` that the expression matches, ignoring zones.
    fn naive_next(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let after = after.and_utc();
        self.compiled
            .schedules
            .iter()
            .filter_map(|s| s.after(&after).next())
            .map(|t| t.naive_utc())
            .min()
    }

    /// The first instant whose wall-clock time is past `naive`, a time inside a gap: the
    /// instant the clocks jumped.
    fn gap_end(&self, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
        let wall = |t: DateTime<Utc>| self.zone.from_utc_datetime(&t.naive_utc()).naive_local();
        let guess = naive.and_utc();
        // Offsets lie within -12h..+14h, so these bracket the jump.
        let mut before = guess - chrono::Duration::hours(15);
        let mut past = guess + chrono::Duration::hours(13);
        if wall(before) > naive || wall(past) <= naive {
            return None;
        }
        while past - before > chrono::Duration::seconds(1) {
            let mid = before + (past - before) / 2;
            let mid = mid.with_nanosecond(0)?;
            if wall(mid) > naive {
                past = mid;
            } else {
                before = mid;
            }
        }
        Some(past)
    }
}
