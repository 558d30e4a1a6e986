//! `aijia.v1.IdentityService`: identity checks, and customers' private context only after
//! identity is confirmed. Decode and validate, call the engine, encode.

use aijia_proto::v1 as pb;
use aijia_proto::v1::identity_service_server::IdentityService;
use aijia_workflows::IdentityStatus;
use aijia_workflows::review::IdentityMethod;
use tonic::{Request, Response, Status};

use super::convert::{self, timestamp};
use super::idempotency::request_id;
use super::rails_convert as rc;
use super::status::invalid;
use crate::engine::Engine;

#[derive(Debug, Clone)]
pub struct IdentityApi {
    engine: Engine,
}

impl IdentityApi {
    pub fn new(engine: Engine) -> Self {
        IdentityApi { engine }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn confirm_identity(
        &self,
        request: Request<pb::ConfirmIdentityRequest>,
    ) -> Result<Response<pb::ConfirmIdentityResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let case_id = convert::case_id(&req.case_id)?;
        let status = convert::optional::<IdentityStatus>("status", &req.status)?
            .unwrap_or(IdentityStatus::Confirmed);
        if status == IdentityStatus::Unknown {
            return Err(invalid("status", "record claimed, confirmed or failed"));
        }
        let method = convert::optional::<IdentityMethod>("method", &req.method)?;
        let evidence = convert::text("evidence", req.evidence.trim())?;
        if status == IdentityStatus::Confirmed {
            if method.is_none() {
                return Err(invalid(
                    "method",
                    "is required to confirm: order_number_match, phone_match, email_code or back_office_match",
                ));
            }
            if evidence.is_empty() {
                return Err(invalid("evidence", "is required to confirm: what matched"));
            }
        }
        let actor = rc::actor(req.actor.as_ref())?;
        let change = self
            .engine
            .record_identity(request_id, case_id, status, method, evidence, actor)
            .await?;
        Ok(Response::new(pb::ConfirmIdentityResponse {
            change: Some(convert::change(&change)),
        }))
    }

    async fn put_customer_context(
        &self,
        request: Request<pb::PutCustomerContextRequest>,
    ) -> Result<Response<pb::PutCustomerContextResponse>, Status> {
        let req = request.into_inner();
        let customer_id = convert::name("customer_id", &req.customer_id)?;
        let context = rc::context_json(&req.context_json)?;
        let actor = rc::actor(req.actor.as_ref())?;
        let stored = self
            .engine
            .put_customer_context(customer_id, context, &actor)
            .await?;
        Ok(Response::new(pb::PutCustomerContextResponse {
            updated_at: Some(timestamp(stored.updated_at)),
        }))
    }

    async fn get_customer_context(
        &self,
        request: Request<pb::GetCustomerContextRequest>,
    ) -> Result<Response<pb::GetCustomerContextResponse>, Status> {
        let req = request.into_inner();
        let case_id = convert::case_id(&req.case_id)?;
        let actor = rc::actor(req.actor.as_ref())?;
        let purpose = convert::text("purpose", req.purpose.trim())?;
        let request_id = match req.request_id.trim() {
            "" => None,
            _ => Some(request_id(&req)?),
        };
        let task_id = match req.task_id {
            0 => None,
            id if id > 0 => Some(id),
            id => {
                return Err(Status::invalid_argument(format!(
                    "task_id must be a task's id (positive) or 0 for none, not {id}"
                )));
            }
        };
        let (found, recorded_seq) = self
            .engine
            .customer_context(case_id, actor, purpose, request_id, task_id)
            .await?;
        Ok(Response::new(match found {
            Some(c) => pb::GetCustomerContextResponse {
                customer_id: c.customer_id,
                found: true,
                context_json: c.context.to_string(),
                updated_by: c.updated_by,
                updated_at: Some(timestamp(c.updated_at)),
                recorded_seq,
            },
            None => pb::GetCustomerContextResponse {
                recorded_seq,
                ..Default::default()
            },
        }))
    }
}
