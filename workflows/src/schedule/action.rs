//! What a schedule does when it fires: open a case of a workflow type, or remind the waiting
//! cases that match a filter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::{MAX_DURATION_SECS, echo};
use crate::model::{Case, CaseState, NewCase, Party, WorkflowType};
use crate::policy::TimerPolicy;

use super::ScheduleError;
use super::spec::CronSpec;

/// The placeholders a business key template may use, filled from the nominal fire time on the
/// schedule's wall clock: `{date}` = `2026-03-09`, `{datetime}` = `2026-03-09T09:00:00+08:00`
/// (the offset keeps the two passes of a repeated hour apart).
pub const PLACEHOLDERS: &[&str] = &["{date}", "{datetime}"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScheduleAction {
    StartCase(StartCase),
    ReminderSweep { filter: SweepFilter },
}

/// Open one case per fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartCase {
    pub workflow_type: WorkflowType,
    /// E.g. `daily-{date}`; see [`PLACEHOLDERS`].
    pub business_key_template: String,
    pub customer_id: String,
    #[serde(default)]
    pub customer_display_name: String,
    pub subject: String,
    pub owner: String,
    /// The case's attributes, `timers.*` overrides included.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Which cases a reminder sweep reminds: waiting cases matching every criterion given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepFilter {
    #[serde(default)]
    pub state: Option<CaseState>,
    #[serde(default)]
    pub waiting_for: Option<Party>,
    #[serde(default)]
    pub workflow_type: Option<WorkflowType>,
    /// Only cases that have waited (in their current state) longer than this.
    #[serde(default)]
    pub waiting_longer_than_secs: Option<u64>,
}

fn invalid(field: &str, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Action {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl ScheduleAction {
    /// Refuse an action that could never run, naming the field.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            ScheduleAction::StartCase(start) => start.validate(),
            ScheduleAction::ReminderSweep { filter } => filter.validate(),
        }
    }
}

impl StartCase {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        check_template(&self.business_key_template)?;
        for (field, value) in [
            ("customer_id", &self.customer_id),
            ("subject", &self.subject),
            ("owner", &self.owner),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(field, "must not be empty"));
            }
        }
        TimerPolicy::builtin()
            .with_overrides_for(self.workflow_type, &self.attributes)
            .map_err(|e| invalid("attributes", e.to_string()))?;
        Ok(())
    }

    /// The business key of the case a fire at `nominal` opens.
    pub fn business_key(&self, spec: &CronSpec, nominal: DateTime<Utc>) -> String {
        let local = spec.local(nominal);
        self.business_key_template
            .replace("{date}", &local.format("%Y-%m-%d").to_string())
            .replace(
                "{datetime}",
                &local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            )
    }

    /// The case a fire at `nominal` opens.
    pub fn new_case(&self, spec: &CronSpec, nominal: DateTime<Utc>) -> NewCase {
        NewCase {
            workflow_type: self.workflow_type,
            business_key: self.business_key(spec, nominal),
            customer_id: self.customer_id.trim().to_owned(),
            customer_display_name: self.customer_display_name.trim().to_owned(),
            subject: self.subject.trim().to_owned(),
            owner: self.owner.trim().to_owned(),
            attributes: self.attributes.clone(),
        }
    }
}

/// A template must name each fire apart: otherwise every fire would open the same case.
fn check_template(template: &str) -> Result<(), ScheduleError> {
    const FIELD: &str = "business_key_template";
    if template.trim().is_empty() {
        return Err(invalid(FIELD, "must not be empty"));
    }
    let used = PLACEHOLDERS
        .iter()
        .filter(|p| template.contains(*p))
        .count();
    let rest = PLACEHOLDERS
        .iter()
        .fold(template.to_owned(), |t, p| t.replace(p, ""));
    if let Some(at) = rest.find(['{', '}']) {
        let tail = &rest[at..];
        let message = match tail.find('}') {
            Some(close) if tail.starts_with('{') => format!(
                "unknown placeholder {}; expected {}",
                &tail[..=close],
                PLACEHOLDERS.join(" or ")
            ),
            _ => format!("unmatched brace in {}", echo(template)),
        };
        return Err(invalid(FIELD, message));
    }
    if used == 0 {
        return Err(invalid(
            FIELD,
            format!(
                "{} needs {} so that each fire opens its own case",
                echo(template),
                PLACEHOLDERS.join(" or ")
            ),
        ));
    }
    Ok(())
}

impl SweepFilter {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if *self == SweepFilter::default() {
            return Err(invalid(
                "filter",
                "give at least one of state, waiting_for, workflow_type or waiting_longer_than: \
                 a sweep without a filter would remind every waiting case",
            ));
        }
        if let Some(secs) = self.waiting_longer_than_secs
            && secs > MAX_DURATION_SECS.unsigned_abs()
        {
            return Err(invalid(
                "filter.waiting_longer_than",
                format!("is {secs} seconds; at most {MAX_DURATION_SECS} (3650 days)"),
            ));
        }
        if let Some(state) = self.state {
            let Some(party) = state.waiting_for() else {
                return Err(invalid(
                    "filter.state",
                    format!("{state} is not a waiting state: a sweep reminds cases that wait"),
                ));
            };
            if let Some(other) = self.waiting_for.filter(|p| *p != party) {
                return Err(invalid(
                    "filter.waiting_for",
                    format!("a case in {state} waits for {party}, never for {other}"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the sweep at `now` reminds `case`: it waits, and matches every criterion.
    pub fn matches(&self, case: &Case, now: DateTime<Utc>) -> bool {
        let Some(waiting) = &case.waiting else {
            return false;
        };
        let waited_long_enough = self.waiting_longer_than_secs.is_none_or(|secs| {
            i64::try_from(secs).is_ok_and(|secs| (now - waiting.since).num_seconds() > secs)
        });
        self.state.is_none_or(|s| s == case.state)
            && self.waiting_for.is_none_or(|p| p == waiting.party)
            && self.workflow_type.is_none_or(|t| t == case.workflow_type)
            && waited_long_enough
    }
}
