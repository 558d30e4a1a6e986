//! `confirm_material_received`: tell the customer that every requested material arrived.

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Delivered, clean_items, deliver, one_of};
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::target;
use crate::error::ActivityError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmMaterialReceivedInput {
    /// The materials received (the checklist's names).
    #[serde(default)]
    pub items: Vec<String>,
    /// Who is told; the customer when left out.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConfirmMaterialReceived {
    adapters: Adapters,
}

impl ConfirmMaterialReceived {
    pub fn new(adapters: Adapters) -> Self {
        ConfirmMaterialReceived { adapters }
    }
}

impl Activity for ConfirmMaterialReceived {
    const NAME: &'static str = activity::CONFIRM_MATERIAL_RECEIVED;
    type Input = ConfirmMaterialReceivedInput;
    type Output = Delivered;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: ConfirmMaterialReceivedInput,
    ) -> Result<Delivered, ActivityError> {
        let to = match input.to.as_deref() {
            None => target::CUSTOMER.to_owned(),
            Some(to) => one_of("to", to, &target::RECIPIENTS)?,
        };
        let payload = json!({ "items": clean_items(input.items) });
        let receipt = deliver(&self.adapters, ctx, &to, Self::NAME, payload).await?;
        Ok(Delivered {
            target: to,
            receipt,
        })
    }
}
