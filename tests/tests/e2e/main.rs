//! End-to-end tests of Aijia: the real server on loopback, a fresh database per test, a real
//! gRPC client. Most tests run twice, on PostgreSQL and on SQLite (`on_both_stores!`).
//!
//! - `start`: opening cases, idempotency by request id and by business key.
//! - `workflows`: every workflow type's main path to `completed`, every signal event kind.
//! - `signals`: request-id idempotency, expected versions, refused events.
//! - `listing`: ListCases filters and paging.
//! - `history`: GetCaseHistory contents and paging.
//! - `cancel`: CancelCase.
//! - `replay`: ReplayCase on honest and on tampered histories.
//! - `bad_input`: every invalid request is refused with its code and field, writing nothing.
//! - `service`: gRPC health and reflection.
//! - `races`: concurrent signals and starts on one case or business key.
//! - `stale_cases`: two servers on one database never answer from a case the other moved.
//! - `timers`: waiting-state timers fire once, cancel with their state, survive SIGKILL.
//! - `crash`: SIGKILL the real binary under load, restart, check every acknowledged signal.
//! - `rails`: drafts and the risk gate, review decisions, identity, automation modes.
//! - `readme`: the README's walkthrough, run command by command with the real CLI.
//! - `activities`: activity tasks, workers (remote and in-process), retries, operators, crashes.

#![allow(clippy::unwrap_used)]

mod activities;
mod bad_input;
mod cancel;
mod crash;
mod history;
mod listing;
mod races;
mod rails;
mod readme;
mod replay;
mod service;
mod signals;
mod stale_cases;
mod start;
mod support;
mod timers;
mod workflows;
