//! Identity before context, engine side: record identity checks as case events, keep
//! customers' private context, and hand it out only for a case whose customer's identity is
//! confirmed. A refused read is recorded in the case's history before it is answered.

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
    /// when none is stored). Before that, the refusal is applied to the case as
    /// `context_access_refused` (under `request_id`, or a fresh one) and then returned.
    #[instrument(skip_all, fields(case_id = %case_id))]
    pub async fn customer_context(
        &self,
        case_id: CaseId,
        actor: Actor,
        purpose: String,
        request_id: Option<RequestId>,
    ) -> Result<Option<CustomerContext>, RailsError> {
        let case = self.get(case_id).await?.case;
        let identity = case.customer.identity;
        if identity == IdentityStatus::Confirmed {
            return Ok(self
                .store
                .customer_context(&case.customer.id)
                .await
                .map_err(EngineError::from)?);
        }
        let request_id = match request_id {
            Some(id) => id,
            None => RequestId::parse(&format!("context-refused:{}", uuid::Uuid::now_v7()))
                .map_err(|e| RailsError::invalid("request_id", e))?,
        };
        warn!(customer_id = %case.customer.id, %identity, actor = %actor.id, "private context refused before identity was confirmed");
        let change = self
            .signal(SignalRequest {
                request_id,
                case_id,
                actor,
                expected_version: None,
                event: Event::ContextAccessRefused { identity, purpose },
            })
            .await?;
        Err(RailsError::IdentityNotConfirmed {
            status: identity,
            seq: change.event_seq,
        })
    }
}
