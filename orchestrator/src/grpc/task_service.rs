//! `aijia.v1.TaskService`: operators list tasks, retry failed ones and cancel unfinished ones.

use aijia_proto::v1 as pb;
use aijia_proto::v1::task_service_server::TaskService;
use tonic::{Request, Response, Status};

use super::convert;
use super::idempotency::request_id;
use super::task_convert as tc;
use crate::engine::{Engine, TaskAction};
use crate::store::TaskFilter;

#[derive(Debug, Clone)]
pub struct TaskApi {
    engine: Engine,
}

impl TaskApi {
    pub fn new(engine: Engine) -> Self {
        TaskApi { engine }
    }
}

fn action(action: &TaskAction) -> (Option<pb::Task>, Option<pb::CaseChange>) {
    (
        Some(tc::task(&action.task)),
        Some(convert::change(&action.change)),
    )
}

#[tonic::async_trait]
impl TaskService for TaskApi {
    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size("page_size", req.page_size, 50, 500)?;
        let before_id = convert::page_token(&req.page_token, |token| {
            token.parse::<i64>().ok().filter(|id| *id > 0)
        })?;
        let filter = TaskFilter {
            state: tc::state(&req.state)?,
            activity: convert::filter("activity", &req.activity)?,
            case_id: match req.case_id.trim() {
                "" => None,
                id => Some(convert::case_id(id)?.0),
            },
            before_id,
            // One more than asked tells whether another page follows.
            limit: limit + 1,
        };
        let mut tasks = self.engine.list_tasks(&filter).await?;
        let next_page_token = convert::page(&mut tasks, limit, |t| t.id.to_string());
        Ok(Response::new(pb::ListTasksResponse {
            tasks: tasks.iter().map(tc::task).collect(),
            next_page_token,
        }))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::GetTaskResponse>, Status> {
        let task_id = tc::task_id("task_id", request.get_ref().task_id)?;
        let task = self.engine.get_task(task_id).await?;
        let wait = self.engine.task_waits(vec![task]).await?.remove(0);
        Ok(Response::new(pb::GetTaskResponse {
            task: Some(pb::Task {
                why: wait.why.clone(),
                ..tc::task(&wait.task)
            }),
        }))
    }

    async fn retry_task(
        &self,
        request: Request<pb::RetryTaskRequest>,
    ) -> Result<Response<pb::RetryTaskResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let task_id = tc::task_id("task_id", req.task_id)?;
        let actor = convert::actor(req.actor.as_ref())?;
        let done = self.engine.retry_task(request_id, task_id, actor).await?;
        let (task, change) = action(&done);
        Ok(Response::new(pb::RetryTaskResponse { task, change }))
    }

    async fn cancel_task(
        &self,
        request: Request<pb::CancelTaskRequest>,
    ) -> Result<Response<pb::CancelTaskResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let task_id = tc::task_id("task_id", req.task_id)?;
        let reason = convert::name("reason", &req.reason)?;
        let actor = convert::actor(req.actor.as_ref())?;
        let done = self
            .engine
            .cancel_task(request_id, task_id, reason, actor)
            .await?;
        let (task, change) = action(&done);
        Ok(Response::new(pb::CancelTaskResponse { task, change }))
    }
}
