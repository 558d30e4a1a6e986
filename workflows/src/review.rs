//! Drafts, their human review, take-overs and identity checks, as a case keeps them
//! ([`Rails`], the `rails` field of a [`Case`]). Everything here changes only through events,
//! so a replay of the history rebuilds it; the rules that apply the events are in
//! `machines/review.rs`, the routing rules in [`crate::automation`].
//!
//! A draft has a number, unique in its case (1, 2, …, in the order drafts arrive). Its
//! status moves once: `pending_review` or `held` to `approved`, `edited` or `rejected`
//! (a reviewer's decision) or `withdrawn` (its case ended while it still awaited review);
//! `sent` is a draft that went out on its own. A draft is submitted (`SubmitDraft`) or
//! templated: an activity a state machine emitted that automation did not let run on its own
//! (held, or queued for review in `review` mode).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::automation::{ActionType, AutomationStamp, Mode, Routing};
use crate::event::Actor;
use crate::model::{Case, CaseState, IdentityStatus, named_enum};
use crate::risk::{Assessment, Audience, DraftFlags};

/// Evidence kinds the safety rails record, beside [`crate::evidence::REVIEW_DECISION`].
pub mod evidence {
    /// A risk gate and routing decision on a submitted draft, with both policy versions.
    pub const RISK_GATE: &str = "risk_gate";
    /// A draft went out (on its own, or after a reviewer's approval).
    pub const DRAFT_SENT: &str = "draft_sent";
    /// A draft was recorded but neither sent nor queued.
    pub const DRAFT_HELD: &str = "draft_held";
    /// A draft still awaiting review was withdrawn because its case ended.
    pub const DRAFT_WITHDRAWN: &str = "draft_withdrawn";
    /// A templated activity of a governed type was held back instead of enqueued.
    pub const ACTIVITY_HELD: &str = "activity_held";
    /// A templated activity of a type in `review` mode went to the review queue instead of
    /// its task queue: it runs when a reviewer approves it.
    pub const ACTIVITY_FOR_REVIEW: &str = "activity_for_review";
    pub const TAKE_OVER: &str = "take_over";
    pub const HAND_BACK: &str = "hand_back";
    pub const IDENTITY: &str = "identity";
    /// Private customer context was asked for before identity was confirmed, and refused.
    pub const CONTEXT_REFUSED: &str = "context_refused";
    /// Private customer context was handed out, identity confirmed.
    pub const CONTEXT_READ: &str = "context_read";
    /// The case now runs under another automation policy version.
    pub const AUTOMATION_POLICY: &str = "automation_policy";
}

named_enum!(
    /// Where a draft stands.
    DraftStatus, "draft status" {
        /// In the review queue: a reviewer must decide.
        PendingReview => "pending_review",
        /// Recorded, not sent, not queued (mode off, paused, taken over); a reviewer may still
        /// decide it.
        Held => "held",
        /// Went out on its own (auto mode, nothing found).
        Sent => "sent",
        /// A reviewer approved it as drafted; it went out.
        Approved => "approved",
        /// A reviewer approved an edited text; that went out.
        Edited => "edited",
        Rejected => "rejected",
        /// Its case ended while it awaited review.
        Withdrawn => "withdrawn",
    }
);

impl DraftStatus {
    /// Still awaiting a human decision (queued or held).
    pub fn is_open(self) -> bool {
        matches!(self, DraftStatus::PendingReview | DraftStatus::Held)
    }
}

named_enum!(
    /// How a customer's identity was established.
    IdentityMethod, "identity method" {
        OrderNumberMatch => "order_number_match",
        PhoneMatch => "phone_match",
        EmailCode => "email_code",
        BackOfficeMatch => "back_office_match",
    }
);

/// Where a draft came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DraftOrigin {
    /// An agent or a backend submitted it (`SubmitDraft`).
    Submitted,
    /// A state machine emitted this templated activity, and automation held it back.
    Activity {
        activity: String,
        input: serde_json::Value,
    },
}

/// Who a draft is assigned to for review; unassigned drafts are anyone's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Assignee {
    Reviewer(String),
    Team(String),
}

impl std::fmt::Display for Assignee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Assignee::Reviewer(id) => write!(f, "reviewer {id}"),
            Assignee::Team(team) => write!(f, "team {team}"),
        }
    }
}

