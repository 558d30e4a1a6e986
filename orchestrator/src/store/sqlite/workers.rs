//! Recording a worker's poll on SQLite: the one statement of `store/workers.rs` that differs
//! by dialect (json_each of the types; `max` of two values).

use super::{SqliteStore, micros};
use crate::store::workers::WorkerPoll;
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
}
