//! Aijia's pure core: the service-case state machines.
//!
//! Everything here is deterministic and free of I/O and clocks: time comes in as a value.
//! [`start`] opens a case, [`decide`] applies one event to a case and returns the next case
//! plus the [`Effect`]s the transition asks for, and [`replay()`] folds a stored history back
//! into a case so that the engine can check it against what it stored.
//!
//! - [`bounds`]: the ranges of durations and times callers may give, and how refusals quote.
//! - [`model`]: the case, its states, parties, customer and waiting information.
//! - [`event`]: the events that drive a case and the actors that send them.
//! - [`effect`]: timers, activity tasks, review requests and evidence a transition asks for,
//!   with the stable [`activity`] names and [`evidence`] kinds.
//! - [`policy`]: the waiting-state timer policy a decision consults (`policy/timers.toml`).
//! - [`schedule`]: cron schedules in a time zone, missed fires and what a fire does.
//! - [`risk`]: the risk gate that sends high-risk drafts to review (`policy/risk.toml`).
//! - [`review`]: drafts and their human review, take-over and identity checks on a case.
//! - [`automation`]: automation modes per action type, routing, pass rates, policy replay.
//! - [`waits`]: why a case's open drafts and unfinished tasks wait, as one sentence each.
//! - [`machines`]: one statig state machine per workflow type (transitions are drawn in
//!   `docs/workflows.md`).

pub mod automation;
pub mod bounds;
pub mod effect;
pub mod event;
pub mod machines;
pub mod model;
pub mod policy;
mod replay;
pub mod review;
pub mod risk;
pub mod schedule;
pub mod waits;

pub use effect::{
    Effect, EscalateTo, ExpireOutcome, TimerAction, TimerKey, TimerKind, activity, evidence,
};
pub use event::{Actor, ActorRole, Event};
pub use machines::{decide, start};
pub use model::{
    Attention, Case, CaseState, ChecklistItem, Customer, IdentityStatus, NewCase, Party, Waiting,
    WorkflowType,
};
pub use policy::{PlannedTimer, PolicyError, TimerPolicy};
pub use replay::{Mismatch, Recorded, ReplayOutcome, replay};
pub use risk::{Assessment, Audience, Draft, DraftFlags, RiskPolicy};

/// The outcome of applying one event: the case as it now stands and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub case: Case,
    pub effects: Vec<Effect>,
    /// The numbers of the drafts this event added or changed (the store keeps its review
    /// queue index from them).
    pub drafts_changed: Vec<u32>,
}

/// Why an event was not applied. Nothing changes when an event is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The current state does not accept this kind of event.
    #[error("a case of type {workflow_type} in state {state} does not accept {event}")]
    NotAccepted {
        workflow_type: WorkflowType,
        state: CaseState,
        event: &'static str,
    },
    /// The event is acceptable in principle but its content is not (e.g. an unknown
    /// checklist item, an empty owner).
    #[error("{0}")]
    Invalid(String),
}

/// A name that did not parse into one of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {}; expected one of: {expected}", bounds::echo(.given))]
pub struct ParseError {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

impl ParseError {
    pub(crate) fn unknown(what: &'static str, given: &str, expected: &[&str]) -> Self {
        ParseError {
            what,
            given: given.to_owned(),
            expected: expected.join(", "),
        }
    }
}
