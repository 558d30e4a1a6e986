//! Activity tasks end to end: the outbox as a queue, workers over gRPC and in-process,
//! leases, retries, operators, crashes.
//!
//! - `support`: a test worker (WorkerService client), task listing, a case with a task.
//! - `lifecycle`: a task runs once per attempt and its result reaches the case once; lost
//!   leases, duplicate and late outcomes; cancelled cases.
//! - `retries`: backoff and maximum attempts by the task's policy (manual clock),
//!   non-retryable errors, a last lease running out.
//! - `operators`: a poison task shows in ListCases and GetCase; RetryTask and CancelTask.
//! - `races`: workers racing for tasks; one completion sent many times at once.
//! - `in_process`: the server's own workers run the built-in activities.
//! - `remote`: a remote worker over loopback gRPC serves an activity type; wake-ups across
//!   processes sharing one PostgreSQL.
//! - `bad_input`: every invalid worker or operator request is refused, naming the field.
//! - `task_policy`: each activity type's queue and retry policy from the task policy file.
//! - `stuck`: what a case waits on and why, tasks nobody polls for, schedule_to_start_timeout,
//!   ListWorkers and `aijia worker list`.
//! - `crash`: SIGKILL the server while remote workers complete tasks; nothing is lost and
//!   each result is applied exactly once.

mod bad_input;
mod crash;
mod in_process;
mod lifecycle;
mod operators;
mod races;
mod remote;
mod retries;
mod stuck;
pub(crate) mod support;
mod task_policy;
