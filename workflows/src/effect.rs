//! What a decision asks the world to do. The engine persists these in the same transaction as
//! the transition; timers and activity tasks are executed later from their tables.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CaseState, named_enum};

/// Stable names of the activity types a decision can enqueue; workers register under these.
pub mod activity {
    pub const SEND_MESSAGE: &str = "send_message";
    pub const CONFIRM_MATERIAL_RECEIVED: &str = "confirm_material_received";
    pub const SEND_PROGRESS_REMINDER: &str = "send_progress_reminder";
    pub const WRITEBACK_COMPLETION_FEEDBACK: &str = "writeback_completion_feedback";
    pub const CAPTURE_EVIDENCE: &str = "capture_evidence";
    pub const VERIFY_AUTHORIZED: &str = "verify_authorized";
}

/// Stable kinds of [`Effect::RecordEvidence`], so audits can query them by name.
pub mod evidence {
    pub const CUSTOMER_REPLY: &str = "customer_reply";
    pub const REVIEW_DECISION: &str = "review_decision";
    pub const CANCELLATION: &str = "cancellation";
    pub const COMPLETION: &str = "completion";
    pub const MATERIAL_CONFIRMED: &str = "material_confirmed";
}

named_enum!(
    /// What a waiting-state timer does when it fires.
    TimerKind, "timer kind" {
        Remind => "remind",
        Escalate => "escalate",
        Expire => "expire",
    }
);

/// Names one timer of a case: at most one of each kind per waiting state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimerKey {
    pub state: CaseState,
    pub kind: TimerKind,
}

impl TimerKey {
    /// Stable text form stored in the timers table, e.g. `waiting_for_customer/remind`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.state, self.kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Start (or move) a timer; an existing timer with the same key is replaced.
    StartTimer {
        key: TimerKey,
        fire_at: DateTime<Utc>,
    },
    CancelTimer {
        key: TimerKey,
    },
    /// Enqueue an activity task. `activity` is the activity type's stable name; the engine
    /// derives the task's idempotency key from the case, the event sequence and `activity`.
    EnqueueActivity {
        activity: String,
        input: serde_json::Value,
    },
    /// A human decision is needed before the case goes on.
    RequestReview {
        reason: String,
    },
    /// A fact worth keeping as evidence, beyond the event itself.
    RecordEvidence {
        kind: String,
        detail: String,
    },
}
