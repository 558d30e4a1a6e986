//! `aijia.v1.WorkerService`: remote workers poll for tasks and report outcomes, and operators
//! list the workers seen recently. Decode and validate, call the engine (the same calls
//! in-process workers make), encode.

use std::time::Duration;

use aijia_activities::{ActivityError, ErrorKind};
use aijia_proto::v1 as pb;
use aijia_proto::v1::worker_service_server::WorkerService;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::convert::{self, timestamp};
use super::task_convert as tc;
use crate::engine::Engine;
use crate::store::ClaimSpec;
use crate::worker::poll::{PollTiming, poll};

/// What a poll answers before the client's own deadline, so that the answer still arrives.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct WorkerApi {
    engine: Engine,
    /// Ends long polls when the server stops.
    shutdown: CancellationToken,
    /// The longest a poll naps without a wake-up.
    poll_interval: Duration,
}

impl WorkerApi {
    pub fn new(engine: Engine, shutdown: CancellationToken, poll_interval: Duration) -> Self {
        WorkerApi {
            engine,
            shutdown,
            poll_interval,
        }
    }
}

#[tonic::async_trait]
impl WorkerService for WorkerApi {
    async fn poll_activity_task(
        &self,
        request: Request<pb::PollActivityTaskRequest>,
    ) -> Result<Response<pb::PollActivityTaskResponse>, Status> {
        let client_timeout = tc::client_timeout(request.metadata());
        let req = request.into_inner();
        let spec = ClaimSpec {
            worker_id: convert::name("worker_id", &req.worker_id)?,
            task_queue: tc::task_queue(&req.task_queue)?,
            activities: tc::activity_types(&req.activity_types)?,
            limit: 1,
        };
        let mut wait = tc::wait(req.wait.as_ref())?;
        if let Some(timeout) = client_timeout {
            wait = wait.min(timeout.saturating_sub(DEADLINE_MARGIN));
        }
        let timing = PollTiming {
            lease: tc::lease(req.lease.as_ref())?,
            wait,
            fallback: self.poll_interval,
        };
        let claimed = poll(&self.engine, &spec, timing, &self.shutdown).await?;
        let Some(claimed) = claimed.into_iter().next() else {
            return Ok(Response::new(pb::PollActivityTaskResponse::default()));
        };
        let task = &claimed.task;
        Ok(Response::new(pb::PollActivityTaskResponse {
            task_token: claimed.token.to_string(),
            task_id: task.id,
            case_id: task.case_id.to_string(),
            activity: task.activity.clone(),
            input_json: serde_json::to_string(&task.input).unwrap_or_default(),
            attempt: task.attempts,
            idempotency_key: task.idempotency_key.clone(),
            lease_expires_at: task.lease_expires_at.map(timestamp),
            heartbeat_details_json: task
                .heartbeat_details
                .as_ref()
                .map(|d| serde_json::to_string(d).unwrap_or_default())
                .unwrap_or_default(),
            task_queue: task.task_queue.clone(),
        }))
    }

    async fn complete_activity_task(
        &self,
        request: Request<pb::CompleteActivityTaskRequest>,
    ) -> Result<Response<pb::CompleteActivityTaskResponse>, Status> {
        let req = request.into_inner();
        let token = tc::token(&req.task_token)?;
        let output = tc::json("output_json", &req.output_json)?;
        let done = self.engine.complete_task(token, output).await?;
        Ok(Response::new(pb::CompleteActivityTaskResponse {
            applied: done.applied,
            duplicate: done.duplicate,
        }))
    }

    async fn fail_activity_task(
        &self,
        request: Request<pb::FailActivityTaskRequest>,
    ) -> Result<Response<pb::FailActivityTaskResponse>, Status> {
        let req = request.into_inner();
        let token = tc::token(&req.task_token)?;
        let kind = if req.retryable {
            ErrorKind::Retryable
        } else {
            ErrorKind::NonRetryable
        };
        let error = ActivityError::new(
            kind,
            convert::name("code", &req.code)?,
            convert::text("message", &req.message)?,
        )
        .with_details(tc::json("details_json", &req.details_json)?);
        let failed = self.engine.fail_task(token, error).await?;
        Ok(Response::new(pb::FailActivityTaskResponse {
            will_retry: failed.will_retry,
            next_attempt_at: failed.next_attempt_at.map(timestamp),
            applied: failed.applied,
        }))
    }

    async fn heartbeat_activity_task(
        &self,
        request: Request<pb::HeartbeatActivityTaskRequest>,
    ) -> Result<Response<pb::HeartbeatActivityTaskResponse>, Status> {
        let req = request.into_inner();
        let token = tc::token(&req.task_token)?;
        let details = tc::optional_json("details_json", &req.details_json)?;
        let lease = tc::lease(req.lease.as_ref())?;
        let beat = self
            .engine
            .heartbeat_task(token, details.as_ref(), lease)
            .await?;
        Ok(Response::new(pb::HeartbeatActivityTaskResponse {
            lease_expires_at: beat.lease_expires_at.map(timestamp),
            cancel_requested: beat.cancel_requested,
        }))
    }

    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let seen_within = tc::seen_within(request.get_ref().seen_within.as_ref())?;
        let workers = self.engine.list_workers(seen_within).await?;
        Ok(Response::new(pb::ListWorkersResponse {
            workers: workers.iter().map(tc::worker).collect(),
        }))
    }
}
