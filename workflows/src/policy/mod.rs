//! Waiting-state timers: how long each waiting state may last before the case is reminded,
//! escalated or expired, and what each timer does when it fires.
//!
//! The policy is three layers per waiting state: the `default` section of a TOML file, the
//! workflow type's section, and a case's own `timers.<state>.<setting>` attributes, each
//! setting of a higher layer winning. The shipped file is `workflows/policy/timers.toml`
//! ([`TimerPolicy::builtin`]). [`TimerPolicy::timers_for`] is the one place that turns the
//! policy into the timers a state starts, each with its [`TimerAction`] fixed at start.

mod duration;
mod settings;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::Duration;

use crate::effect::{TimerAction, TimerKind};
use crate::model::{CaseState, WorkflowType};

pub use duration::{format_duration, parse_duration};
pub use settings::{Escalation, Expiry, Reminders, StateTimers};
use settings::{FIELDS, Settings, Value};

/// Case attributes whose names start with this override the timer policy for that case, e.g.
/// `timers.waiting_for_customer.remind_after = "2h"`.
pub const OVERRIDE_PREFIX: &str = "timers.";

/// The shipped defaults, read once.
static BUILTIN: LazyLock<Result<TimerPolicy, PolicyError>> =
    LazyLock::new(|| TimerPolicy::parse(include_str!("../../policy/timers.toml")));

/// A timer policy file or override that cannot be used. The message names the bad key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the timer policy is not valid TOML: {0}")]
    Syntax(String),
    /// `key` is the dotted path of the bad setting, e.g. `default.waiting_for_customer.remind_after`
    /// in a file or `timers.waiting_for_customer.remind_after` in a case's attributes.
    #[error("{key}: {message}")]
    Key { key: String, message: String },
}

fn key_error(key: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError::Key {
        key: key.into(),
        message: message.into(),
    }
}

/// One timer a waiting state starts on entry: fire `after` the entry, doing `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedTimer {
    pub kind: TimerKind,
    pub after: Duration,
    pub action: TimerAction,
}

/// The timer policy a decision consults when a case enters a waiting state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerPolicy {
    default: BTreeMap<CaseState, Settings>,
    types: BTreeMap<WorkflowType, BTreeMap<CaseState, Settings>>,
    /// The `timers.*` overrides of one case (empty for a shared policy).
    case: BTreeMap<CaseState, Settings>,
    /// Every (type, waiting state) with all layers applied, checked when the policy is built.
    resolved: BTreeMap<(WorkflowType, CaseState), StateTimers>,
}

impl Default for TimerPolicy {
    /// The shipped policy, [`TimerPolicy::builtin`].
    fn default() -> Self {
        TimerPolicy::builtin()
    }
}

impl TimerPolicy {
    /// The shipped defaults from `workflows/policy/timers.toml` (checked by a test; should the
    /// file ever not parse, no timers at all rather than a panic).
    pub fn builtin() -> Self {
        BUILTIN
            .as_ref()
            .map_or_else(|_| TimerPolicy::empty(), Clone::clone)
    }

    /// No timers in any state.
    pub fn empty() -> Self {
        TimerPolicy {
            default: BTreeMap::new(),
            types: BTreeMap::new(),
            case: BTreeMap::new(),
            resolved: BTreeMap::new(),
        }
    }

