//! When to run a failed task again: [`RetryPolicy::next_retry`] is a pure function of the
//! policy, the attempt that failed and its error. Jitter, if wanted, is the scheduler's job;
//! the same inputs always give the same decision here.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::serde_text;
use crate::error::ActivityError;

/// A task's retry policy; serialized with the task so that each task carries its own.
///
/// ```json
/// {"initial_interval":"1s","backoff_coefficient":2.0,"maximum_interval":"5m",
///  "maximum_attempts":10,"non_retryable_codes":["http_4xx"]}
/// ```
/// Missing fields take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt.
    #[serde(with = "serde_text")]
    pub initial_interval: Duration,
    /// Each wait is this many times the one before (at least 1.0).
    pub backoff_coefficient: f64,
    /// No wait is longer than this.
    #[serde(with = "serde_text")]
    pub maximum_interval: Duration,
    /// Attempts in all, the first one included; 0 means no limit.
    pub maximum_attempts: u32,
    /// Error codes that end the task at once even when the error says it is retryable.
    pub non_retryable_codes: Vec<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_interval: Duration::from_secs(1),
            backoff_coefficient: 2.0,
            maximum_interval: Duration::from_secs(300),
            maximum_attempts: 10,
            non_retryable_codes: Vec::new(),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryDecision {
    /// Run again after this long.
    RetryAfter(Duration),
    /// Stop: the task has failed and its case needs an operator.
    GiveUp(GiveUpReason),
}

/// Why a task is given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum GiveUpReason {
    /// The error said a retry cannot help.
    NonRetryable { code: String },
    /// The policy lists the error's code as non-retryable.
    NonRetryableCode { code: String },
    /// The policy's attempts are used up.
    AttemptsExhausted { attempts: u32 },
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiveUpReason::NonRetryable { code } => write!(f, "non-retryable error {code}"),
            GiveUpReason::NonRetryableCode { code } => {
                write!(
                    f,
                    "error {code} is non-retryable by the task's retry policy"
                )
            }
            GiveUpReason::AttemptsExhausted { attempts } => {
                write!(f, "all {attempts} attempts failed")
            }
        }
    }
}

/// A policy that cannot work, named for whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid retry policy: {0}")]
pub struct InvalidRetryPolicy(String);

impl RetryPolicy {
    /// Check the policy once where it is written (configuration, task creation).
    pub fn validate(&self) -> Result<(), InvalidRetryPolicy> {
        if self.initial_interval.is_zero() {
            return Err(InvalidRetryPolicy(
                "initial_interval must be more than 0".into(),
            ));
        }
        if !(self.backoff_coefficient.is_finite() && self.backoff_coefficient >= 1.0) {
            return Err(InvalidRetryPolicy(format!(
                "backoff_coefficient must be at least 1.0, not {}",
                self.backoff_coefficient
            )));
        }
        if self.maximum_interval < self.initial_interval {
            return Err(InvalidRetryPolicy(
                "maximum_interval must not be less than initial_interval".into(),
            ));
        }
        Ok(())
    }

    /// Decide after attempt number `attempt` (1-based) failed with `err`.
    ///
    /// The wait after attempt n is `initial_interval * backoff_coefficient^(n-1)`, capped at
    /// `maximum_interval`. A receiver's retry-after hint (`details.retry_after_secs`, set by
    /// the webhook adapter on HTTP 429) lengthens the wait, within the same cap.
    pub fn next_retry(&self, attempt: u32, err: &ActivityError) -> RetryDecision {
        if !err.is_retryable() {
            return RetryDecision::GiveUp(GiveUpReason::NonRetryable {
                code: err.code.clone(),
            });
        }
        if self.non_retryable_codes.contains(&err.code) {
            return RetryDecision::GiveUp(GiveUpReason::NonRetryableCode {
                code: err.code.clone(),
            });
        }
        let attempt = attempt.max(1);
        if self.maximum_attempts != 0 && attempt >= self.maximum_attempts {
            return RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted {
                attempts: self.maximum_attempts,
            });
        }
        let mut wait = self.backoff(attempt);
        if let Some(hint) = err
            .details
            .get("retry_after_secs")
            .and_then(serde_json::Value::as_u64)
        {
            wait = wait.max(Duration::from_secs(hint));
        }
        RetryDecision::RetryAfter(wait.min(self.maximum_interval))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt - 1).unwrap_or(i32::MAX);
        let factor = self.backoff_coefficient.max(1.0).powi(exponent);
        let secs = self.initial_interval.as_secs_f64() * factor;
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.maximum_interval)
            .min(self.maximum_interval)
    }
}
