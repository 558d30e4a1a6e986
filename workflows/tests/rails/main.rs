//! The safety rails of a case through the crate's public API only: drafts and their routing,
//! the review decisions, take-over, identity, templated activities held by automation, the
//! automation rules (routing table, opening bar, replay), and random histories that mix them
//! with the workflow events.

mod automation_rules;
mod decisions;
mod drafts;
mod held_activities;
mod identity;
mod properties;
mod replay_report;
mod support;
