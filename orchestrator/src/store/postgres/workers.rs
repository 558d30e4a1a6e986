//! Recording a worker's poll on PostgreSQL: the one statement of `store/workers.rs` that
//! differs by dialect (unnest of a text array; `greatest`).

use super::PgStore;
use crate::store::workers::WorkerPoll;
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
}
