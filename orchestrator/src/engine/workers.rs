//! Workers as operators see them, engine side: the record of polls (throttled per worker),
//! the workers seen recently, and the tasks no worker started in time. No SQL and no gRPC.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use aijia_workflows::{Actor, ActorRole, waits};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tracing::warn;

use super::tasks::FinalFailure;
use super::{Engine, EngineError};
use crate::clock::span;
use crate::ids::RequestId;
use crate::store::{ClaimSpec, Store, StoreError, TaskError, TaskState, WorkerPoll};

/// A worker's polls are written at most this often (per worker, queue and set of types): a
/// long poll claims again every few seconds, and a write per claim would cost more than the
/// claim. Well within [`waits::POLL_GRACE`], so a polling worker never looks absent.
const RECORD_POLL_EVERY: TimeDelta = TimeDelta::seconds(5);

/// The code of the error a task fails with when no worker started it in time.
const SCHEDULE_TO_START_TIMEOUT: &str = "schedule_to_start_timeout";

/// Past this many remembered workers, the ones not recorded lately are forgotten, so that
/// clients inventing worker ids cannot grow the memory without bound.
const REMEMBERED_POLLS: usize = 10_000;

/// A worker, the queue it polls and the types it polls for.
type PollKey = (String, String, Vec<String>);

/// When this process last wrote each worker's polls.
#[derive(Debug, Default)]
pub(super) struct PollRecord(Mutex<HashMap<PollKey, DateTime<Utc>>>);

impl PollRecord {
    /// Whether a poll at `now` is due to be written (and if so, counts it as written).
    fn due(&self, spec: &ClaimSpec, now: DateTime<Utc>) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let key = poll_key(spec);
        if seen
            .get(&key)
            .is_some_and(|at| now - *at < RECORD_POLL_EVERY)
        {
            return false;
        }
        if seen.len() >= REMEMBERED_POLLS {
            seen.retain(|_, at| now - *at < RECORD_POLL_EVERY);
        }
        seen.insert(key, now);
        true
    }

    /// Lets the next poll be written again (its write failed).
    fn forget(&self, spec: &ClaimSpec) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.remove(&poll_key(spec));
    }
}

fn poll_key(spec: &ClaimSpec) -> PollKey {
    (
        spec.worker_id.clone(),
        spec.task_queue.clone(),
        spec.activities.clone(),
    )
}

/// When a worker last polled for each (queue, type) pair, read from the store once per pair:
/// the tasks of one answer or one sweep mostly share a few pairs.
#[derive(Debug, Default)]
pub(super) struct LastPolls(HashMap<(String, String), Option<DateTime<Utc>>>);

impl LastPolls {
    pub(super) async fn of(
        &mut self,
        store: &Store,
        queue: &str,
        activity: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = (queue.to_owned(), activity.to_owned());
        if let Some(at) = self.0.get(&key) {
            return Ok(*at);
        }
        let at = store.last_poll(queue, activity).await?;
        self.0.insert(key, at);
        Ok(at)
    }
}

/// A worker seen recently, over all its queues and types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerView {
    pub worker_id: String,
    /// The server process that saw its last poll.
    pub node: String,
    pub task_queues: BTreeSet<String>,
    pub activities: BTreeSet<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_poll_at: DateTime<Utc>,
}

/// At most this many (worker, queue, type) rows make one ListWorkers answer.
const MAX_WORKER_ROWS: u32 = 5_000;

impl Engine {
    /// Records that a worker polls for `spec`'s types on its queue, unless this process did
    /// so for it within [`RECORD_POLL_EVERY`]. A failed write is logged, not fatal: the poll
    /// itself goes on.
    pub async fn record_poll(&self, spec: &ClaimSpec) {
        let now = self.clock.now();
        if !self.polls.due(spec, now) {
            return;
        }
        let poll = WorkerPoll {
            worker_id: &spec.worker_id,
            task_queue: &spec.task_queue,
            activities: &spec.activities,
            node: &self.node,
            at: now,
        };
        if let Err(err) = self.store.record_poll(poll).await {
            self.polls.forget(spec);
            warn!(error = %err, worker = %spec.worker_id, "recording a worker's poll failed");
        }
    }

