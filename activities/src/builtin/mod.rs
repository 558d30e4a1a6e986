//! The built-in activities, one file each, and what they share: each checks its input, builds
//! one [`Delivery`] for its target and hands it to the adapter configured for that target.
//! Every payload carries the `case_id`; every delivery carries the task's idempotency key.
//!
//! | activity | target | input |
//! | --- | --- | --- |
//! | `send_message` | `to` | `{to, text, items}` |
//! | `confirm_material_received` | `customer` (or `to`) | `{items}` |
//! | `send_progress_reminder` | `customer`, or the `party` reminded | `{note}` or `{party, what, subject, reminder}` |
//! | `writeback_completion_feedback` | `backoffice` (or `to`: `partner`) | `{text}` |
//! | `capture_evidence` | `evidence` | `{kind, detail, payload}` |
//! | `verify_authorized` | `backoffice` | `{customer_id, scope, evidence}` |

mod capture_evidence;
mod confirm_material;
mod progress_reminder;
mod send_message;
mod verify_authorized;
mod writeback;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use capture_evidence::{
    CaptureEvidence, CaptureEvidenceInput, CaptureEvidenceOutput, canonical_json, evidence_digest,
};
pub use confirm_material::{ConfirmMaterialReceived, ConfirmMaterialReceivedInput};
pub use progress_reminder::{SendProgressReminder, SendProgressReminderInput};
pub use send_message::{SendMessage, SendMessageInput};
pub use verify_authorized::{VerifyAuthorized, VerifyAuthorizedInput, VerifyAuthorizedOutput};
pub use writeback::{WritebackCompletionFeedback, WritebackCompletionFeedbackInput};

use crate::activity::ActivityContext;
use crate::adapters::Adapters;
use crate::delivery::{Delivery, Receipt};
use crate::error::ActivityError;
use crate::registry::Registry;

/// The output of the activities that only deliver: where it went and the adapter's receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivered {
    pub target: String,
    pub receipt: Receipt,
}

pub(crate) fn register_all(registry: &mut Registry, adapters: Adapters) {
    registry
        .register(SendMessage::new(adapters.clone()))
        .register(ConfirmMaterialReceived::new(adapters.clone()))
        .register(SendProgressReminder::new(adapters.clone()))
        .register(WritebackCompletionFeedback::new(adapters.clone()))
        .register(CaptureEvidence::new(adapters.clone()))
        .register(VerifyAuthorized::new(adapters));
}

/// Build the delivery of activity `kind` to `target` and hand it to the target's adapter.
async fn deliver(
    adapters: &Adapters,
    ctx: &ActivityContext,
    target: &str,
    kind: &str,
    mut payload: Value,
) -> Result<Receipt, ActivityError> {
    if let Value::Object(fields) = &mut payload {
        fields.insert("case_id".into(), Value::String(ctx.case_id.clone()));
    }
    let delivery = Delivery {
        target: target.to_owned(),
        kind: kind.to_owned(),
        payload,
        idempotency_key: ctx.idempotency_key.clone(),
    };
    adapters.deliver(&delivery).await
}

/// Accept `given` only if it is one of `allowed`; the error lists them.
fn one_of(field: &str, given: &str, allowed: &[&str]) -> Result<String, ActivityError> {
    let given = given.trim();
    if allowed.contains(&given) {
        Ok(given.to_owned())
    } else {
        Err(ActivityError::bad_input(format!(
            "{field} {given:?} is not one of: {}",
            allowed.join(", ")
        )))
    }
}

/// Trimmed, non-empty entries.
fn clean_items(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect()
}
