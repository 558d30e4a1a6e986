//! Activities: the side effects that case transitions ask for, run at least once by the
//! engine's in-process workers or by remote workers.
//!
//! A transition enqueues an activity task (name, JSON input, idempotency key) in the outbox;
//! the engine claims it, builds an [`ActivityContext`] and calls [`Registry::run`]. The
//! output becomes the task's result; an [`ActivityError`] goes to [`RetryPolicy::next_retry`]
//! to decide whether and when to try again.
//!
//! - [`activity`]: the [`Activity`] trait (stable `NAME`, serde input and output) and the
//!   [`ActivityContext`] of a run.
//! - [`error`]: [`ActivityError`], retryable or not, with stable [`codes`].
//! - [`registry`]: activities by name, type-erased to JSON; [`Registry::builtin`].
//! - [`builtin`]: the six built-in activities, one file each.
//! - [`delivery`]: [`Delivery`], [`Receipt`] and the [`Adapter`] trait every channel and
//!   endpoint implements, with the built-in [`target`] names.
//! - [`adapters`]: [`Adapters`] (which adapter serves which target), the [`RecordAdapter`]
//!   (the default: records, sends nothing) and the [`WebhookAdapter`] (signed HTTP POST).
//! - [`signature`]: the webhook signature scheme, [`sign`] and [`verify_signature`] for
//!   receivers.
//! - [`config`]: the adapters file, [`AdaptersConfig::parse`] and [`AdaptersConfig::build`].
//! - [`retry`]: [`RetryPolicy`] and its pure [`RetryPolicy::next_retry`].
//! - [`task_policy`]: the task policy file ([`TaskPolicy`]): each activity type's queue and
//!   retry policy.
//! - [`duration`]: the `5s` / `250ms` form durations are written in.

pub mod activity;
pub mod adapters;
pub mod builtin;
pub mod config;
pub mod delivery;
pub mod duration;
pub mod error;
pub mod registry;
pub mod retry;
pub mod signature;
pub mod task_policy;

pub use activity::{Activity, ActivityContext};
pub use adapters::{Adapters, RecordAdapter, WebhookAdapter, WebhookSetupError};
pub use config::{AdaptersConfig, ConfigError, TargetConfig};
pub use delivery::{Adapter, Delivery, Receipt, target};
pub use error::{ActivityError, ErrorKind, codes};
pub use registry::Registry;
pub use retry::{GiveUpReason, InvalidRetryPolicy, RetryDecision, RetryPolicy};
pub use signature::{SignatureError, sign, verify_signature};
pub use task_policy::{TaskOptions, TaskPolicy, TaskPolicyError};