    /// The workers that polled within `seen_within`, by id.
    pub async fn list_workers(
        &self,
        seen_within: Duration,
    ) -> Result<Vec<WorkerView>, EngineError> {
        let since = self.clock.now() - span(seen_within);
        let rows = self.store.workers_since(since, MAX_WORKER_ROWS).await?;
        let mut workers: Vec<WorkerView> = Vec::new();
        for row in rows {
            match workers.last_mut() {
                Some(w) if w.worker_id == row.worker_id => {
                    if row.last_poll_at > w.last_poll_at {
                        w.last_poll_at = row.last_poll_at;
                        w.node = row.node;
                    }
                    w.first_seen_at = w.first_seen_at.min(row.first_seen_at);
                    w.task_queues.insert(row.task_queue);
                    w.activities.insert(row.activity);
                }
                _ => workers.push(WorkerView {
                    worker_id: row.worker_id,
                    node: row.node,
                    task_queues: BTreeSet::from([row.task_queue]),
                    activities: BTreeSet::from([row.activity]),
                    first_seen_at: row.first_seen_at,
                    last_poll_at: row.last_poll_at,
                }),
            }
        }
        Ok(workers)
    }

    /// Forgets workers not seen for `retain`; returns how many rows went.
    pub async fn purge_workers(&self, retain: Duration, limit: u32) -> Result<u64, EngineError> {
        let before = self.clock.now() - span(retain);
        Ok(self.store.purge_workers(before, limit).await?)
    }

    /// Fails for good the pending tasks that no worker started within their type's
    /// `schedule_to_start_timeout` (task policy) after they came due, through the same path as
    /// a last lease running out: the case records `activity_failed` and needs an operator.
    /// Returns how many.
    pub async fn expire_unstarted(&self, limit: u32) -> Result<usize, EngineError> {
        let now = self.clock.now();
        let mut failed = 0;
        let mut polls = LastPolls::default();
        let timeouts = self
            .task_policy
            .schedule_to_start_timeouts(aijia_workflows::activity::ALL);
        for (activity, timeout) in timeouts {
            let timeout = span(timeout);
            let due_before = now - timeout;
            for task in self
                .store
                .unstarted_tasks(activity, due_before, limit)
                .await?
            {
                let last_poll = polls.of(&self.store, &task.task_queue, activity).await?;
                let message = format!(
                    "no worker started {activity} on queue {} within its schedule_to_start_timeout \
                     of {}: it waited {} since it came due; {}",
                    task.task_queue,
                    aijia_workflows::policy::format_duration(timeout),
                    aijia_workflows::policy::format_duration(TimeDelta::seconds(
                        (now - task.run_at).num_seconds()
                    )),
                    waits::served(activity, &task.task_queue, last_poll, now),
                );
                let failure = FinalFailure {
                    error: TaskError {
                        code: SCHEDULE_TO_START_TIMEOUT.into(),
                        message: message.clone(),
                        retryable: true,
                        details: Value::Null,
                        attempt: task.attempts,
                        at: Some(now),
                    },
                    message,
                    from: TaskState::Pending,
                    // Once per time the task became due: an operator's retry makes it due anew.
                    request_id: RequestId::internal(format!(
                        "task:{}:unstarted:{}",
                        task.id,
                        task.run_at.timestamp_micros()
                    )),
                    actor: Actor {
                        role: ActorRole::System,
                        id: format!("sweeper@{}", self.node),
                    },
                };
                if self.fail_for_good(&task, failure).await? {
                    failed += 1;
                }
            }
        }
        Ok(failed)
    }
}
