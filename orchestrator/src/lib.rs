//! The Aijia orchestrator: the server behind the `aijia` binary.
//!
//! - [`store`]: PostgreSQL and SQLite storage of cases, history, timers and tasks.
//! - [`engine`]: applies events to cases, one atomic commit per transition.
//! - [`grpc`]: the `aijia.v1` services, request validation and status mapping.
//! - [`server`]: start and stop a server; [`clock`]: the one source of time;
//!   [`supervise`]: background work that survives panics, and an honest health answer.
//! - [`worker`]: in-process activity workers, long polls and their wake-ups, lease expiry.
//! - [`cli`]: the `aijia` command line (server commands and the operator client).

pub mod cli;
pub mod clock;
pub mod engine;
pub mod grpc;
pub mod ids;
pub mod scheduler;
pub mod server;
pub mod store;
pub mod supervise;
pub mod telemetry;
pub mod worker;
