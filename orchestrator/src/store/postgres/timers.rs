//! Claiming due timers on PostgreSQL: one statement, `FOR UPDATE SKIP LOCKED`, so nodes never
//! wait on each other's timers and never claim the same one.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::types::Json;

use super::PgStore;
use crate::store::{DueTimer, StoreError, db};

impl PgStore {
    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueTimer>, StoreError> {
        let rows = sqlx::query(
            "UPDATE timers SET locked_until = $2
             WHERE id IN (
                 SELECT id FROM timers
                 WHERE fire_at <= $1 AND (locked_until IS NULL OR locked_until < $1)
                 ORDER BY fire_at
                 LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             RETURNING case_id, name, fire_at, action",
        )
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("claiming due timers"))?;
        Ok(rows
            .iter()
            .map(|row| DueTimer {
                case_id: row.get("case_id"),
                name: row.get("name"),
                fire_at: row.get("fire_at"),
                action: row.get::<Json<serde_json::Value>, _>("action").0,
            })
            .collect())
    }

    pub async fn delete_timer(&self, timer: &DueTimer) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM timers WHERE case_id = $1 AND name = $2 AND fire_at = $3")
            .bind(timer.case_id)
            .bind(&timer.name)
            .bind(timer.fire_at)
            .execute(self.pool())
            .await
            .map_err(db("deleting a stale timer"))?;
        Ok(())
    }

    pub async fn timer_failed(
        &self,
        timer: &DueTimer,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE timers SET failures = failures + 1, last_error = $4, locked_until = $5
             WHERE case_id = $1 AND name = $2 AND fire_at = $3",
        )
        .bind(timer.case_id)
        .bind(&timer.name)
        .bind(timer.fire_at)
        .bind(error)
        .bind(retry_at)
        .execute(self.pool())
        .await
        .map_err(db("recording a failed timer fire"))?;
        Ok(())
    }

    pub async fn next_timer_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "SELECT min(fire_at) FROM (SELECT fire_at FROM timers WHERE locked_until IS NULL ORDER BY fire_at LIMIT 1) t",
        )
            .fetch_one(self.pool())
            .await
            .map_err(db("finding the next timer"))
    }
}

impl PgStore {
    /// Relays notifications on `channel` to `wake` until `shutdown`, reconnecting after
    /// errors. Missed notifications are harmless: the loops also poll.
    pub async fn listen(
        self,
        channel: &'static str,
        wake: std::sync::Arc<tokio::sync::Notify>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        while !shutdown.is_cancelled() {
            let mut listener = match sqlx::postgres::PgListener::connect_with(self.pool()).await {
                Ok(l) => l,
                Err(err) => {
                    tracing::warn!(channel, error = %err, "LISTEN connection failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(err) = listener.listen(channel).await {
                tracing::warn!(channel, error = %err, "LISTEN failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    received = listener.recv() => match received {
                        Ok(_) => wake.notify_one(),
                        Err(err) => {
                            tracing::warn!(channel, error = %err, "LISTEN connection lost; reconnecting");
                            break;
                        }
                    },
                }
            }
        }
    }
}
