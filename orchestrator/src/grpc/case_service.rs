//! `aijia.v1.CaseService`: decode and validate, call the engine, encode.

use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_server::CaseService;
use aijia_workflows::{CaseState, Event, Party, WorkflowType};
use tonic::{Request, Response, Status};

use super::convert;
use super::idempotency::request_id;
use super::status::invalid;
use crate::engine::{Engine, SignalRequest};
use crate::store::CaseFilter;

#[derive(Debug, Clone)]
pub struct CaseApi {
    engine: Engine,
}

impl CaseApi {
    pub fn new(engine: Engine) -> Self {
        CaseApi { engine }
    }
}

#[tonic::async_trait]
impl CaseService for CaseApi {
    async fn start_case(
        &self,
        request: Request<pb::StartCaseRequest>,
    ) -> Result<Response<pb::StartCaseResponse>, Status> {
        let req = request.into_inner();
        // The request is validated (and its lists capped) before it is hashed for its
        // fingerprint, so an oversized request costs no more than its refusal.
        let new = convert::new_case(&req)?;
        let actor = convert::actor(req.actor.as_ref())?;
        let request_id = request_id(&req)?;
        let (change, created) = self.engine.start_case(request_id, new, actor).await?;
        Ok(Response::new(pb::StartCaseResponse {
            case: Some(convert::case(&change.view)),
            created,
            duplicate: change.duplicate,
        }))
    }

    async fn signal_case(
        &self,
        request: Request<pb::SignalCaseRequest>,
    ) -> Result<Response<pb::SignalCaseResponse>, Status> {
        let req = request.into_inner();
        // Fields are evaluated in order: the request is validated before it is hashed.
        let signal = SignalRequest {
            case_id: convert::case_id(&req.case_id)?,
            actor: convert::actor(req.actor.as_ref())?,
            expected_version: req.expected_version,
            event: convert::event(req.event.as_ref())?,
            request_id: request_id(&req)?,
        };
        let change = self.engine.signal(signal).await?;
        Ok(Response::new(pb::SignalCaseResponse {
            change: Some(convert::change(&change)),
        }))
    }

    async fn get_case(
        &self,
        request: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        let req = request.into_inner();
        let by_key = !req.workflow_type.trim().is_empty() || !req.business_key.trim().is_empty();
        let view = match (req.case_id.trim().is_empty(), by_key) {
            (false, false) => self.engine.get(convert::case_id(&req.case_id)?).await?,
            (true, true) => {
                let workflow_type: WorkflowType =
                    convert::parse("workflow_type", &req.workflow_type)?;
                let business_key = convert::name("business_key", &req.business_key)?;
                self.engine
                    .get_by_business_key(workflow_type.as_str(), &business_key)
                    .await?
            }
            (false, true) => {
                return Err(invalid(
                    "case_id",
                    "name the case either by case_id or by workflow_type and business_key, not both",
                ));
            }
            (true, false) => {
                return Err(invalid(
                    "case_id",
                    "is required, or else workflow_type and business_key",
                ));
            }
        };
        Ok(Response::new(pb::GetCaseResponse {
            case: Some(convert::case(&view)),
        }))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size("page_size", req.page_size, 50, 500)?;
        let before_id = convert::page_token(&req.page_token, |token| {
            convert::case_id(token).ok().map(|id| id.0)
        })?;
        let waiting_longer_than =
            convert::duration("waiting_longer_than", req.waiting_longer_than.as_ref())?;
        let filter = CaseFilter {
            state: convert::optional::<CaseState>("state", &req.state)?.map(|s| s.to_string()),
            waiting_for: convert::optional::<Party>("waiting_for", &req.waiting_for)?
                .map(|p| p.to_string()),
            workflow_type: convert::optional::<WorkflowType>("workflow_type", &req.workflow_type)?
                .map(|w| w.to_string()),
            owner: convert::filter("owner", &req.owner)?,
            customer_id: convert::filter("customer_id", &req.customer_id)?,
            waiting_since_before: waiting_longer_than.map(|d| self.engine.waiting_since_before(d)),
            before_id,
            needs_operator: req.needs_operator.then_some(true),
            // One more than asked tells whether another page follows.
            limit: limit + 1,
        };
        let mut views = self.engine.list(&filter).await?;
        let next_page_token = convert::page(&mut views, limit, |v| v.id.to_string());
        Ok(Response::new(pb::ListCasesResponse {
            cases: views.iter().map(convert::case).collect(),
            next_page_token,
        }))
    }

    async fn get_case_history(
        &self,
        request: Request<pb::GetCaseHistoryRequest>,
    ) -> Result<Response<pb::GetCaseHistoryResponse>, Status> {
        let req = request.into_inner();
        let case_id = convert::case_id(&req.case_id)?;
        let limit = convert::page_size("page_size", req.page_size, 100, 1000)?;
        let after = convert::page_token(&req.page_token, |token| {
            token.parse::<i64>().ok().filter(|n| *n >= 0)
        })?
        .unwrap_or(0);
        let mut events = self.engine.history(case_id, after, limit + 1).await?;
        let next_page_token = convert::page(&mut events, limit, |e| e.seq.to_string());
        Ok(Response::new(pb::GetCaseHistoryResponse {
            events: events.iter().map(convert::history_event).collect(),
            next_page_token,
        }))
    }

    async fn cancel_case(
        &self,
        request: Request<pb::CancelCaseRequest>,
    ) -> Result<Response<pb::CancelCaseResponse>, Status> {
        let req = request.into_inner();
        let signal = SignalRequest {
            request_id: request_id(&req)?,
            case_id: convert::case_id(&req.case_id)?,
            actor: convert::actor(req.actor.as_ref())?,
            expected_version: None,
            event: Event::Cancel {
                reason: convert::name("reason", &req.reason)?,
            },
        };
        let change = self.engine.signal(signal).await?;
        Ok(Response::new(pb::CancelCaseResponse {
            change: Some(convert::change(&change)),
        }))
    }

    async fn replay_case(
        &self,
        request: Request<pb::ReplayCaseRequest>,
    ) -> Result<Response<pb::ReplayCaseResponse>, Status> {
        let case_id = convert::case_id(&request.get_ref().case_id)?;
        let outcome = self.engine.replay(case_id).await?;
        Ok(Response::new(convert::replay(&outcome)))
    }
}
