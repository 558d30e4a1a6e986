//! A whole schedule as a caller defines it and the store keeps it: expression, zone, missed-fire
//! policy, jitter and action, checked in one place.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ScheduleError;
use super::action::ScheduleAction;
use super::fires::MissedFirePolicy;
use super::spec::CronSpec;

/// The largest jitter accepted: a fire may be spread over at most an hour.
pub const MAX_JITTER_SECS: u64 = 3_600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleDefinition {
    /// 5, 6 or 7 fields; see [`crate::schedule`].
    pub cron: String,
    /// An IANA zone name such as `Asia/Shanghai`.
    pub time_zone: String,
    pub missed_fire: MissedFirePolicy,
    /// Each fire waits a deterministic [`super::jitter_for`] delay in `[0, jitter_secs]`.
    #[serde(default)]
    pub jitter_secs: u64,
    pub action: ScheduleAction,
}

impl ScheduleDefinition {
    /// Check every part; the error names the first bad one. The parsed expression comes back
    /// for computing fire times.
    pub fn validate(&self) -> Result<CronSpec, ScheduleError> {
        let spec = CronSpec::parse(&self.cron, &self.time_zone)?;
        self.missed_fire.validate()?;
        if self.jitter_secs > MAX_JITTER_SECS {
            return Err(ScheduleError::Jitter(format!(
                "{} seconds is more than the {MAX_JITTER_SECS} allowed",
                self.jitter_secs
            )));
        }
        self.action.validate()?;
        Ok(spec)
    }

    /// [`validate`](Self::validate) for a schedule being written at `now`: it must also fire
    /// again after `now` (an expression whose years are all past never would).
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<CronSpec, ScheduleError> {
        let spec = self.validate()?;
        if spec.next_after(now).is_none() {
            return Err(ScheduleError::Expression {
                expression: self.cron.clone(),
                reason: format!("it never fires after {}", now.format("%Y-%m-%d %H:%M UTC")),
            });
        }
        Ok(spec)
    }

    /// The most a fire is delayed by jitter.
    pub fn max_jitter(&self) -> Duration {
        Duration::seconds(i64::try_from(self.jitter_secs.min(MAX_JITTER_SECS)).unwrap_or(0))
    }
}
