//! Claiming due timers on SQLite: one writer at a time, so a plain UPDATE … RETURNING claims.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{SqliteStore, from_micros, micros};
use crate::store::{DueTimer, StoreError, db, decode_json};

impl SqliteStore {
    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueTimer>, StoreError> {
        let rows = sqlx::query(
            "UPDATE timers SET locked_until = ?2
             WHERE id IN (
                 SELECT id FROM timers
                 WHERE fire_at <= ?1 AND (locked_until IS NULL OR locked_until < ?1)
                 ORDER BY fire_at
                 LIMIT ?3)
             RETURNING case_id, name, fire_at, action",
        )
        .bind(micros(now))
        .bind(micros(lease_until))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("claiming due timers"))?;
        rows.iter()
            .map(|row| {
                Ok(DueTimer {
                    case_id: row.get("case_id"),
                    name: row.get("name"),
                    fire_at: from_micros("timer", row.get("fire_at"))?,
                    action: decode_json("timer action", row.get("action"))?,
                })
            })
            .collect()
    }

    pub async fn delete_timer(&self, timer: &DueTimer) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM timers WHERE case_id = ?1 AND name = ?2 AND fire_at = ?3")
            .bind(timer.case_id)
            .bind(&timer.name)
            .bind(micros(timer.fire_at))
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
            "UPDATE timers SET failures = failures + 1, last_error = ?4, locked_until = ?5
             WHERE case_id = ?1 AND name = ?2 AND fire_at = ?3",
        )
        .bind(timer.case_id)
        .bind(&timer.name)
        .bind(micros(timer.fire_at))
        .bind(error)
        .bind(micros(retry_at))
        .execute(self.pool())
        .await
        .map_err(db("recording a failed timer fire"))?;
        Ok(())
    }

    pub async fn next_timer_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT min(fire_at) FROM (SELECT fire_at FROM timers WHERE locked_until IS NULL ORDER BY fire_at LIMIT 1) t",
        )
            .fetch_one(self.pool())
            .await
            .map_err(db("finding the next timer"))?;
        next.map(|us| from_micros("timer", us)).transpose()
    }
}
