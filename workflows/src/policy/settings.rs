//! The seven settings of one waiting state's timers, as one layer (the file's `default`
//! section, a workflow type's section, a case's `timers.*` attributes) gives them, and how the
//! layers resolve into the timers to start.

use chrono::Duration;

use crate::effect::{EscalateTo, ExpireOutcome};
use crate::model::CaseState;

use super::duration::parse_duration;

/// The most reminders one waiting state sends.
const MAX_REMINDERS: u32 = 100;
/// The least time between two reminders.
const MIN_REMIND_EVERY: Duration = Duration::minutes(1);

/// The names of the settings, in the order the docs list them.
pub(super) const FIELDS: &[&str] = &[
    "remind_after",
    "remind_every",
    "remind_times",
    "escalate_after",
    "escalate_to",
    "expire_after",
    "expire_action",
];

/// A value as a layer gives it: TOML strings and integers, or an attribute's text.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Text(&'a str),
    Integer(i64),
    /// Any other TOML type, by name, to say what was given instead.
    Other(&'static str),
}

/// One layer's settings for one waiting state. `None`: the layer leaves the setting to the
/// layer below. A duration of `Some(None)` is `"off"`: that timer is not started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Settings {
    remind_after: Option<Option<Duration>>,
    remind_every: Option<Option<Duration>>,
    remind_times: Option<u32>,
    escalate_after: Option<Option<Duration>>,
    escalate_to: Option<EscalateTo>,
    expire_after: Option<Option<Duration>>,
    expire_action: Option<ExpireOutcome>,
}

/// The reminders of a waiting state: the first after `after`, then every `every`, `times` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminders {
    pub after: Duration,
    pub every: Option<Duration>,
    pub times: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    pub after: Duration,
    pub to: EscalateTo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub after: Duration,
    pub outcome: ExpireOutcome,
}

/// The timers of one waiting state of one workflow type, every layer applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateTimers {
    pub reminders: Option<Reminders>,
    pub escalation: Option<Escalation>,
    pub expiry: Option<Expiry>,
}

impl Settings {
    /// Set one setting from a layer's value; the message says what was wrong with it.
    pub(super) fn set(&mut self, field: &str, value: Value<'_>) -> Result<(), String> {
        match field {
            "remind_after" => self.remind_after = Some(delay(value)?),
            "remind_every" => self.remind_every = Some(delay(value)?),
            "remind_times" => self.remind_times = Some(count(value)?),
            "escalate_after" => self.escalate_after = Some(delay(value)?),
            "escalate_to" => self.escalate_to = Some(named(value)?),
            "expire_after" => self.expire_after = Some(delay(value)?),
            "expire_action" => self.expire_action = Some(named(value)?),
            _ => {
                return Err(format!(
                    "unknown setting; expected one of: {}",
                    FIELDS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// This layer with `over` laid on top: every setting `over` gives wins.
    pub(super) fn layered(&self, over: &Settings) -> Settings {
        Settings {
            remind_after: over.remind_after.or(self.remind_after),
            remind_every: over.remind_every.or(self.remind_every),
            remind_times: over.remind_times.or(self.remind_times),
            escalate_after: over.escalate_after.or(self.escalate_after),
            escalate_to: over.escalate_to.or(self.escalate_to),
            expire_after: over.expire_after.or(self.expire_after),
            expire_action: over.expire_action.or(self.expire_action),
        }
    }

    /// The timers these (fully layered) settings start in `state`, or the setting that makes
    /// them impossible and why.
    pub(super) fn resolve(&self, state: CaseState) -> Result<StateTimers, (&'static str, String)> {
        let reminders = match self.remind_after.flatten() {
            None => None,
            Some(after) => {
                let every = self.remind_every.flatten();
                let times = self.remind_times.unwrap_or(1);
                if times == 0 {
                    return Err((
                        "remind_times",
                        "must be at least 1; to send no reminder set remind_after = \"off\"".into(),
                    ));
                }
                if times > 1 && every.is_none() {
                    return Err((
                        "remind_times",
                        format!("{times} reminders need remind_every, the time between them"),
                    ));
                }
                // Each reminder is a history event and a message to the customer: a storm of
                // them is never what anyone meant.
                if times > MAX_REMINDERS {
                    return Err((
                        "remind_times",
                        format!("is {times}; at most {MAX_REMINDERS} reminders"),
                    ));
                }
                if let Some(every) = every.filter(|e| times > 1 && *e < MIN_REMIND_EVERY) {
                    return Err((
                        "remind_every",
                        format!(
                            "is {}; reminders must be at least {} apart",
                            super::format_duration(every),
                            super::format_duration(MIN_REMIND_EVERY)
                        ),
                    ));
                }
                Some(Reminders {
                    after,
                    every: every.filter(|_| times > 1),
                    times,
                })
            }
        };
        let escalation = match self.escalate_after.flatten() {
            None => None,
            Some(after) => {
                let Some(to) = self.escalate_to else {
                    return Err((
                        "escalate_to",
                        "escalate_after needs escalate_to: review or owner".into(),
                    ));
                };
                if to == EscalateTo::Review && state == CaseState::WaitingForReview {
                    return Err((
                        "escalate_to",
                        "a case waiting for review cannot be escalated to review; use owner".into(),
                    ));
                }
                Some(Escalation { after, to })
            }
        };
        let expiry = match self.expire_after.flatten() {
            None => None,
            Some(after) => {
                let Some(outcome) = self.expire_action else {
                    return Err((
                        "expire_action",
                        "expire_after needs expire_action: cancel or complete".into(),
                    ));
                };
                Some(Expiry { after, outcome })
            }
        };
        Ok(StateTimers {
            reminders,
            escalation,
            expiry,
        })
    }
}

/// A timer's delay: a positive duration, or `"off"` for no timer.
fn delay(value: Value<'_>) -> Result<Option<Duration>, String> {
    let Value::Text(text) = value else {
        return Err(format!(
            "expected a duration in quotes like \"24h\", or \"off\"; got {}",
            describe(value)
        ));
    };
    if matches!(text.trim(), "off" | "never") {
        return Ok(None);
    }
    let duration = parse_duration(text)?;
    if duration <= Duration::zero() {
        return Err(format!(
            "{} is not a positive duration",
            crate::bounds::echo(text)
        ));
    }
    Ok(Some(duration))
}

fn count(value: Value<'_>) -> Result<u32, String> {
    let parsed = match value {
        Value::Integer(n) => u32::try_from(n).ok(),
        Value::Text(text) => text.trim().parse::<u32>().ok(),
        Value::Other(_) => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "expected a whole number of reminders; got {}",
            describe(value)
        )
    })
}

fn named<T: std::str::FromStr<Err = crate::ParseError>>(value: Value<'_>) -> Result<T, String> {
    match value {
        Value::Text(text) => text.trim().parse::<T>().map_err(|e| e.to_string()),
        other => Err(format!(
            "expected a name in quotes; got {}",
            describe(other)
        )),
    }
}

fn describe(value: Value<'_>) -> String {
    match value {
        Value::Text(text) => crate::bounds::echo(text),
        Value::Integer(n) => format!("the number {n}"),
        Value::Other(kind) => kind.to_owned(),
    }
}
