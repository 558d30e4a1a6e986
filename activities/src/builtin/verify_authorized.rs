//! `verify_authorized`: ask the back office whether a customer is authorized (identity
//! confirmed) for a scope. It fails closed: only an explicit `{"authorized": true}` answer
//! succeeds.
//!
//! | the back office answers | the activity |
//! | --- | --- |
//! | 2xx `{"authorized": true}` | succeeds |
//! | 2xx `{"authorized": false, "reason": …}`, or 401 / 403 | non-retryable `not_authorized` |
//! | 2xx without a boolean `authorized` (or the record adapter without a reply) | non-retryable `bad_reply` |
//! | anything else | the adapter's error (5xx, timeouts and network errors retry) |

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::deliver;
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::{Receipt, target};
use crate::error::{ActivityError, codes};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyAuthorizedInput {
    #[serde(alias = "subject")]
    pub customer_id: String,
    /// What the authorization is for (e.g. `private_context`).
    #[serde(default)]
    pub scope: String,
    /// What the customer offered to prove who they are, passed on as it is.
    #[serde(default)]
    pub evidence: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyAuthorizedOutput {
    /// Always true: a refusal is an error.
    pub authorized: bool,
    pub customer_id: String,
    pub scope: String,
    pub receipt: Receipt,
}

#[derive(Debug, Clone)]
pub struct VerifyAuthorized {
    adapters: Adapters,
}

impl VerifyAuthorized {
    pub fn new(adapters: Adapters) -> Self {
        VerifyAuthorized { adapters }
    }
}

impl Activity for VerifyAuthorized {
    const NAME: &'static str = activity::VERIFY_AUTHORIZED;
    type Input = VerifyAuthorizedInput;
    type Output = VerifyAuthorizedOutput;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: VerifyAuthorizedInput,
    ) -> Result<VerifyAuthorizedOutput, ActivityError> {
        let customer_id = input.customer_id.trim().to_owned();
        if customer_id.is_empty() {
            return Err(ActivityError::bad_input(
                "verify_authorized needs a customer_id",
            ));
        }
        let scope = input.scope.trim().to_owned();
        let payload = json!({
            "customer_id": customer_id,
            "scope": scope,
            "evidence": input.evidence,
        });
        let receipt = deliver(&self.adapters, ctx, target::BACKOFFICE, Self::NAME, payload)
            .await
            .map_err(refusal)?;
        match receipt
            .reply
            .as_ref()
            .and_then(|r| r.get("authorized"))
            .and_then(Value::as_bool)
        {
            Some(true) => Ok(VerifyAuthorizedOutput {
                authorized: true,
                customer_id,
                scope,
                receipt,
            }),
            Some(false) => {
                let reason = receipt
                    .reply
                    .as_ref()
                    .and_then(|r| r.get("reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                Err(ActivityError::non_retryable(
                    codes::NOT_AUTHORIZED,
                    format!("the back office did not authorize {customer_id}: {reason}"),
                )
                .with_details(json!({ "reply": receipt.reply })))
            }
            None if receipt.recorded => Err(ActivityError::non_retryable(
                codes::BAD_REPLY,
                "the back office target is served by the record adapter, which cannot \
                 authorize anyone; configure a webhook for `backoffice` (or a record reply)",
            )),
            None => Err(ActivityError::non_retryable(
                codes::BAD_REPLY,
                "the back office answered without a boolean \"authorized\"",
            )
            .with_details(json!({ "status": receipt.status, "body": receipt.body }))),
        }
    }
}

/// A 401 or 403 from the verification endpoint is a refusal, not a broken request.
fn refusal(err: ActivityError) -> ActivityError {
    let status = err.details.get("status").and_then(Value::as_u64);
    if err.code == codes::HTTP_4XX && matches!(status, Some(401 | 403)) {
        ActivityError {
            code: codes::NOT_AUTHORIZED.into(),
            message: format!(
                "the back office refused the authorization ({})",
                err.message
            ),
            ..err
        }
    } else {
        err
    }
}
