//! The record of workers: who polled for which activity types on which queue, when, through
//! which server process. Written by the long poll (throttled by the engine), read by GetCase
//! ("no worker has polled for …") and ListWorkers, pruned by the sweeper.

use chrono::{DateTime, Utc};

use super::columns::Columns;
use super::time::Time;
use super::{Store, StoreError, db};

/// One worker's polls for one activity type on one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRow {
    pub worker_id: String,
    pub task_queue: String,
    pub activity: String,
    /// The server process that saw the last poll.
    pub node: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_poll_at: DateTime<Utc>,
}

/// A poll to record.
#[derive(Debug, Clone, Copy)]
pub struct WorkerPoll<'a> {
    pub worker_id: &'a str,
    pub task_queue: &'a str,
    pub activities: &'a [String],
    pub node: &'a str,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Records that a worker polled for these types on this queue. Per back end: the
    /// types arrive as an array, which the two databases unnest differently.
    pub async fn record_poll(&self, poll: WorkerPoll<'_>) -> Result<(), StoreError> {
        dispatch!(self, s => s.record_poll(poll).await)
    }

    /// When any worker last polled for `activity` on `task_queue`, if one is on record.
    pub async fn last_poll(
        &self,
        task_queue: &str,
        activity: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<Time> = dispatch!(self, s => sqlx::query_scalar(
            "SELECT max(last_poll_at) FROM workers WHERE task_queue = $1 AND activity = $2",
        )
        .bind(task_queue)
        .bind(activity)
        .fetch_one(s.pool())
        .await)
        .map_err(db("reading when a worker last polled"))?;
        Ok(at.map(|t| t.0))
    }

    /// The rows of workers that polled at or after `since`, by worker id, queue and type.
    pub async fn workers_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkerRow>, StoreError> {
        dispatch!(self, s => sqlx::query(
            "SELECT worker_id, task_queue, activity, node, first_seen_at, last_poll_at
             FROM workers WHERE last_poll_at >= $1
             ORDER BY worker_id, task_queue, activity
             LIMIT $2",
        )
        .bind(Time(since))
        .bind(i64::from(limit))
        .fetch_all(s.pool())
        .await
        .map_err(db("listing workers"))?
        .iter()
        .map(worker_row)
        .collect())
    }

    /// Deletes up to `limit` rows of workers not seen since `before`; returns how many.
    pub async fn purge_workers(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => sqlx::query(
            "DELETE FROM workers WHERE (task_queue, activity, worker_id) IN (
                 SELECT task_queue, activity, worker_id FROM workers
                 WHERE last_poll_at < $1 LIMIT $2)",
        )
        .bind(Time(before))
        .bind(i64::from(limit))
        .execute(s.pool())
        .await
        .map(|done| done.rows_affected()))
        .map_err(db("deleting workers not seen for a day"))
    }
}

/// A `workers` row.
pub(crate) fn worker_row(row: &impl Columns) -> Result<WorkerRow, StoreError> {
    Ok(WorkerRow {
        worker_id: row.text("worker_id")?,
        task_queue: row.text("task_queue")?,
        activity: row.text("activity")?,
        node: row.text("node")?,
        first_seen_at: row.time("first_seen_at")?,
        last_poll_at: row.time("last_poll_at")?,
    })
}
