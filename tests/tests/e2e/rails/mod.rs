//! The safety rails end to end: drafts and the risk gate, the review queue and the five
//! decisions, identity before context, automation modes with pause, rollback, audit and
//! replay, over gRPC against both stores.
//!
//! - `support`: clients of ReviewService, AutomationService, IdentityService; reviewers; tasks.
//! - `review`: each decision, the queue, take-over, idempotency, unknown reviewers, bad input.
//! - `automation`: modes and routing, the pause, off, the opening bar, rollback, replay, risk
//!   policy versions.
//! - `identity`: context only after confirmation, every read (granted or refused, by an agent
//!   or an activity task) in the history; customer-specific drafts held until then.
//! - `templated`: the activities the state machines emit wait in the review queue in review
//!   mode; the queue pages every status by age.

mod automation;
mod identity;
mod review;
pub(crate) mod support;
mod templated;
