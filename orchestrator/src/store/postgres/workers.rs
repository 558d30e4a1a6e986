//! The record of workers on PostgreSQL (see `store/workers.rs`).

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::workers::{WorkerPoll, WorkerRow, worker_row};
use crate::store::{StoreError, db};

impl PgStore {
    pub async fn record_poll(&self, p: WorkerPoll<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO workers (worker_id, task_queue, activity, node, first_seen_at, last_poll_at)
             SELECT $1, $2, a, $3, $4, $4 FROM unnest($5::text[]) AS a
             ON CONFLICT (task_queue, activity, worker_id) DO UPDATE
             SET node = EXCLUDED.node,
                 last_poll_at = greatest(workers.last_poll_at, EXCLUDED.last_poll_at)",
        )
        .bind(p.worker_id)
        .bind(p.task_queue)
        .bind(p.node)
        .bind(p.at)
        .bind(p.activities)
        .execute(self.pool())
        .await
        .map_err(db("recording a worker's poll"))?;
        Ok(())
    }

    pub async fn last_poll(
        &self,
        task_queue: &str,
        activity: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "SELECT max(last_poll_at) FROM workers WHERE task_queue = $1 AND activity = $2",
        )
        .bind(task_queue)
        .bind(activity)
        .fetch_one(self.pool())
        .await
        .map_err(db("reading when a worker last polled"))
    }

    pub async fn workers_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkerRow>, StoreError> {
        sqlx::query(
            "SELECT worker_id, task_queue, activity, node, first_seen_at, last_poll_at
             FROM workers WHERE last_poll_at >= $1
             ORDER BY worker_id, task_queue, activity
             LIMIT $2",
        )
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("listing workers"))?
        .iter()
        .map(worker_row)
        .collect()
    }

    pub async fn purge_workers(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM workers WHERE (task_queue, activity, worker_id) IN (
                 SELECT task_queue, activity, worker_id FROM workers
                 WHERE last_poll_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(db("deleting workers not seen for a day"))?;
        Ok(done.rows_affected())
    }
}
