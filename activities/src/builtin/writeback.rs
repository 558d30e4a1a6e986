//! `writeback_completion_feedback`: write a case's completion (or the customer's feedback on
//! it) back to the back office, or to the partner the case served.

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Delivered, deliver, one_of};
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::target;
use crate::error::ActivityError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritebackCompletionFeedbackInput {
    /// The completion note or feedback; may be empty (the completion itself is the news).
    #[serde(default)]
    pub text: String,
    /// `backoffice` (when left out) or `partner`.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WritebackCompletionFeedback {
    adapters: Adapters,
}

impl WritebackCompletionFeedback {
    pub fn new(adapters: Adapters) -> Self {
        WritebackCompletionFeedback { adapters }
    }
}

impl Activity for WritebackCompletionFeedback {
    const NAME: &'static str = activity::WRITEBACK_COMPLETION_FEEDBACK;
    type Input = WritebackCompletionFeedbackInput;
    type Output = Delivered;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: WritebackCompletionFeedbackInput,
    ) -> Result<Delivered, ActivityError> {
        let to = match input.to.as_deref() {
            None => target::BACKOFFICE.to_owned(),
            Some(to) => one_of("to", to, &[target::BACKOFFICE, target::PARTNER])?,
        };
        let payload = json!({ "text": input.text.trim() });
        let receipt = deliver(&self.adapters, ctx, &to, Self::NAME, payload).await?;
        Ok(Delivered {
            target: to,
            receipt,
        })
    }
}
