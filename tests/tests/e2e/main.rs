//! End-to-end tests of Aijia: the real server on loopback, a fresh database per test, a real
//! gRPC client. Most tests run twice, on PostgreSQL and on SQLite (`on_both_stores!`).
//!
//! - `start`: opening cases, idempotency by request id and by business key.
//! - `workflows`: every workflow type's main path to `completed`, every signal event kind.
//! - `signals`: request-id idempotency, expected versions, refused events.
//! - `request_ids`: every RPC with a request id answers identical retries and refuses reuse.
//! - `listing`: ListCases filters and paging.
//! - `lookup`: GetCase by (workflow type, business key), in the API and the CLI.
//! - `history`: GetCaseHistory contents and paging.
//! - `cancel`: CancelCase.
//! - `replay`: ReplayCase on honest and on tampered histories.
//! - `bad_input`: every invalid request is refused with its code and field, writing nothing.
//! - `limits`: bounds at the edge, by class: durations and times, list caps, NUL characters,
//!   schedules held to the limits of their calls, refusals that quote huge values.
//! - `service`: gRPC health and reflection.
//! - `races`: concurrent signals and starts on one case or business key.
//! - `stale_cases`: two servers on one database never answer from a case the other moved.
//! - `schedules`: schedules by name, their change log, next fires in their own zone.
//! - `timers`: waiting-state timers fire once, cancel with their state, survive SIGKILL.
//! - `crash`: SIGKILL the real binary under load, restart, check every acknowledged signal.
//! - `rails`: drafts and the risk gate, review decisions, identity, automation modes.
//! - `readme`: the README's walkthrough, run command by command with the real CLI.
//! - `runtime`: loops that survive failing rows, health, database errors, start-up failures,
//!   the CLI on a closed pipe, and logs without customer text.
//! - `activities`: activity tasks, workers (remote and in-process), retries, operators, crashes.

#![allow(clippy::unwrap_used)]

mod activities;
mod bad_input;
mod cancel;
mod crash;
mod history;
mod limits;
mod listing;
mod lookup;
mod races;
mod rails;
mod readme;
mod replay;
mod request_ids;
mod runtime;
mod schedules;
mod service;
mod signals;
mod stale_cases;
mod start;
mod support;
mod timers;
mod workflows;
