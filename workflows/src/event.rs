//! What can happen to a case, and who made it happen.

use serde::{Deserialize, Serialize};

use crate::model::{NewCase, Party, named_enum};

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
        }
    }
}
