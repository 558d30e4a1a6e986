//! A test worker speaking WorkerService, task listing through TaskService, and a case that has
//! just enqueued one task.

use std::future::Future;
use std::time::Duration;

use aijia_orchestrator::server::ServerConfig;
use aijia_proto::v1 as pb;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, automate_templated_activities, spawn_app_with};
use serde_json::Value;
use tonic::Status;
use tonic::transport::Channel;

/// The activity a material collection case enqueues once its last material arrives.
pub const CONFIRM: &str = "confirm_material_received";

pub fn secs(s: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: s,
        nanos: 0,
    }
}

/// The server for a test of activity tasks (see [`spawn_app_with`]), with every templated
/// action type in `auto`, so the activities the state machines emit are enqueued at once.
pub async fn spawn(db: &TestDb) -> TestApp {
    spawn_with(db, |_| {}).await
}

pub async fn spawn_with(db: &TestDb, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let app = spawn_app_with(db, configure).await;
    automate_templated_activities(app.channel.clone()).await;
    app
}

/// A worker that the test drives by hand.
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    client: WorkerServiceClient<Channel>,
}

impl Worker {
    pub fn new(channel: Channel, id: &str) -> Worker {
        Worker {
            id: id.to_owned(),
            client: WorkerServiceClient::new(channel),
        }
    }

    pub async fn try_poll(
        &self,
        activity: &str,
        wait: Duration,
        lease_secs: i64,
    ) -> Result<Option<pb::PollActivityTaskResponse>, Status> {
        self.try_poll_queue("", activity, wait, lease_secs).await
    }

    /// Polls `queue` (empty: the default queue).
    pub async fn try_poll_queue(
        &self,
        queue: &str,
        activity: &str,
        wait: Duration,
        lease_secs: i64,
    ) -> Result<Option<pb::PollActivityTaskResponse>, Status> {
        let resp = self
            .client
            .clone()
            .poll_activity_task(pb::PollActivityTaskRequest {
                worker_id: self.id.clone(),
                task_queue: queue.to_owned(),
                activity_types: vec![activity.to_owned()],
                wait: Some(prost_types::Duration {
                    seconds: wait.as_secs() as i64,
                    nanos: wait.subsec_nanos() as i32,
                }),
                lease: Some(secs(lease_secs)),
            })
            .await?
            .into_inner();
        Ok((!resp.task_token.is_empty()).then_some(resp))
    }

    /// A task now, or none (no waiting), with a 10 s lease.
    pub async fn poll_now(&self, activity: &str) -> Option<pb::PollActivityTaskResponse> {
        self.try_poll(activity, Duration::ZERO, 10)
            .await
            .expect("PollActivityTask")
    }

    /// A task now, which must be there.
    pub async fn take(&self, activity: &str) -> pb::PollActivityTaskResponse {
        self.poll_now(activity)
            .await
            .unwrap_or_else(|| panic!("{} expected a {activity} task to be runnable", self.id))
    }

    pub async fn try_complete(
        &self,
        token: &str,
        output: &Value,
    ) -> Result<pb::CompleteActivityTaskResponse, Status> {
        Ok(self
            .client
            .clone()
            .complete_activity_task(pb::CompleteActivityTaskRequest {
                task_token: token.to_owned(),
                output_json: output.to_string(),
            })
            .await?
            .into_inner())
    }

    pub async fn complete(&self, token: &str, output: &Value) -> pb::CompleteActivityTaskResponse {
        self.try_complete(token, output)
            .await
            .expect("CompleteActivityTask")
    }

    pub async fn try_fail(
        &self,
        token: &str,
        retryable: bool,
        code: &str,
        message: &str,
    ) -> Result<pb::FailActivityTaskResponse, Status> {
        Ok(self
            .client
            .clone()
            .fail_activity_task(pb::FailActivityTaskRequest {
                task_token: token.to_owned(),
                retryable,
                code: code.to_owned(),
                message: message.to_owned(),
                details_json: r#"{"status": 503}"#.to_owned(),
            })
            .await?
            .into_inner())
    }

    pub async fn fail(
        &self,
        token: &str,
        retryable: bool,
        code: &str,
        message: &str,
    ) -> pb::FailActivityTaskResponse {
        self.try_fail(token, retryable, code, message)
            .await
            .expect("FailActivityTask")
    }

    pub async fn heartbeat(&self, token: &str) -> pb::HeartbeatActivityTaskResponse {
        self.client
            .clone()
            .heartbeat_activity_task(pb::HeartbeatActivityTaskRequest {
                task_token: token.to_owned(),
                details_json: r#"{"progress": 1}"#.to_owned(),
                lease: Some(secs(10)),
            })
            .await
            .expect("HeartbeatActivityTask")
            .into_inner()
    }
}

/// The operator's TaskService.
pub fn tasks_client(app: &TestApp) -> TaskServiceClient<Channel> {
    TaskServiceClient::new(app.channel.clone())
}

/// Every task of a case, newest first.
pub async fn tasks_of(app: &TestApp, case_id: &str) -> Vec<pb::Task> {
    tasks_client(app)
        .list_tasks(pb::ListTasksRequest {
            case_id: case_id.to_owned(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("ListTasks")
        .into_inner()
        .tasks
}

/// The one task of a case.
pub async fn only_task(app: &TestApp, case_id: &str) -> pb::Task {
    let mut tasks = tasks_of(app, case_id).await;
    assert_eq!(tasks.len(), 1, "expected one task: {tasks:#?}");
    tasks.remove(0)
}

/// A material collection case whose last material just arrived: it is `received` and has
/// enqueued one `confirm_material_received` task.
pub async fn case_with_task(app: &TestApp) -> (pb::Case, pb::Task) {
    let case = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    let change = app
        .send(&case.id, ev::material_provided(&["invoice"], ""))
        .await;
    let case = change.case.expect("a change carries its case");
    assert_eq!(case.state, "received");
    let task = only_task(app, &case.id).await;
    assert_eq!(task.activity, CONFIRM);
    assert_eq!(task.state, "pending");
    (case, task)
}

/// The `activity_completed` events of a case's history, as (seq, payload).
pub async fn completions(app: &TestApp, case_id: &str) -> Vec<(i64, Value)> {
    events_of(app, case_id, "activity_completed").await
}

pub async fn events_of(app: &TestApp, case_id: &str, kind: &str) -> Vec<(i64, Value)> {
    app.history(case_id)
        .await
        .into_iter()
        .filter(|e| e.event_type == kind)
        .map(|e| {
            let payload = serde_json::from_str(&e.payload_json).expect("payload is JSON");
            (e.seq, payload)
        })
        .collect()
}

/// Waits (polling every 20 ms) until `check` gives `Some`, at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
