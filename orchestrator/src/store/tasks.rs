//! Activity tasks as a queue: the outbox rows that transitions write, claimed by workers with
//! leases, retried per their own [`RetryPolicy`], and settled by a case event in the same
//! commit (see [`TaskUpdate`]).
//!
//! A task's `claims` counts every claim it ever had and is the fence that a task token
//! carries: a worker's answer counts only while the task is still at the claim it was given.
//! `attempts` counts the attempts of the current round for the retry policy (an operator's
//! retry starts a new round).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aijia_activities::RetryPolicy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use uuid::Uuid;

use super::columns::Columns;
use super::{Applied, Commit, Store, StoreError, StoredCase};

/// The PostgreSQL channel a commit notifies when it makes tasks runnable.
pub const TASKS_CHANNEL: &str = "aijia_tasks";

/// The queue tasks go to unless said otherwise.
pub use aijia_activities::task_policy::DEFAULT_QUEUE;

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting to be claimed once `run_at` has come.
    Pending,
    /// Claimed by a worker until its lease runs out.
    Running,
    Completed,
    /// Failed for good: its case needs an operator.
    Failed,
    Cancelled,
}

impl TaskState {
    pub const ALL: [TaskState; 5] = [
        TaskState::Pending,
        TaskState::Running,
        TaskState::Completed,
        TaskState::Failed,
        TaskState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Completed => "completed",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<TaskState, String> {
        TaskState::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = TaskState::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown task state {}; expected one of: {}",
                    aijia_workflows::bounds::echo(text),
                    names.join(", ")
                )
            })
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an attempt failed, as kept in `last_error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub retryable: bool,
    #[serde(default)]
    pub details: Value,
    /// The attempt that failed.
    #[serde(default)]
    pub attempt: u32,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// One task row.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: i64,
    pub case_id: Uuid,
    pub activity: String,
    pub task_queue: String,
    pub input: Value,
    pub idempotency_key: String,
    pub state: TaskState,
    pub attempts: u32,
    pub claims: i64,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub retry_policy: RetryPolicy,
    pub last_error: Option<TaskError>,
    pub heartbeat_details: Option<Value>,
    pub result: Option<Value>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// What a task settlement (a commit's [`TaskUpdate`]) does to the task row.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskChange {
    /// The worker's result: the task is completed.
    Completed { result: Value },
    /// Failed for good.
    Failed { error: TaskError },
    /// An operator's retry: pending again now, a new round of attempts.
    Retried,
    /// An operator's cancel.
    Cancelled,
}

impl TaskChange {
    pub fn new_state(&self) -> TaskState {
        match self {
            TaskChange::Completed { .. } => TaskState::Completed,
            TaskChange::Failed { .. } => TaskState::Failed,
            TaskChange::Retried => TaskState::Pending,
            TaskChange::Cancelled => TaskState::Cancelled,
        }
    }
}

/// A task a commit settles, fenced: the commit (case row included) happens only if the task is
/// still at claim `claims` and in one of `states`; otherwise it is a version conflict, and the
/// engine reads again.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    pub task_id: i64,
    pub claims: i64,
    pub states: Vec<TaskState>,
    pub change: TaskChange,
}

/// The task update as one JSON parameter of the PostgreSQL commit statement.
#[derive(Serialize)]
struct TaskUpdateParam<'a> {
    task_id: i64,
    claims: i64,
    states: Vec<&'static str>,
    state: &'static str,
    /// Back to pending with a new round of attempts.
    reset: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a TaskError>,
}

impl TaskUpdate {
    /// The JSON the PostgreSQL commit statement reads the update from.
    pub(super) fn param(&self) -> Value {
        let param = TaskUpdateParam {
            task_id: self.task_id,
            claims: self.claims,
            states: self.states.iter().map(|s| s.as_str()).collect(),
            state: self.change.new_state().as_str(),
            reset: matches!(self.change, TaskChange::Retried),
            result: match &self.change {
                TaskChange::Completed { result } => Some(result),
                _ => None,
            },
            error: match &self.change {
                TaskChange::Failed { error } => Some(error),
                _ => None,
            },
        };
        serde_json::to_value(param).unwrap_or_default()
    }
}

impl Commit {
    /// Settle `update` in this commit, atomically with the case.
    pub fn with_task_update(mut self, update: TaskUpdate) -> Commit {
        self.task_update = Some(update);
        self
    }

    /// Whether the case needs an operator after this commit (kept in `cases.needs_operator`).
    pub fn needs_operator(&self) -> bool {
        !self.case.attention.is_empty()
    }
}

/// What a claim asks for.
#[derive(Debug, Clone)]
pub struct ClaimSpec {
    pub worker_id: String,
    pub task_queue: String,
    pub activities: Vec<String>,
    pub limit: u32,
}

/// A task, its case and what `request_id` already produced on that case, in one read.
#[derive(Debug, Clone)]
pub struct TaskSnapshot {
    pub task: Option<TaskRow>,
    pub case: Option<StoredCase>,
    pub prior: Option<Applied>,
}

/// Filters of `ListTasks`; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub state: Option<TaskState>,
    pub activity: Option<String>,
    pub case_id: Option<Uuid>,
    /// Only tasks with an id below this one (the page cursor).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Wakes the workers of this process when tasks may have become runnable: after a local commit
/// that enqueued tasks, and (on PostgreSQL) when another process's commit notifies
/// [`TASKS_CHANNEL`] with the activity types it enqueued. Waiters wait for their own activity
/// types only, so a commit wakes the workers that can run what it enqueued and no others.
/// A waiter arms its [`Watch`] before it looks for work, so that a wake between the look and
/// the wait is not lost.
#[derive(Debug, Clone, Default)]
pub struct TaskWake(Arc<Wakes>);

#[derive(Debug, Default)]
struct Wakes {
    /// Wakes every waiter (an operator's retry, a lost notification connection).
    all: Arc<Notify>,
    by_type: Mutex<HashMap<String, Arc<Notify>>>,
}

impl TaskWake {
    /// Wakes every waiter, whatever it waits for.
    pub fn notify_all(&self) {
        self.0.all.notify_waiters();
    }

    /// Wakes the waiters for these activity types.
    pub fn notify<'a>(&self, activities: impl IntoIterator<Item = &'a str>) {
        let by_type = self.0.by_type.lock().unwrap_or_else(|p| p.into_inner());
        for activity in activities {
            if let Some(notify) = by_type.get(activity) {
                notify.notify_waiters();
            }
        }
    }

    /// What a waiter for `activities` waits on.
    pub fn watch(&self, activities: &[String]) -> Watch {
        let mut by_type = self.0.by_type.lock().unwrap_or_else(|p| p.into_inner());
        let mut notifies = vec![Arc::clone(&self.0.all)];
        for activity in activities {
            notifies.push(Arc::clone(by_type.entry(activity.clone()).or_default()));
        }
        Watch(notifies)
    }
}

/// The wake-ups one waiter listens to.
#[derive(Debug)]
pub struct Watch(Vec<Arc<Notify>>);

impl Watch {
    /// Starts listening: a wake from now on ends [`Armed::wait`], even one that comes before
    /// the wait starts.
    pub fn arm(&self) -> Armed<'_> {
        let mut waits: Vec<Pin<Box<Notified<'_>>>> =
            self.0.iter().map(|n| Box::pin(n.notified())).collect();
        for wait in &mut waits {
            wait.as_mut().enable();
        }
        Armed(waits)
    }
}

/// An armed [`Watch`].
pub struct Armed<'a>(Vec<Pin<Box<Notified<'a>>>>);

impl Armed<'_> {
    /// Until one of the watched wake-ups comes.
    pub async fn wait(self) {
        futures::future::select_all(self.0).await;
    }
}

impl std::fmt::Debug for Armed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Armed").field(&self.0.len()).finish()
    }
}

impl Store {
    /// The wake-up of this process's workers.
    pub fn task_wake(&self) -> &TaskWake {
        dispatch!(self, s => s.task_wake())
    }

    /// Claims up to `spec.limit` runnable tasks (pending and due, or running with a lease that
    /// ran out and attempts left), leasing them to `spec.worker_id` until `lease_until`. One
    /// statement; safe from any number of processes (SKIP LOCKED on PostgreSQL).
    pub async fn claim_tasks(
        &self,
        spec: &ClaimSpec,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<TaskRow>, StoreError> {
        dispatch!(self, s => s.claim_tasks(spec, now, lease_until).await)
    }

    pub async fn task_snapshot(
        &self,
        task_id: i64,
        request_id: &str,
    ) -> Result<TaskSnapshot, StoreError> {
        dispatch!(self, s => s.task_snapshot(task_id, request_id).await)
    }

    pub async fn get_task(&self, task_id: i64) -> Result<Option<TaskRow>, StoreError> {
        dispatch!(self, s => s.get_task(task_id).await)
    }

    /// Tasks newest first.
    pub async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
        dispatch!(self, s => s.list_tasks(filter).await)
    }

    /// A failed attempt that will be retried: back to pending at `run_at`, its error kept.
    /// False when the task is no longer at claim `claims` and running (nothing written).
    pub async fn retry_task_later(
        &self,
        task_id: i64,
        claims: i64,
        run_at: DateTime<Utc>,
        error: &TaskError,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.retry_task_later(task_id, claims, run_at, error, now).await)
    }

    /// Keeps `error` on a running task still at claim `claims` and holds it until `until`:
    /// its handling failed without an answer and is tried again then. False when the task
    /// moved on (nothing written).
    pub async fn hold_task(
        &self,
        task_id: i64,
        claims: i64,
        error: &TaskError,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.hold_task(task_id, claims, error, until, now).await)
    }

    /// Extends the lease of a running task still at claim `claims`; the new expiry, or `None`
    /// when the task is no longer held by that claim.
    pub async fn heartbeat_task(
        &self,
        task_id: i64,
        claims: i64,
        lease_until: DateTime<Utc>,
        details: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, s => s.heartbeat_task(task_id, claims, lease_until, details, now).await)
    }

    /// Running tasks whose lease ran out with no attempts left: they fail for good.
    pub async fn exhausted_leases(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        dispatch!(self, s => s.exhausted_leases(now, limit).await)
    }

    /// The pending, running and failed tasks of a case, oldest first (at most `limit`).
    pub async fn unfinished_tasks(
        &self,
        case_id: Uuid,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        dispatch!(self, s => s.unfinished_tasks(case_id, limit).await)
    }

    /// Pending tasks of `activity` (in any queue) that came due at or before `due_before` and
    /// are still not started, longest waiting first.
    pub async fn unstarted_tasks(
        &self,
        activity: &str,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        dispatch!(self, s => s.unstarted_tasks(activity, due_before, limit).await)
    }

    /// When the next pending task of these types in this queue comes due.
    pub async fn next_task_at(
        &self,
        task_queue: &str,
        activities: &[String],
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, s => s.next_task_at(task_queue, activities).await)
    }

    /// Deletes up to `limit` completed and cancelled tasks that finished before `before` (their
    /// results live on in their cases' histories); returns how many.
    pub async fn purge_finished_tasks(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.purge_finished_tasks(before, limit).await)
    }

    /// Wakes this process's workers after a commit that made tasks runnable.
    pub(super) fn after_commit(&self, commit: &Commit) {
        if matches!(
            commit.task_update,
            Some(TaskUpdate {
                change: TaskChange::Retried,
                ..
            })
        ) {
            self.task_wake().notify_all();
        } else {
            self.task_wake()
                .notify(commit.tasks.iter().map(|t| t.activity.as_str()));
        }
    }
}

/// A task row: every column of `activity_tasks`.
pub(crate) fn task_row(row: &impl Columns) -> Result<TaskRow, StoreError> {
    let state = row.text("state")?;
    Ok(TaskRow {
        id: row.int("id")?,
        case_id: row.uuid("case_id")?,
        activity: row.text("activity")?,
        task_queue: row.text("task_queue")?,
        input: row.json("input")?,
        idempotency_key: row.text("idempotency_key")?,
        state: TaskState::parse(&state).map_err(|detail| StoreError::Corrupt {
            what: "task state",
            detail,
        })?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(0),
        claims: row.int("claims")?,
        run_at: row.time("run_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        lease_owner: row.opt_text("lease_owner")?,
        lease_expires_at: row.opt_time("lease_expires_at")?,
        retry_policy: row.json("retry_policy")?,
        last_error: row.opt_json("last_error")?,
        heartbeat_details: row.opt_json("heartbeat_details")?,
        result: row.opt_json("result")?,
        completed_at: row.opt_time("completed_at")?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{TaskChange, TaskState, TaskUpdate};

    #[test]
    fn task_states_read_back_and_unknown_ones_are_named() {
        for state in TaskState::ALL {
            assert_eq!(TaskState::parse(state.as_str()), Ok(state));
        }
        let err = TaskState::parse("done").expect_err("not a state");
        assert!(
            err.contains("pending, running, completed, failed, cancelled"),
            "{err}"
        );
    }

    #[test]
    fn the_commit_reads_a_task_update_as_one_json_parameter() {
        let update = TaskUpdate {
            task_id: 7,
            claims: 2,
            states: vec![TaskState::Running, TaskState::Cancelled],
            change: TaskChange::Completed {
                result: json!({"ok": true}),
            },
        };
        assert_eq!(
            update.param(),
            json!({"task_id": 7, "claims": 2, "states": ["running", "cancelled"],
                   "state": "completed", "reset": false, "result": {"ok": true}})
        );
        let retried = TaskUpdate {
            change: TaskChange::Retried,
            states: vec![TaskState::Failed],
            ..update
        };
        assert_eq!(
            retried.param(),
            json!({"task_id": 7, "claims": 2, "states": ["failed"], "state": "pending",
                   "reset": true})
        );
    }
}
