//! The behaviour of the workflow state machines, through the crate's public API only.

mod activity_outcomes;
mod appointment_confirmation;
mod common_rules;
mod completion_feedback;
mod material_collection;
mod partner_cooperation_request;
mod policy;
mod progress_inquiry;
mod properties;
mod refusals;
mod support;
mod timers;