/// A reviewer's decision, as kept with the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub by: String,
    pub at: DateTime<Utc>,
    /// `approved`, `edited`, `rejected` or `withdrawn`.
    pub outcome: DraftStatus,
    /// The reviewer's note, or the reason of a rejection or withdrawal.
    pub note: String,
    /// The text that went out instead of the draft's (an edit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_text: Option<String>,
}

/// One draft of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDraft {
    pub number: u32,
    pub origin: DraftOrigin,
    /// The text as drafted (kept after an edit).
    pub text: String,
    /// Who reads it; `None` for a held templated activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    pub action_type: ActionType,
    #[serde(default)]
    pub flags: DraftFlags,
    pub author: Actor,
    /// The risk gate's assessment; `None` for a held templated activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    pub routing: Routing,
    /// The automation policy version it was routed under.
    pub automation_policy_version: i64,
    pub status: DraftStatus,
    pub submitted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Assignee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRecord>,
}

impl CaseDraft {
    /// The text that went out (or would): the edited one after an edit.
    pub fn final_text(&self) -> &str {
        self.decision
            .as_ref()
            .and_then(|d| d.edited_text.as_deref())
            .unwrap_or(&self.text)
    }

    pub fn is_templated(&self) -> bool {
        matches!(self.origin, DraftOrigin::Activity { .. })
    }
}

/// A human owns the case: automation on it is stopped until it is handed back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeOver {
    pub by: String,
    pub since: DateTime<Utc>,
    pub reason: String,
    /// The owner before the take-over, restored by the hand-back.
    pub previous_owner: String,
}

/// The last identity check of the case's customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCheck {
    pub status: IdentityStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<IdentityMethod>,
    pub at: DateTime<Utc>,
}

/// The safety rails of a case: its drafts, whether a human has taken it over, the automation
/// policy it last saw and its last identity check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rails {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drafts: Vec<CaseDraft>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_over: Option<TakeOver>,
    /// `None`: version 1, [`AutomationStamp::initial`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automation: Option<AutomationStamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityCheck>,
    /// True while the case waits for review because of its drafts (not a generic
    /// `request_review`): deciding the last pending draft then resumes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review_is_for_drafts: bool,
}

impl Rails {
    pub fn is_empty(&self) -> bool {
        *self == Rails::default()
    }

    pub fn draft(&self, number: u32) -> Option<&CaseDraft> {
        self.drafts.iter().find(|d| d.number == number)
    }

    /// The number the next draft gets.
    pub fn next_number(&self) -> u32 {
        self.drafts.iter().map(|d| d.number).max().unwrap_or(0) + 1
    }

    /// Whether a submitted draft awaits review: those hold their case in `waiting_for_review`.
    /// A templated activity awaiting review does not; its case goes on without it.
    pub fn has_pending_review(&self) -> bool {
        self.drafts
            .iter()
            .any(|d| d.status == DraftStatus::PendingReview && !d.is_templated())
    }

    /// The automation policy the case runs under.
    pub fn automation_stamp(&self) -> AutomationStamp {
        self.automation
            .clone()
            .unwrap_or_else(AutomationStamp::initial)
    }
}

/// A submitted draft with everything the engine decided about it before the event was
/// applied: the gate's assessment (under the identity it judged with) and the route (under the
/// mode, pause and take-over it saw). Replays rely on these, never on the policies in force
/// later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSubmitted {
    /// Must be the case's next draft number.
    pub draft: u32,
    pub text: String,
    pub audience: Audience,
    pub action_type: ActionType,
    #[serde(default)]
    pub flags: DraftFlags,
    pub author: Actor,
    /// The customer's identity status the gate judged with.
    pub identity: IdentityStatus,
    pub assessment: Assessment,
    /// The action type's mode, the pause and the take-over the route was decided with.
    pub mode: Mode,
    pub paused: bool,
    pub taken_over: bool,
    pub automation_policy_version: i64,
    pub routing: Routing,
}

/// What a reviewer decides about one draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Send it as drafted.
    Approve { note: String },
    /// Send this text instead (the draft's text is kept).
    Edit { text: String, note: String },
    /// Do not send it.
    Reject { reason: String },
    /// Hand the decision to another reviewer or team.
    Transfer { to: Assignee, note: String },
}

