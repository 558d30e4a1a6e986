//! `aijia task …`: the operator's client for TaskService (list, show, retry, cancel), and the
//! worker flags of `aijia dev|serve`.

use std::path::PathBuf;

use aijia_proto::v1 as pb;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::case::{request_id, rpc_error};
use super::output::{self, print_json, table, time};
use super::{ActorArgs, ClientArgs};
use crate::worker::WorkerConfig;
use aijia_activities::TaskPolicy;

/// How `aijia dev|serve` runs activities.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Tasks run at once per activity type by this server's own workers; 0 leaves every
    /// type to remote workers (WorkerService).
    #[arg(long, env = "AIJIA_WORKER_CONCURRENCY", default_value_t = 4)]
    worker_concurrency: usize,
    /// The adapters file (which channel or endpoint each target goes to, e.g. a signed
    /// webhook); without it every delivery goes to the record adapter and nothing leaves.
    #[arg(long, env = "AIJIA_ADAPTERS")]
    adapters: Option<PathBuf>,
    /// An activity type this server leaves to remote workers (repeatable, or comma-separated
    /// in the variable).
    #[arg(
        long = "remote-activity",
        env = "AIJIA_REMOTE_ACTIVITIES",
        value_delimiter = ','
    )]
    remote_activities: Vec<String>,
    /// The task policy file: each activity type's queue and retry policy (default: the
    /// shipped activities/policy/tasks.toml). A malformed file stops the server at start.
    #[arg(long, env = "AIJIA_TASK_POLICY")]
    task_policy: Option<PathBuf>,
}

