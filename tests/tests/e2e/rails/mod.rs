//! The safety rails end to end: drafts and the risk gate, the review queue and the five
//! decisions, identity before context, automation modes with pause, rollback, audit and
//! replay, over gRPC against both stores.
//!
//! - `support`: clients of ReviewService, AutomationService, IdentityService; reviewers; tasks.
//! - `review`: each decision, the queue, take-over, idempotency, unknown reviewers, bad input.
//! - `automation`: modes and routing, the pause, off, the opening bar, rollback, replay, risk
//!   policy versions.
//! - `identity`: context only after confirmation, every refusal in the history; customer-
//!   specific drafts held until then.

mod automation;
mod identity;
mod review;
mod support;
