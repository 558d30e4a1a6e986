//! `send_progress_reminder`, in its two uses: a progress report to the customer (`{note}`,
//! from a progress inquiry whose answer came in) or a reminder to the party a case waits for
//! (`{party, what, subject, reminder}`, when a remind timer fires).

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Delivered, deliver, one_of};
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::target;
use crate::error::ActivityError;

/// The parties a reminder can go to. A case waiting for `review` reminds its owner.
const PARTIES: [&str; 5] = ["customer", "executor", "partner", "owner", "review"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendProgressReminderInput {
    /// A progress report to pass on.
    #[serde(default)]
    pub note: Option<String>,
    /// Who is reminded (and the target); the customer when left out.
    #[serde(default)]
    pub party: Option<String>,
    /// What the case waits for.
    #[serde(default)]
    pub what: Option<String>,
    /// The case's subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Which reminder this is, or any detail the caller wants passed through as it is.
    #[serde(default)]
    pub reminder: Value,
}

#[derive(Debug, Clone)]
pub struct SendProgressReminder {
    adapters: Adapters,
}

impl SendProgressReminder {
    pub fn new(adapters: Adapters) -> Self {
        SendProgressReminder { adapters }
    }
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

impl Activity for SendProgressReminder {
    const NAME: &'static str = activity::SEND_PROGRESS_REMINDER;
    type Input = SendProgressReminderInput;
    type Output = Delivered;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: SendProgressReminderInput,
    ) -> Result<Delivered, ActivityError> {
        let party = match input.party.as_deref() {
            None => None,
            Some(party) => Some(one_of("party", party, &PARTIES)?),
        };
        let note = trimmed(input.note);
        if note.is_none() && party.is_none() {
            return Err(ActivityError::bad_input(
                "give a note (a progress report) or a party (whom to remind)",
            ));
        }
        let to = match party.as_deref() {
            None => target::CUSTOMER,
            Some("review") => target::OWNER,
            Some(party) => party,
        }
        .to_owned();
        let mut payload = json!({ "to": to });
        for (field, value) in [
            ("note", note),
            ("party", party),
            ("what", trimmed(input.what)),
            ("subject", trimmed(input.subject)),
        ] {
            if let Some(value) = value {
                payload[field] = Value::String(value);
            }
        }
        if !input.reminder.is_null() {
            payload["reminder"] = input.reminder;
        }
        let receipt = deliver(&self.adapters, ctx, &to, Self::NAME, payload).await?;
        Ok(Delivered {
            target: to,
            receipt,
        })
    }
}
