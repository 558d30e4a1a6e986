//! What can happen to a case, and who made it happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::automation::{ActionType, AutomationStamp};
use crate::effect::{TimerAction, TimerKey};
use crate::model::IdentityStatus;
use crate::model::{NewCase, Party, named_enum};
use crate::review::{DraftSubmitted, IdentityMethod, ReviewDecision};

named_enum!(
    /// Which agent role or which human acted. Every history event records one.
    ActorRole, "actor role" {
        Reception => "reception",
        Identity => "identity",
        Knowledge => "knowledge",
        Case => "case",
        Collaboration => "collaboration",
        Execution => "execution",
        Review => "review",
        Improvement => "improvement",
        Reviewer => "reviewer",
        Operator => "operator",
        Partner => "partner",
        Customer => "customer",
        Executor => "executor",
        Backend => "backend",
        System => "system",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: ActorRole,
    pub id: String,
}

/// An input to a case's state machine. Serialized as the payload of a history event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The first event of every case.
    Started(NewCase),
    CustomerReplied {
        text: String,
    },
    /// The customer sent some of the materials a checklist asks for.
    MaterialProvided {
        items: Vec<String>,
        note: String,
    },
    ExecutorDone {
        note: String,
    },
    PartnerDone {
        note: String,
    },
    /// The partner cannot go on until the customer does something.
    PartnerWaitsForCustomer {
        what: String,
    },
    /// Staff confirm the materials arrived in good order.
    MaterialReceived {
        items: Vec<String>,
    },
    RequestReview {
        reason: String,
    },
    ReviewDecided {
        approved: bool,
        note: String,
    },
    /// Explicitly park the case on a party, with what it waits for.
    WaitFor {
        party: Party,
        what: String,
        checklist: Vec<String>,
    },
    Complete {
        note: String,
    },
    ReassignOwner {
        owner: String,
    },
    Cancel {
        reason: String,
    },
    /// Remind whoever the case waits for now, outside its timers (e.g. a schedule's reminder
    /// sweep). Accepted in waiting states only; no timer moves.
    SendReminder {
        reason: String,
    },
    /// A timer came due. The engine sends the key and action stored with the timer and the
    /// time it was due (`fire_at`), which may be earlier than the time it is applied.
    TimerFired {
        key: TimerKey,
        action: TimerAction,
        fire_at: DateTime<Utc>,
    },
    /// An activity task of the case completed (applied once per task, by the engine, in the
    /// same commit that marks the task completed). Accepted in every state, terminal ones
    /// included: a result that arrives after the case ended is still evidence.
    ActivityCompleted {
        task_id: i64,
        activity: String,
        output: serde_json::Value,
    },
    /// An activity task failed for good (non-retryable, or out of attempts): the case needs an
    /// operator until the task is retried or cancelled. Accepted in every state.
    ActivityFailed {
        task_id: i64,
        activity: String,
        code: String,
        message: String,
    },
    /// An operator sent a failed task back to its queue. Accepted in every state.
    TaskRetried {
        task_id: i64,
    },
    /// An operator cancelled a task. Accepted in every state.
    TaskCancelled {
        task_id: i64,
        reason: String,
    },
    /// A draft reply was submitted, judged by the risk gate and routed (send, review or hold)
    /// by the engine, which records here everything it decided with (`review.rs`).
    DraftSubmitted(Box<DraftSubmitted>),
    /// A reviewer decided a draft: approve, edit, reject or transfer. `templated` is true for
    /// a held templated activity.
    DraftDecided {
        draft: u32,
        reviewer: String,
        action_type: ActionType,
        #[serde(default)]
        templated: bool,
        decision: Box<ReviewDecision>,
    },
    /// A named human owns the case from now on; automation on it stops until it is handed back.
    CaseTakenOver {
        by: String,
        reason: String,
    },
    CaseHandedBack {
        by: String,
        note: String,
    },
    /// The customer's identity was claimed, confirmed or failed, and how.
    IdentityRecorded {
        status: IdentityStatus,
        method: Option<IdentityMethod>,
        evidence: String,
    },
    /// Someone asked for the customer's private context before identity was confirmed, and was
    /// refused. Accepted in every state: a refusal is evidence.
    ContextAccessRefused {
        identity: IdentityStatus,
        purpose: String,
        /// The activity task that asked, when an activity did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_id: Option<i64>,
    },
    /// The customer's private context was handed out: identity was confirmed. Accepted in
    /// every state, and only while identity is confirmed.
    ContextAccessGranted {
        purpose: String,
        /// The activity task that asked, when an activity did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_id: Option<i64>,
    },
    /// The case runs under this automation policy version from now on (the engine applies it
    /// before an event whose templated activities the policy governs). Accepted in every state.
    AutomationPolicyApplied(AutomationStamp),
}

impl Event {
    /// The stable snake_case name stored as the history event type.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Started(_) => "started",
            Event::CustomerReplied { .. } => "customer_replied",
            Event::MaterialProvided { .. } => "material_provided",
            Event::ExecutorDone { .. } => "executor_done",
            Event::PartnerDone { .. } => "partner_done",
            Event::PartnerWaitsForCustomer { .. } => "partner_waits_for_customer",
            Event::MaterialReceived { .. } => "material_received",
            Event::RequestReview { .. } => "request_review",
            Event::ReviewDecided { .. } => "review_decided",
            Event::WaitFor { .. } => "wait_for",
            Event::Complete { .. } => "complete",
            Event::ReassignOwner { .. } => "reassign_owner",
            Event::Cancel { .. } => "cancel",
            Event::SendReminder { .. } => "send_reminder",
            Event::TimerFired { .. } => "timer_fired",
            Event::ActivityCompleted { .. } => "activity_completed",
            Event::ActivityFailed { .. } => "activity_failed",
            Event::TaskRetried { .. } => "task_retried",
            Event::TaskCancelled { .. } => "task_cancelled",
            Event::DraftSubmitted(_) => "draft_submitted",
            Event::DraftDecided { .. } => "draft_decided",
            Event::CaseTakenOver { .. } => "case_taken_over",
            Event::CaseHandedBack { .. } => "case_handed_back",
            Event::IdentityRecorded { .. } => "identity_recorded",
            Event::ContextAccessRefused { .. } => "context_access_refused",
            Event::ContextAccessGranted { .. } => "context_access_granted",
            Event::AutomationPolicyApplied(_) => "automation_policy_applied",
        }
    }
}
