//! `send_message`: a message to the customer, an executor, a partner or the case's owner,
//! through the channel configured for that recipient.

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Delivered, clean_items, deliver, one_of};
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::target;
use crate::error::ActivityError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessageInput {
    /// `customer`, `executor`, `partner` or `owner`: also the delivery's target.
    pub to: String,
    #[serde(default)]
    pub text: String,
    /// Named things the message is about (e.g. the materials forwarded).
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SendMessage {
    adapters: Adapters,
}

impl SendMessage {
    pub fn new(adapters: Adapters) -> Self {
        SendMessage { adapters }
    }
}

impl Activity for SendMessage {
    const NAME: &'static str = activity::SEND_MESSAGE;
    type Input = SendMessageInput;
    type Output = Delivered;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: SendMessageInput,
    ) -> Result<Delivered, ActivityError> {
        let to = one_of("to", &input.to, &target::RECIPIENTS)?;
        let text = input.text.trim();
        let items = clean_items(input.items);
        if text.is_empty() && items.is_empty() {
            return Err(ActivityError::bad_input(
                "a message needs a text or items to send",
            ));
        }
        let payload = json!({ "to": to, "text": text, "items": items });
        let receipt = deliver(&self.adapters, ctx, &to, Self::NAME, payload).await?;
        Ok(Delivered {
            target: to,
            receipt,
        })
    }
}