    /// Read a policy file: a `[default.<waiting state>]` table applies to every workflow type,
    /// a `[<workflow type>.<waiting state>]` table overrides it setting by setting. Settings:
    /// `remind_after`, `remind_every`, `escalate_after`, `expire_after` (durations like
    /// `"30m"`, `"24h"`, `"2d"`, `"1h30m"`, or `"off"`), `remind_times` (reminders in all),
    /// `escalate_to` (`review` or `owner`), `expire_action` (`cancel` or `complete`).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| PolicyError::Syntax(e.to_string()))?;
        let mut default = BTreeMap::new();
        let mut types = BTreeMap::new();
        for (section, value) in &table {
            let toml::Value::Table(states) = value else {
                return Err(key_error(
                    section,
                    "expected a table per waiting state, e.g. [default.waiting_for_customer]",
                ));
            };
            if section == "default" {
                default = parse_states(section, states, None)?;
                continue;
            }
            let workflow_type: WorkflowType = section.parse().map_err(|e: crate::ParseError| {
                key_error(
                    section,
                    format!(
                        "unknown section; expected default or a workflow type: {}",
                        e.expected
                    ),
                )
            })?;
            types.insert(
                workflow_type,
                parse_states(section, states, Some(workflow_type))?,
            );
        }
        TimerPolicy::build(default, types, BTreeMap::new())
    }

    /// This policy with a case's `timers.<waiting state>.<setting>` attributes laid on top
    /// (other attributes are ignored). An override the policy cannot use is an error naming
    /// the attribute; the engine refuses to start such a case. Applying the same overrides
    /// again changes nothing.
    pub fn with_overrides(
        &self,
        attributes: &BTreeMap<String, String>,
    ) -> Result<TimerPolicy, PolicyError> {
        let mut case = self.case.clone();
        let mut any = false;
        for (key, value) in attributes {
            let Some(rest) = key.strip_prefix(OVERRIDE_PREFIX) else {
                continue;
            };
            any = true;
            let Some((state, field)) = rest.split_once('.') else {
                return Err(key_error(
                    key,
                    "expected timers.<waiting state>.<setting>, e.g. \
                     timers.waiting_for_customer.remind_after",
                ));
            };
            let state = waiting_state(state).map_err(|message| key_error(key, message))?;
            case.entry(state)
                .or_default()
                .set(field, Value::Text(value))
                .map_err(|message| key_error(key, message))?;
        }
        if !any {
            return Ok(self.clone());
        }
        TimerPolicy::build(self.default.clone(), self.types.clone(), case)
    }

    /// [`with_overrides`](Self::with_overrides) for a new case of `workflow_type`, which also
    /// refuses an override of a waiting state that type never enters: it would never apply,
    /// and the caller would believe it did. (Cases already started keep theirs: see
    /// [`for_case`](Self::for_case).)
    pub fn with_overrides_for(
        &self,
        workflow_type: WorkflowType,
        attributes: &BTreeMap<String, String>,
    ) -> Result<TimerPolicy, PolicyError> {
        let policy = self.with_overrides(attributes)?;
        let entered = crate::machines::waiting_states(workflow_type);
        for (state, key) in attributes.keys().filter_map(|key| {
            let state = key.strip_prefix(OVERRIDE_PREFIX)?.split_once('.')?.0;
            Some((state.parse::<CaseState>().ok()?, key))
        }) {
            if !entered.contains(&state) {
                let names: Vec<&str> = entered.iter().map(|s| s.as_str()).collect();
                return Err(key_error(
                    key,
                    format!(
                        "a {workflow_type} case never waits in {state}; it waits in: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(policy)
    }

    /// The policy that governs a case with these attributes: this one with the case's
    /// overrides, or this one as it is when the case has none (or, having been refused at
    /// start, none that can be used).
    pub fn for_case(&self, attributes: &BTreeMap<String, String>) -> Cow<'_, TimerPolicy> {
        if !attributes.keys().any(|k| k.starts_with(OVERRIDE_PREFIX)) {
            return Cow::Borrowed(self);
        }
        match self.with_overrides(attributes) {
            Ok(policy) => Cow::Owned(policy),
            Err(_) => Cow::Borrowed(self),
        }
    }

    /// The resolved timers of `state` for `workflow_type` (all `None` outside waiting states).
    pub fn state_timers(&self, workflow_type: WorkflowType, state: CaseState) -> StateTimers {
        self.resolved
            .get(&(workflow_type, state))
            .copied()
            .unwrap_or_default()
    }

    /// The timers to start on entering `state`, in the order remind, escalate, expire.
    pub fn timers_for(&self, workflow_type: WorkflowType, state: CaseState) -> Vec<PlannedTimer> {
        let timers = self.state_timers(workflow_type, state);
        let mut planned = Vec::new();
        if let Some(r) = timers.reminders {
            planned.push(PlannedTimer {
                kind: TimerKind::Remind,
                after: r.after,
                action: TimerAction::Remind {
                    every_secs: r.every.and_then(|d| u64::try_from(d.num_seconds()).ok()),
                    remaining: r.times.saturating_sub(1),
                },
            });
        }
        if let Some(e) = timers.escalation {
            planned.push(PlannedTimer {
                kind: TimerKind::Escalate,
                after: e.after,
                action: TimerAction::Escalate { to: e.to },
            });
        }
        if let Some(x) = timers.expiry {
            planned.push(PlannedTimer {
                kind: TimerKind::Expire,
                after: x.after,
                action: TimerAction::Expire { outcome: x.outcome },
            });
        }
        planned
    }

    /// Resolve every (type, waiting state) and refuse a combination that cannot work, naming
    /// the setting of the highest layer that touches it.
    fn build(
        default: BTreeMap<CaseState, Settings>,
        types: BTreeMap<WorkflowType, BTreeMap<CaseState, Settings>>,
        case: BTreeMap<CaseState, Settings>,
    ) -> Result<TimerPolicy, PolicyError> {
        for (state, settings) in &default {
            settings.resolve(*state).map_err(|(field, message)| {
                key_error(format!("default.{state}.{field}"), message)
            })?;
        }
        let none = Settings::default();
        let mut resolved = BTreeMap::new();
        for &workflow_type in WorkflowType::ALL {
            let own = types.get(&workflow_type);
            for &state in CaseState::ALL.iter().filter(|s| s.waiting_for().is_some()) {
                let from_type = own.and_then(|t| t.get(&state));
                let from_case = case.get(&state);
                let settings = default
                    .get(&state)
                    .unwrap_or(&none)
                    .layered(from_type.unwrap_or(&none))
                    .layered(from_case.unwrap_or(&none));
                let timers = settings.resolve(state).map_err(|(field, message)| {
                    let section = match (from_case, from_type) {
                        (Some(_), _) => format!("timers.{state}"),
                        (None, Some(_)) => format!("{workflow_type}.{state}"),
                        (None, None) => format!("default.{state}"),
                    };
                    key_error(format!("{section}.{field}"), message)
                })?;
                resolved.insert((workflow_type, state), timers);
            }
        }
        Ok(TimerPolicy {
            default,
            types,
            case,
            resolved,
        })
    }
}

fn waiting_state(name: &str) -> Result<CaseState, String> {
    let waiting: Vec<&str> = CaseState::ALL
        .iter()
        .filter(|s| s.waiting_for().is_some())
        .map(|s| s.as_str())
        .collect();
    match name.parse::<CaseState>() {
        Ok(state) if state.waiting_for().is_some() => Ok(state),
        _ => Err(format!(
            "{} is not a waiting state; expected one of: {}",
            crate::bounds::echo(name),
            waiting.join(", ")
        )),
    }
}

/// The states of one section; `workflow_type` set for a type's own section, whose states must
/// be ones the type can wait in.
fn parse_states(
    section: &str,
    states: &toml::Table,
    workflow_type: Option<WorkflowType>,
) -> Result<BTreeMap<CaseState, Settings>, PolicyError> {
    let mut parsed = BTreeMap::new();
    for (name, value) in states {
        let key = format!("{section}.{name}");
        let state = waiting_state(name).map_err(|message| key_error(&key, message))?;
        if let Some(t) = workflow_type
            && !crate::machines::waiting_states(t).contains(&state)
        {
            return Err(key_error(
                &key,
                format!("a {t} case never waits in {state}"),
            ));
        }
        let toml::Value::Table(fields) = value else {
            return Err(key_error(
                &key,
                format!("expected a table of settings: {}", FIELDS.join(", ")),
            ));
        };
        let mut settings = Settings::default();
        for (field, value) in fields {
            let value = match value {
                toml::Value::String(s) => Value::Text(s),
                toml::Value::Integer(n) => Value::Integer(*n),
                toml::Value::Float(_) => Value::Other("a decimal number"),
                toml::Value::Boolean(_) => Value::Other("a boolean"),
                toml::Value::Datetime(_) => Value::Other("a date"),
                toml::Value::Array(_) => Value::Other("a list"),
                toml::Value::Table(_) => Value::Other("a table"),
            };
            settings
                .set(field, value)
                .map_err(|message| key_error(format!("{key}.{field}"), message))?;
        }
        parsed.insert(state, settings);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses() {
        if let Err(e) = BUILTIN.as_ref() {
            panic!("workflows/policy/timers.toml: {e}");
        }
        assert_ne!(TimerPolicy::builtin(), TimerPolicy::empty());
    }
}