impl WorkerArgs {
    pub fn config(&self) -> anyhow::Result<WorkerConfig> {
        let task_policy = match &self.task_policy {
            Some(path) => TaskPolicy::load(path, aijia_workflows::activity::ALL)?,
            None => TaskPolicy::builtin(),
        };
        Ok(WorkerConfig {
            concurrency: self.worker_concurrency,
            adapters_file: self.adapters.clone(),
            remote_only: self
                .remote_activities
                .iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            task_policy,
            ..WorkerConfig::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: TaskCommand,
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// List activity tasks, newest first.
    List {
        /// pending, running, completed, failed or cancelled.
        #[arg(long)]
        state: Option<String>,
        /// An activity type, e.g. send_message.
        #[arg(long)]
        activity: Option<String>,
        /// Only the tasks of this case.
        #[arg(long = "case")]
        case_id: Option<String>,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Show one task with its input, last error and result.
    Get { task_id: i64 },
    /// Send a failed task back to its queue for a new round of attempts.
    Retry {
        task_id: i64,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Cancel a pending, running or failed task.
    Cancel {
        task_id: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
}

pub async fn run(args: TaskArgs) -> anyhow::Result<()> {
    let mut client = TaskServiceClient::new(args.client.connect().await?);
    let json = args.client.json;
    match args.command {
        TaskCommand::List {
            state,
            activity,
            case_id,
            page_size,
            page_token,
        } => {
            let resp = client
                .list_tasks(pb::ListTasksRequest {
                    state: state.unwrap_or_default(),
                    activity: activity.unwrap_or_default(),
                    case_id: case_id.unwrap_or_default(),
                    page_size,
                    page_token,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            list(&resp, json)
        }
        TaskCommand::Get { task_id } => {
            let resp = client
                .get_task(pb::GetTaskRequest { task_id })
                .await
                .map_err(rpc_error)?
                .into_inner();
            task(resp.task.as_ref(), json)
        }
        TaskCommand::Retry {
            task_id,
            request_id: rid,
        } => {
            let resp = client
                .retry_task(pb::RetryTaskRequest {
                    request_id: request_id(rid),
                    task_id,
                    actor: Some(args.acting.actor()),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            action("retried", resp.task.as_ref(), resp.change.as_ref(), json)
        }
        TaskCommand::Cancel {
            task_id,
            reason,
            request_id: rid,
        } => {
            let resp = client
                .cancel_task(pb::CancelTaskRequest {
                    request_id: request_id(rid),
                    task_id,
                    reason,
                    actor: Some(args.acting.actor()),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            action("cancelled", resp.task.as_ref(), resp.change.as_ref(), json)
        }
    }
}

fn parsed(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    }
}

fn task_json(t: &pb::Task) -> Value {
    json!({
        "id": t.id,
        "case_id": t.case_id,
        "activity": t.activity,
        "task_queue": t.task_queue,
        "state": t.state,
        "attempts": t.attempts,
        "input": parsed(&t.input_json),
        "idempotency_key": t.idempotency_key,
        "run_at": time(t.run_at.as_ref()),
        "lease_owner": t.lease_owner,
        "lease_expires_at": time(t.lease_expires_at.as_ref()),
        "retry_policy": parsed(&t.retry_policy_json),
        "last_error": t.last_error.as_ref().map(|e| json!({
            "code": e.code,
            "message": e.message,
            "retryable": e.retryable,
            "details": parsed(&e.details_json),
            "attempt": e.attempt,
            "at": time(e.at.as_ref()),
        })),
        "result": parsed(&t.result_json),
        "created_at": time(t.created_at.as_ref()),
        "updated_at": time(t.updated_at.as_ref()),
        "completed_at": time(t.completed_at.as_ref()),
        "why": t.why,
    })
}

fn last_error(t: &pb::Task) -> String {
    t.last_error
        .as_ref()
        .map(|e| format!("{}: {}", e.code, e.message))
        .unwrap_or_default()
}

fn list(resp: &pb::ListTasksResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "tasks": resp.tasks.iter().map(task_json).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
        }));
    }
    let rows: Vec<Vec<String>> = resp
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.case_id.clone(),
                t.activity.clone(),
                t.state.clone(),
                t.attempts.to_string(),
                time(t.run_at.as_ref()),
                last_error(t),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "CASE",
            "ACTIVITY",
            "STATE",
            "ATTEMPTS",
            "RUN AT",
            "LAST ERROR",
        ],
        &rows,
    );
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    Ok(())
}

fn task(t: Option<&pb::Task>, json: bool) -> anyhow::Result<()> {
    let Some(t) = t else { return Ok(()) };
    if json {
        return print_json(&task_json(t));
    }
    let mut rows = vec![
        ("id", t.id.to_string()),
        ("case", t.case_id.clone()),
        ("activity", t.activity.clone()),
        ("queue", t.task_queue.clone()),
        ("state", t.state.clone()),
        ("attempts", t.attempts.to_string()),
        ("run at", time(t.run_at.as_ref())),
        ("input", t.input_json.clone()),
        ("idempotency", t.idempotency_key.clone()),
    ];
    if !t.lease_owner.is_empty() {
        rows.push((
            "lease",
            format!(
                "{} until {}",
                t.lease_owner,
                time(t.lease_expires_at.as_ref())
            ),
        ));
    }
    if t.last_error.is_some() {
        rows.push(("last error", last_error(t)));
    }
    if !t.why.is_empty() {
        rows.push(("waits", t.why.clone()));
    }
    if !t.result_json.is_empty() {
        rows.push(("result", t.result_json.clone()));
    }
    rows.push(("retry policy", t.retry_policy_json.clone()));
    rows.push(("created", time(t.created_at.as_ref())));
    rows.push(("updated", time(t.updated_at.as_ref())));
    if t.completed_at.is_some() {
        rows.push(("finished", time(t.completed_at.as_ref())));
    }
    for (k, v) in rows {
        outln!("{k:<13} {v}");
    }
    Ok(())
}

fn action(
    what: &str,
    t: Option<&pb::Task>,
    change: Option<&pb::CaseChange>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "task": t.map(task_json),
            "event_seq": change.map(|c| c.event_seq),
            "duplicate": change.is_some_and(|c| c.duplicate),
            "case": change.and_then(|c| c.case.as_ref()).map(output::case_json),
        }));
    }
    let duplicate = change.is_some_and(|c| c.duplicate);
    outln!(
        "task {what}{}",
        if duplicate {
            " (already done: same request id)"
        } else {
            ""
        }
    );
    task(t, false)
}