impl ReviewDecision {
    pub fn name(&self) -> &'static str {
        match self {
            ReviewDecision::Approve { .. } => "approve",
            ReviewDecision::Edit { .. } => "edit",
            ReviewDecision::Reject { .. } => "reject",
            ReviewDecision::Transfer { .. } => "transfer",
        }
    }
}

/// Why a decision cannot be applied to a case as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefusal {
    #[error("the case has no draft {0}")]
    NoSuchDraft(u32),
    #[error("draft {number} was already {status}{by}; a decided draft cannot be decided again")]
    AlreadyDecided {
        number: u32,
        status: DraftStatus,
        /// " by rev-1 at 2025-03-03 09:00 UTC", or empty.
        by: String,
    },
    /// The decision's content is unusable (INVALID_ARGUMENT).
    #[error("{0}")]
    Invalid(String),
}

/// Checks a decision on draft `number` of `case` before it is applied; the engine uses it to
/// say precisely why, the state machine to refuse.
pub fn check_decision<'c>(
    case: &'c Case,
    number: u32,
    decision: &ReviewDecision,
) -> Result<&'c CaseDraft, DecisionRefusal> {
    let draft = case
        .rails
        .draft(number)
        .ok_or(DecisionRefusal::NoSuchDraft(number))?;
    if !draft.status.is_open() {
        let by = draft.decision.as_ref().map_or_else(String::new, |d| {
            if d.by.is_empty() {
                String::new()
            } else {
                format!(" by {} at {}", d.by, d.at.format("%Y-%m-%d %H:%M UTC"))
            }
        });
        return Err(DecisionRefusal::AlreadyDecided {
            number,
            status: draft.status,
            by,
        });
    }
    match decision {
        ReviewDecision::Approve { .. } => {}
        ReviewDecision::Edit { text, .. } => {
            if draft.is_templated() {
                return Err(DecisionRefusal::Invalid(format!(
                    "draft {number} is a templated activity; approve or reject it, it cannot be edited"
                )));
            }
            if text.trim().is_empty() {
                return Err(DecisionRefusal::Invalid(
                    "the edited text is empty; write the text to send".into(),
                ));
            }
            if text.trim() == draft.text.trim() {
                return Err(DecisionRefusal::Invalid(format!(
                    "the edited text is the text of draft {number}; approve it instead"
                )));
            }
        }
        ReviewDecision::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(DecisionRefusal::Invalid(
                    "a rejection needs a reason".into(),
                ));
            }
        }
        ReviewDecision::Transfer { to, .. } => {
            let name = match to {
                Assignee::Reviewer(n) | Assignee::Team(n) => n,
            };
            if name.trim().is_empty() {
                return Err(DecisionRefusal::Invalid(
                    "a transfer needs a reviewer or a team to go to".into(),
                ));
            }
            if draft.assigned_to.as_ref() == Some(to) {
                return Err(DecisionRefusal::Invalid(format!(
                    "draft {number} is already assigned to {to}"
                )));
            }
        }
    }
    Ok(draft)
}

/// Why a take-over or hand-back cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakeOverRefusal {
    #[error("the case is {0}; only an open case can be taken over or handed back")]
    Closed(CaseState),
    #[error("the case is already taken over by {by} (since {since}); hand it back first")]
    AlreadyTakenOver { by: String, since: String },
    #[error("the case is not taken over; there is nothing to hand back")]
    NotTakenOver,
}

/// Whether `case` can be taken over now.
pub fn check_take_over(case: &Case) -> Result<(), TakeOverRefusal> {
    if case.state.is_terminal() {
        return Err(TakeOverRefusal::Closed(case.state));
    }
    match &case.rails.taken_over {
        Some(t) => Err(TakeOverRefusal::AlreadyTakenOver {
            by: t.by.clone(),
            since: t.since.format("%Y-%m-%d %H:%M UTC").to_string(),
        }),
        None => Ok(()),
    }
}

/// Whether `case` can be handed back now.
pub fn check_hand_back(case: &Case) -> Result<(), TakeOverRefusal> {
    if case.state.is_terminal() {
        return Err(TakeOverRefusal::Closed(case.state));
    }
    match case.rails.taken_over {
        Some(_) => Ok(()),
        None => Err(TakeOverRefusal::NotTakenOver),
    }
}
