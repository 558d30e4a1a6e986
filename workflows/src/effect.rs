//! What a decision asks the world to do. The engine persists these in the same transaction as
//! the transition; timers and activity tasks are executed later from their tables.

use chrono::{DateTime, Duration, Utc};
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

    /// Every activity a state machine may enqueue.
    pub const ALL: &[&str] = &[
        SEND_MESSAGE,
        CONFIRM_MATERIAL_RECEIVED,
        SEND_PROGRESS_REMINDER,
        WRITEBACK_COMPLETION_FEEDBACK,
        CAPTURE_EVIDENCE,
        VERIFY_AUTHORIZED,
    ];
}

/// Stable kinds of [`Effect::RecordEvidence`], so audits can query them by name.
pub mod evidence {
    pub const CUSTOMER_REPLY: &str = "customer_reply";
    pub const REVIEW_DECISION: &str = "review_decision";
    pub const CANCELLATION: &str = "cancellation";
    pub const COMPLETION: &str = "completion";
    pub const MATERIAL_CONFIRMED: &str = "material_confirmed";
    /// A waiting-state reminder went out (detail: which one, to whom, about what).
    pub const REMINDER: &str = "reminder";
    /// A case waited too long and was escalated to a review or to its owner.
    pub const ESCALATION: &str = "escalation";
}

named_enum!(
    /// What a waiting-state timer does when it fires.
    TimerKind, "timer kind" {
        Remind => "remind",
        Escalate => "escalate",
        Expire => "expire",
    }
);

named_enum!(
    /// Where an escalation timer sends a case that waited too long.
    EscalateTo, "escalation target" {
        /// Request a human review (the case moves to `waiting_for_review`).
        Review => "review",
        /// Tell the case's owner (a `send_message` to the owner; the case stays).
        Owner => "owner",
    }
);

named_enum!(
    /// How an expiry timer closes a case that waited too long.
    ExpireOutcome, "expiry outcome" {
        Cancel => "cancel",
        Complete => "complete",
    }
);

/// What a timer does when it fires. Decided when the timer starts and stored with it, so that
/// a fire is decided from history alone, never from the policy in force when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimerAction {
    /// Send a reminder; with `every_secs` set and `remaining > 0`, start the next reminder.
    Remind {
        /// Seconds between reminders; `None` for a single reminder.
        every_secs: Option<u64>,
        /// How many more reminders may follow this one.
        remaining: u32,
    },
    Escalate {
        to: EscalateTo,
    },
    Expire {
        outcome: ExpireOutcome,
    },
}

impl TimerAction {
    /// The timer kind this action belongs to.
    pub fn kind(&self) -> TimerKind {
        match self {
            TimerAction::Remind { .. } => TimerKind::Remind,
            TimerAction::Escalate { .. } => TimerKind::Escalate,
            TimerAction::Expire { .. } => TimerKind::Expire,
        }
    }

    /// The interval between reminders, for a repeating reminder.
    pub fn every(&self) -> Option<Duration> {
        match self {
            TimerAction::Remind {
                every_secs: Some(secs),
                ..
            } => i64::try_from(*secs).ok().map(Duration::seconds),
            _ => None,
        }
    }
}

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

impl std::str::FromStr for TimerKey {
    type Err = crate::ParseError;

    /// Reads the text form written by [`TimerKey::name`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (state, kind) = text.split_once('/').ok_or_else(|| crate::ParseError {
            what: "timer name",
            given: text.to_owned(),
            expected: "<state>/<kind>, e.g. waiting_for_customer/remind".to_owned(),
        })?;
        Ok(TimerKey {
            state: state.parse()?,
            kind: kind.parse()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Start (or move) a timer; an existing timer with the same key is replaced. The engine
    /// stores `action` with the timer and hands it back in [`crate::Event::TimerFired`].
    StartTimer {
        key: TimerKey,
        fire_at: DateTime<Utc>,
        action: TimerAction,
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
