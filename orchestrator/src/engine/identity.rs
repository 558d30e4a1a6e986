//! Identity before context, engine side: record identity checks as case events, keep
//! customers' private context, and hand it out only for a case whose customer's identity is
//! confirmed. Every read, granted or refused, is recorded in the case's history before it is
//! answered.

use aijia_workflows::review::IdentityMethod;
use aijia_workflows::{Actor, Event, IdentityStatus};
use tracing::{instrument, warn};

use super::review::RailsError;
use super::{Change, Engine, EngineError, SignalRequest};
use crate::ids::{CaseId, RequestId};
use crate::store::review::CustomerContext;

impl Engine {
    /// Records how far the case's customer identity is established (idempotent per request).
    #[instrument(skip_all, fields(case_id = %case_id, status = %status))]
    pub async fn record_identity(
        &self,
        request_id: RequestId,
        case_id: CaseId,
        status: IdentityStatus,
        method: Option<IdentityMethod>,
        evidence: String,
        actor: Actor,
    ) -> Result<Change, EngineError> {
        self.signal(SignalRequest {
            request_id,
            case_id,
            actor,
            expected_version: None,
            event: Event::IdentityRecorded {
                status,
                method,
                evidence,
            },
        })
        .await
    }

    /// Stores (replaces) a customer's private context.
    pub async fn put_customer_context(
        &self,
        customer_id: String,
        context: serde_json::Value,
        by: &Actor,
    ) -> Result<CustomerContext, EngineError> {
        let context = CustomerContext {
            customer_id,
            context,
            updated_by: format!("{}:{}", by.role, by.id),
            updated_at: self.clock.now(),
        };
        self.store.put_customer_context(&context).await?;
        Ok(context)
    }

    /// The private context of the case's customer, once the identity is confirmed (`None`
    /// when none is stored), with the history seq of the event that records the read. Every
    /// read is recorded before it is answered, under `request_id` (or a fresh one):
    /// `context_access_granted`, or before confirmation `context_access_refused` and then
    /// PERMISSION_DENIED. The machine accepts a grant only while identity is confirmed, so an
    /// identity that changes concurrently cannot slip between the check and the record.
    /// `task_id` names the activity task that asks, which must belong to the case.
    #[instrument(skip_all, fields(case_id = %case_id))]
    pub async fn customer_context(
        &self,
        case_id: CaseId,
        actor: Actor,
        purpose: String,
        request_id: Option<RequestId>,
        task_id: Option<i64>,
    ) -> Result<(Option<CustomerContext>, i64), RailsError> {
        if let Some(task_id) = task_id {
            let task = self
                .store
                .get_task(task_id)
                .await
                .map_err(EngineError::from)?;
            if task.is_none_or(|t| t.case_id != case_id.0) {
                return Err(RailsError::invalid(
                    "task_id",
                    format!("case {case_id} has no task {task_id}"),
                ));
            }
        }
        let request_id = match request_id {
            Some(id) => id,
            None => RequestId::parse(&format!("context-read:{}", uuid::Uuid::now_v7()))
                .map_err(|e| RailsError::invalid("request_id", e))?,
        };
        let (change, _) = self
            .apply_built(case_id, &request_id, &actor, |stored, _now| {
                let identity = stored.case.customer.identity;
                Ok(if identity == IdentityStatus::Confirmed {
                    Event::ContextAccessGranted {
                        purpose: purpose.clone(),
                        task_id,
                    }
                } else {
                    Event::ContextAccessRefused {
                        identity,
                        purpose: purpose.clone(),
                        task_id,
                    }
                })
            })
            .await?;
        // The case as the recorded read left it says which it was (also for a repeated
        // request, which gets its first answer).
        let case = &change.view.case;
        let identity = case.customer.identity;
        if identity != IdentityStatus::Confirmed {
            warn!(customer_id = %case.customer.id, %identity, actor = %actor.id, "private context refused before identity was confirmed");
            return Err(RailsError::IdentityNotConfirmed {
                status: identity,
                seq: change.event_seq,
            });
        }
        let context = self
            .store
            .customer_context(&case.customer.id)
            .await
            .map_err(EngineError::from)?;
        Ok((context, change.event_seq))
    }
}
