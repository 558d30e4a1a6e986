//! Cron schedules, the pure part: reading an expression in a time zone, the next nominal fire
//! time across daylight saving changes, which fires are due after downtime, jitter, and what
//! a fire does. The engine stores schedules and fires them; nothing here reads a clock.
//!
//! - `expression`: 5/6/7-field cron with standard day-of-week numbering, into the `cron` crate.
//! - [`CronSpec`]: an expression in an IANA zone and its next fire time (DST rules there).
//! - [`due_fires`], [`MissedFirePolicy`], [`jitter_for`]: what fires now.
//! - [`ScheduleAction`]: start a case, or remind the waiting cases a [`SweepFilter`] selects.
//! - [`ScheduleDefinition`]: all of the above as one stored, validated value.

mod action;
mod definition;
mod expression;
mod fires;
mod spec;

pub use action::{PLACEHOLDERS, ScheduleAction, StartCase, SweepFilter};
pub use definition::{MAX_JITTER_SECS, ScheduleDefinition};
pub use fires::{
    DueFires, MAX_MISSED_FIRE_LIMIT, MISFIRE_THRESHOLD_SECS, MissedFirePolicy, due_fires,
    jitter_for,
};
pub use spec::CronSpec;

/// A schedule that cannot be used, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("bad cron expression {}: {reason}", crate::bounds::echo(.expression))]
    Expression { expression: String, reason: String },
    #[error(
        "unknown time zone {}; use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC",
        crate::bounds::echo(.0)
    )]
    TimeZone(String),
    /// `field` names the bad part of the action, e.g. `business_key_template`, `filter.state`.
    #[error("{field}: {message}")]
    Action { field: String, message: String },
    #[error("missed-fire policy: {0}")]
    Policy(String),
    #[error("jitter: {0}")]
    Jitter(String),
}
