//! Schedules on PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::PgStore;
use crate::store::schedules::{
    CreatedSchedule, FireRecord, ScheduleChange, StoredSchedule, change, fire, schedule,
};
use crate::store::{StoreError, db};

/// The columns every schedule query returns, spliced in at compile time.
macro_rules! columns {
    () => {
        "id, name, spec, paused, last_nominal, next_fire_at, created_at, updated_at,
         create_request_fingerprint"
    };
}

impl PgStore {
    pub async fn create_schedule(
        &self,
        s: &StoredSchedule,
        request_id: &str,
    ) -> Result<CreatedSchedule, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO schedules (id, name, create_request_id, spec, paused, last_nominal,
                                    next_fire_at, created_at, updated_at,
                                    create_request_fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
             ON CONFLICT DO NOTHING",
        )
        .bind(s.id)
        .bind(&s.name)
        .bind(request_id)
        .bind(Json(&s.spec))
        .bind(s.paused)
        .bind(s.last_nominal)
        .bind(s.next_fire_at)
        .bind(s.created_at)
        .bind(&s.create_request_fingerprint)
        .execute(self.pool())
        .await
        .map_err(db("creating a schedule"))?;
        if inserted.rows_affected() == 1 {
            return Ok(CreatedSchedule::Created(s.clone()));
        }
        let earlier = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE create_request_id = $1"
        ))
        .bind(request_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("looking up a schedule"))?;
        Ok(match earlier {
            Some(row) => CreatedSchedule::Repeated(schedule(&row)?),
            None => CreatedSchedule::NameTaken,
        })
    }

    pub async fn get_schedule(&self, id: Uuid) -> Result<Option<StoredSchedule>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("reading a schedule"))?
        .map(|r| schedule(&r))
        .transpose()
    }

    pub async fn get_schedule_by_name(
        &self,
        name: &str,
    ) -> Result<Option<StoredSchedule>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(db("reading a schedule"))?
        .map(|r| schedule(&r))
        .transpose()
    }

    pub async fn list_schedules(
        &self,
        after_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE ($1::text IS NULL OR name > $1)
             ORDER BY name LIMIT $2"
        ))
        .bind(after_name)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("listing schedules"))?
        .iter()
        .map(schedule)
        .collect()
    }

    pub async fn save_schedule(
        &self,
        s: &StoredSchedule,
        c: &ScheduleChange,
    ) -> Result<bool, StoreError> {
        let logged = sqlx::query(
            "WITH upd AS (
                UPDATE schedules SET spec = $2, paused = $3, last_nominal = $4, next_fire_at = $5,
                                     updated_at = $6
                WHERE id = $1
                RETURNING id, name
            )
            INSERT INTO schedule_changes (schedule_id, schedule_name, change, actor_role,
                                          actor_id, reason, at)
            SELECT id, name, $7, $8, $9, $10, $11 FROM upd
            RETURNING id",
        )
        .bind(s.id)
        .bind(Json(&s.spec))
        .bind(s.paused)
        .bind(s.last_nominal)
        .bind(s.next_fire_at)
        .bind(s.updated_at)
        .bind_change(c)
        .fetch_optional(self.pool())
        .await
        .map_err(db("saving a schedule"))?;
        Ok(logged.is_some())
    }

    pub async fn delete_schedule(
        &self,
        s: &StoredSchedule,
        c: &ScheduleChange,
    ) -> Result<bool, StoreError> {
        let logged = sqlx::query(
            "WITH del AS (DELETE FROM schedules WHERE id = $1 RETURNING id, name)
            INSERT INTO schedule_changes (schedule_id, schedule_name, change, actor_role,
                                          actor_id, reason, at)
            SELECT id, name, $2, $3, $4, $5, $6 FROM del
            RETURNING id",
        )
        .bind(s.id)
        .bind_change(c)
        .fetch_optional(self.pool())
        .await
        .map_err(db("deleting a schedule"))?;
        Ok(logged.is_some())
    }

    pub async fn schedule_changes(
        &self,
        schedule_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ScheduleChange>, StoreError> {
        sqlx::query(
            "SELECT change, actor_role, actor_id, reason, at FROM schedule_changes
             WHERE schedule_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(schedule_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("reading a schedule's changes"))?
        .iter()
        .map(change)
        .collect()
    }

    pub async fn claim_due_schedule(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<StoredSchedule>, StoreError> {
        sqlx::query(concat!(
            "UPDATE schedules SET locked_until = $2
             WHERE id = (
                 SELECT id FROM schedules
                 WHERE NOT paused AND next_fire_at <= $1
                   AND (locked_until IS NULL OR locked_until < $1)
                 ORDER BY next_fire_at
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             RETURNING ",
            columns!(),
            ""
        ))
        .bind(now)
        .bind(lease_until)
        .fetch_optional(self.pool())
        .await
        .map_err(db("claiming a due schedule"))?
        .map(|r| schedule(&r))
        .transpose()
    }

    pub async fn finish_fires(
        &self,
        s: &StoredSchedule,
        fires: &[FireRecord],
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(db("beginning a transaction"))?;
        for f in fires {
            sqlx::query(
                "INSERT INTO schedule_fires (schedule_id, nominal, actual, outcome, detail, request_id)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(s.id)
            .bind(f.nominal)
            .bind(f.actual)
            .bind(&f.outcome)
            .bind(&f.detail)
            .bind(&f.request_id)
            .execute(&mut *tx)
            .await
            .map_err(db("recording a schedule fire"))?;
        }
        sqlx::query(
            "UPDATE schedules SET last_nominal = $2, next_fire_at = $3, locked_until = NULL,
                                  updated_at = $4
             WHERE id = $1",
        )
        .bind(s.id)
        .bind(s.last_nominal)
        .bind(s.next_fire_at)
        .bind(s.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db("moving a schedule on"))?;
        tx.commit().await.map_err(db("committing schedule fires"))
    }

    pub async fn record_trigger(
        &self,
        schedule_id: Uuid,
        f: &FireRecord,
    ) -> Result<FireRecord, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO schedule_fires (schedule_id, nominal, actual, outcome, detail, request_id,
                                         request_fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(schedule_id)
        .bind(f.nominal)
        .bind(f.actual)
        .bind(&f.outcome)
        .bind(&f.detail)
        .bind(&f.request_id)
        .bind(&f.request_fingerprint)
        .execute(self.pool())
        .await
        .map_err(db("recording a triggered fire"))?;
        if inserted.rows_affected() == 1 {
            return Ok(f.clone());
        }
        let earlier = match &f.request_id {
            Some(request_id) => self.find_trigger(schedule_id, request_id).await?,
            None => None,
        };
        Ok(earlier.unwrap_or_else(|| f.clone()))
    }

    pub async fn find_trigger(
        &self,
        schedule_id: Uuid,
        request_id: &str,
    ) -> Result<Option<FireRecord>, StoreError> {
        sqlx::query(
            "SELECT nominal, actual, outcome, detail, request_id, request_fingerprint
             FROM schedule_fires
             WHERE schedule_id = $1 AND request_id = $2",
        )
        .bind(schedule_id)
        .bind(request_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("looking up a triggered fire"))?
        .map(|r| fire(&r))
        .transpose()
    }

    pub async fn recent_fires(
        &self,
        schedule_id: Uuid,
        limit: u32,
    ) -> Result<Vec<FireRecord>, StoreError> {
        sqlx::query(
            "SELECT nominal, actual, outcome, detail, request_id, request_fingerprint
             FROM schedule_fires
             WHERE schedule_id = $1 ORDER BY nominal DESC LIMIT $2",
        )
        .bind(schedule_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("reading schedule fires"))?
        .iter()
        .map(fire)
        .collect()
    }
}

/// Binds a change log entry's `change, actor_role, actor_id, reason, at`, in that order.
trait BindChange {
    fn bind_change(self, c: &ScheduleChange) -> Self;
}

impl BindChange for sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_change(self, c: &ScheduleChange) -> Self {
        self.bind(c.change.clone())
            .bind(c.actor.role.as_str())
            .bind(c.actor.id.clone())
            .bind(c.reason.clone())
            .bind(c.at)
    }
}
