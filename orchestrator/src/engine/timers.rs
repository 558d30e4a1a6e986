//! Firing a due timer: one `timer_fired` event, applied exactly once.

use aijia_workflows::{Actor, ActorRole, Event, TimerAction, TimerKey};
use tracing::error;

use super::{Engine, EngineError, SignalRequest};
use crate::ids::{CaseId, RequestId};
use crate::store::DueTimer;
use crate::supervise::POISONED_BACKOFF;

/// What became of a claimed timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    Fired {
        event_seq: i64,
    },
    /// The case had moved on (or is gone): the timer was dropped without an event.
    Stale,
}

impl Engine {
    /// Records on a claimed timer that firing it failed without an answer (it panicked), and
    /// leaves it alone for [`POISONED_BACKOFF`], so that a timer that always panics is not
    /// claimed again at once.
    pub async fn timer_failed(&self, timer: &DueTimer, error: &str) -> Result<(), EngineError> {
        let retry_at = self.clock.now() + POISONED_BACKOFF;
        Ok(self.store.timer_failed(timer, error, retry_at).await?)
    }

    /// Applies a claimed timer to its case. The request id is derived from the timer's name
    /// and due time, so a timer fired twice (a lease ran out mid-fire) is applied once; the
    /// commit that applies it also deletes or moves the timer row.
    pub async fn fire_timer(&self, timer: &DueTimer) -> Result<TimerOutcome, EngineError> {
        let (Ok(key), Ok(action)) = (
            timer.name.parse::<TimerKey>(),
            serde_json::from_value::<TimerAction>(timer.action.clone()),
        ) else {
            // Not ours to interpret: keep it from being claimed forever, and say so loudly.
            error!(case_id = %timer.case_id, timer = %timer.name, "unreadable timer dropped");
            self.store.delete_timer(timer).await?;
            return Ok(TimerOutcome::Stale);
        };
        let request_id = format!("timer:{}:{}", timer.name, timer.fire_at.timestamp_micros());
        let signal = SignalRequest {
            request_id: RequestId::parse(&request_id)
                .map_err(|e| EngineError::Refused(aijia_workflows::Refusal::Invalid(e)))?,
            case_id: CaseId(timer.case_id),
            actor: Actor {
                role: ActorRole::System,
                id: format!("timer@{}", self.node),
            },
            expected_version: None,
            event: Event::TimerFired {
                key,
                action,
                fire_at: timer.fire_at,
            },
        };
        match self.signal(signal).await {
            Ok(change) => Ok(TimerOutcome::Fired {
                event_seq: change.event_seq,
            }),
            Err(EngineError::Refused(_) | EngineError::NotFound(_)) => {
                self.store.delete_timer(timer).await?;
                Ok(TimerOutcome::Stale)
            }
            Err(other) => Err(other),
        }
    }
}
