//! `aijia.v1.AutomationService`: action modes, the global pause, policy versions and
//! rollback, risk policy loading, and policy replay. Decode and validate, call the engine,
//! encode.

use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_server::AutomationService;
use aijia_workflows::automation::{ActionType, Mode};
use tonic::{Request, Response, Status};

use super::convert;
use super::idempotency::request_id;
use super::rails_convert as rc;
use super::status::invalid;
use crate::engine::Engine;
use crate::ids::RequestId;

#[derive(Debug, Clone)]
pub struct AutomationApi {
    engine: Engine,
}

impl AutomationApi {
    pub fn new(engine: Engine) -> Self {
        AutomationApi { engine }
    }

    /// PauseAutomation and ResumeAutomation: the same call, one switch apart.
    async fn set_paused(
        &self,
        request_id: RequestId,
        paused: bool,
        actor: Option<&pb::Actor>,
        reason: &str,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let overview = self
            .engine
            .set_paused(
                request_id,
                paused,
                rc::actor(actor)?,
                rc::reason("reason", reason)?,
            )
            .await?;
        Ok(Response::new(rc::overview(&overview)))
    }
}

#[tonic::async_trait]
impl AutomationService for AutomationApi {
    async fn get_automation_policy(
        &self,
        _request: Request<pb::GetAutomationPolicyRequest>,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let overview = self.engine.automation_overview().await?;
        Ok(Response::new(rc::overview(&overview)))
    }

    async fn set_action_mode(
        &self,
        request: Request<pb::SetActionModeRequest>,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let action: ActionType = convert::parse("action_type", &req.action_type)?;
        let mode: Mode = convert::parse("mode", &req.mode)?;
        let actor = rc::actor(req.actor.as_ref())?;
        let reason = rc::reason("reason", &req.reason)?;
        let overview = self
            .engine
            .set_action_mode(request_id, action, mode, actor, reason, req.force)
            .await?;
        Ok(Response::new(rc::overview(&overview)))
    }

    async fn pause_automation(
        &self,
        request: Request<pb::PauseAutomationRequest>,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let req = request.into_inner();
        self.set_paused(request_id(&req)?, true, req.actor.as_ref(), &req.reason)
            .await
    }

    async fn resume_automation(
        &self,
        request: Request<pb::ResumeAutomationRequest>,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let req = request.into_inner();
        self.set_paused(request_id(&req)?, false, req.actor.as_ref(), &req.reason)
            .await
    }

    async fn list_policy_versions(
        &self,
        request: Request<pb::ListPolicyVersionsRequest>,
    ) -> Result<Response<pb::ListPolicyVersionsResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size("page_size", req.page_size, 50, 500)?;
        let before = convert::page_token(&req.page_token, |token| {
            token.parse::<i64>().ok().filter(|v| *v > 0)
        })?;
        let mut versions = self.engine.policy_versions(before, limit + 1).await?;
        let next_page_token = convert::page(&mut versions, limit, |v| v.version.to_string());
        let activations = self.engine.risk_activations(50).await?;
        Ok(Response::new(pb::ListPolicyVersionsResponse {
            versions: versions.iter().map(rc::policy_version).collect(),
            next_page_token,
            risk_activations: activations.iter().map(|a| rc::risk_version(a, 0)).collect(),
        }))
    }

    async fn rollback_policy(
        &self,
        request: Request<pb::RollbackPolicyRequest>,
    ) -> Result<Response<pb::AutomationPolicyResponse>, Status> {
        let req = request.into_inner();
        if req.to_version <= 0 {
            return Err(invalid(
                "to_version",
                "is required: the version to restore (see ListPolicyVersions)",
            ));
        }
        let overview = self
            .engine
            .rollback_policy(
                request_id(&req)?,
                req.to_version,
                rc::actor(req.actor.as_ref())?,
                rc::reason("reason", &req.reason)?,
            )
            .await?;
        Ok(Response::new(rc::overview(&overview)))
    }

    async fn load_risk_policy(
        &self,
        request: Request<pb::LoadRiskPolicyRequest>,
    ) -> Result<Response<pb::LoadRiskPolicyResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let toml = rc::policy_toml(&req.policy_toml)?;
        let actor = rc::actor(req.actor.as_ref())?;
        let reason = rc::reason("reason", &req.reason)?;
        let (activation, policy, changed) = self
            .engine
            .load_risk_policy(request_id, &toml, actor, reason)
            .await?;
        Ok(Response::new(pb::LoadRiskPolicyResponse {
            risk_policy: Some(rc::risk_version(&activation, policy.rule_ids().count())),
            changed,
        }))
    }

    async fn replay_policy(
        &self,
        request: Request<pb::ReplayPolicyRequest>,
    ) -> Result<Response<pb::ReplayPolicyResponse>, Status> {
        let req = request.into_inner();
        let from = convert::time("from", req.from.as_ref())?;
        let to = convert::time("to", req.to.as_ref())?;
        if to <= from {
            return Err(invalid("to", "must be after from"));
        }
        let risk = convert::filter("risk_policy_version", &req.risk_policy_version)?;
        let automation = match req.automation_policy_version {
            0 => None,
            v if v < 0 => return Err(invalid("automation_policy_version", "must be positive")),
            v => Some(v),
        };
        let report = self
            .engine
            .replay_policy(from, to, risk, automation)
            .await?;
        Ok(Response::new(rc::replay(&report)))
    }
}
