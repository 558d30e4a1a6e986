//! The service case as a first-class object: who the customer is, what the case is, who owns
//! it, who and what it waits for, what comes next, whether review is needed, whether it is done.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Declares a string-backed enum with one canonical snake_case name per variant, parsed once
/// at the edge (`FromStr`) and printed back the same way (`Display`, serde).
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::ParseError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::ParseError::unknown($what, other, &[$($text),+])),
                }
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// The five starting workflow types of the rollout blueprint.
    WorkflowType, "workflow type" {
        MaterialCollection => "material_collection",
        ProgressInquiry => "progress_inquiry",
        AppointmentConfirmation => "appointment_confirmation",
        PartnerCooperationRequest => "partner_cooperation_request",
        CompletionFeedback => "completion_feedback",
    }
);

named_enum!(
    /// Where a case stands. `Completed` and `Cancelled` are terminal.
    CaseState, "case state" {
        WaitingForCustomer => "waiting_for_customer",
        WaitingForExecutor => "waiting_for_executor",
        WaitingForReview => "waiting_for_review",
        WaitingForPartner => "waiting_for_partner",
        Received => "received",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

impl CaseState {
    pub fn is_terminal(self) -> bool {
        matches!(self, CaseState::Completed | CaseState::Cancelled)
    }

    /// The party a waiting state waits for; `None` for `received` and the terminal states.
    pub fn waiting_for(self) -> Option<Party> {
        match self {
            CaseState::WaitingForCustomer => Some(Party::Customer),
            CaseState::WaitingForExecutor => Some(Party::Executor),
            CaseState::WaitingForReview => Some(Party::Review),
            CaseState::WaitingForPartner => Some(Party::Partner),
            _ => None,
        }
    }
}

named_enum!(
    /// Who a case waits for.
    Party, "party" {
        Customer => "customer",
        Executor => "executor",
        Review => "review",
        Partner => "partner",
    }
);

impl Party {
    /// The waiting state that waits for this party.
    pub fn waiting_state(self) -> CaseState {
        match self {
            Party::Customer => CaseState::WaitingForCustomer,
            Party::Executor => CaseState::WaitingForExecutor,
            Party::Review => CaseState::WaitingForReview,
            Party::Partner => CaseState::WaitingForPartner,
        }
    }
}

named_enum!(
    /// How far the customer's identity is established. Private context needs `Confirmed`.
    IdentityStatus, "identity status" {
        Unknown => "unknown",
        Claimed => "claimed",
        Confirmed => "confirmed",
        Failed => "failed",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub display_name: String,
    pub identity: IdentityStatus,
}

/// One item the case still waits for (e.g. a document the customer must send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub name: String,
    pub done: bool,
}

/// Who the case waits for and what, in words a person reads, plus an optional checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub party: Party,
    pub what: String,
    pub checklist: Vec<ChecklistItem>,
    pub since: DateTime<Utc>,
    /// Reminders sent since the state was entered (reset on every re-entry).
    #[serde(default)]
    pub reminders_sent: u32,
}

/// What a caller supplies to open a case. Stored as the first history event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCase {
    pub workflow_type: WorkflowType,
    pub business_key: String,
    pub customer_id: String,
    pub customer_display_name: String,
    pub subject: String,
    pub owner: String,
    pub attributes: BTreeMap<String, String>,
}

/// The case as the state machine sees it. Identifiers and bookkeeping (id, version, times of
/// storage) belong to the store; this is everything a replay must reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub workflow_type: WorkflowType,
    pub business_key: String,
    pub customer: Customer,
    pub subject: String,
    pub owner: String,
    pub attributes: BTreeMap<String, String>,
    pub state: CaseState,
    /// Set in every waiting state, `None` otherwise.
    pub waiting: Option<Waiting>,
    /// What comes next, in words an operator reads.
    pub next_step: String,
    /// True while a human decision is outstanding.
    pub review_needed: bool,
    /// The state to return to once a review is decided (set while in `waiting_for_review`).
    pub resume_state: Option<CaseState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Activity tasks that failed for good: while any is here the case needs an operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<Attention>,
    /// Drafts and their review, take-over, identity checks, the automation policy in force
    /// (`review.rs`).
    #[serde(default, skip_serializing_if = "crate::review::Rails::is_empty")]
    pub rails: crate::review::Rails,
}

/// An activity task of the case that failed for good, with its last error: an operator must
/// retry or cancel it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub task_id: i64,
    pub activity: String,
    pub code: String,
    pub message: String,
    /// When the failure was applied to the case.
    pub since: DateTime<Utc>,
}

impl Case {
    /// True while an activity task of the case has failed for good.
    pub fn needs_operator(&self) -> bool {
        !self.attention.is_empty()
    }

    pub fn is_complete(&self) -> bool {
        self.state == CaseState::Completed
    }
}
