//! What an activity hands to the outside world ([`Delivery`]), what comes back ([`Receipt`]),
//! and the one trait every channel and endpoint adapter implements ([`Adapter`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ActivityError;

/// The names of the targets the built-in activities deliver to. Configuration maps each to
/// an adapter; a target with no entry goes to the default adapter.
pub mod target {
    pub const CUSTOMER: &str = "customer";
    pub const EXECUTOR: &str = "executor";
    pub const PARTNER: &str = "partner";
    /// The case's owner (the staff member responsible for it).
    pub const OWNER: &str = "owner";
    /// The back office: completion writeback and authorization checks.
    pub const BACKOFFICE: &str = "backoffice";
    /// Where captured evidence digests are filed.
    pub const EVIDENCE: &str = "evidence";

    /// The recipients `send_message` accepts in its `to` field.
    pub const RECIPIENTS: [&str; 4] = [CUSTOMER, EXECUTOR, PARTNER, OWNER];
}

/// One message or call to the outside world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The channel or endpoint name (see [`target`]); it picks the adapter.
    pub target: String,
    /// What is delivered: the activity's name.
    pub kind: String,
    pub payload: serde_json::Value,
    /// The task's idempotency key: the same for every attempt of one task, so the receiver
    /// can drop duplicates.
    pub idempotency_key: String,
}

/// What an adapter reports after a delivery; the activity returns it as (part of) its output,
/// which the engine stores as the task's result and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The adapter that handled the delivery: `record`, `webhook`, or a custom one's name.
    pub adapter: String,
    pub target: String,
    /// True when nothing left the process (the record adapter).
    #[serde(default)]
    pub recorded: bool,
    /// The receiver's HTTP status, for HTTP adapters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The receiver's answer as text, truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The receiver's answer when it is JSON (whole, not truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<serde_json::Value>,
    /// The delivery itself, kept by the record adapter so the receipt shows what would have
    /// been sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// A channel or endpoint. Implementations map their failures to [`ActivityError`]s that say
/// whether a retry can help.
#[async_trait]
pub trait Adapter: Send + Sync + std::fmt::Debug {
    async fn deliver(&self, delivery: &Delivery) -> Result<Receipt, ActivityError>;
}
