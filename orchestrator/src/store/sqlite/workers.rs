//! The record of workers on SQLite (see `store/workers.rs`).

use chrono::{DateTime, Utc};

use super::{SqliteStore, from_micros, micros};
use crate::store::workers::{WorkerPoll, WorkerRow, worker_row};
use crate::store::{StoreError, db, encode_json};

impl SqliteStore {
    pub async fn record_poll(&self, p: WorkerPoll<'_>) -> Result<(), StoreError> {
        // `WHERE true` tells SQLite's parser that ON CONFLICT is the upsert, not a join's.
        sqlx::query(
            "INSERT INTO workers (worker_id, task_queue, activity, node, first_seen_at, last_poll_at)
             SELECT ?1, ?2, value, ?3, ?4, ?4 FROM json_each(?5) WHERE true
             ON CONFLICT (task_queue, activity, worker_id) DO UPDATE
             SET node = excluded.node, last_poll_at = max(last_poll_at, excluded.last_poll_at)",
        )
        .bind(p.worker_id)
        .bind(p.task_queue)
        .bind(p.node)
        .bind(micros(p.at))
        .bind(encode_json(&p.activities))
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
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT max(last_poll_at) FROM workers WHERE task_queue = ?1 AND activity = ?2",
        )
        .bind(task_queue)
        .bind(activity)
        .fetch_one(self.pool())
        .await
        .map_err(db("reading when a worker last polled"))?;
        at.map(|us| from_micros("last poll", us)).transpose()
    }

    pub async fn workers_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkerRow>, StoreError> {
        sqlx::query(
            "SELECT worker_id, task_queue, activity, node, first_seen_at, last_poll_at
             FROM workers WHERE last_poll_at >= ?1
             ORDER BY worker_id, task_queue, activity
             LIMIT ?2",
        )
        .bind(micros(since))
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
            "DELETE FROM workers WHERE rowid IN (
                 SELECT rowid FROM workers WHERE last_poll_at < ?1 LIMIT ?2)",
        )
        .bind(micros(before))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(db("deleting workers not seen for a day"))?;
        Ok(done.rows_affected())
    }
}
