//! Activity tasks on PostgreSQL: claims are one `UPDATE … WHERE id IN (SELECT … FOR UPDATE
//! SKIP LOCKED)` statement, so workers on any number of nodes never wait on each other's tasks
//! and never claim the same one. Settling a task with its case event is part of the commit
//! statement in `mod.rs`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

use super::PgStore;
use crate::store::columns::Columns;
use crate::store::tasks::{
    ClaimSpec, TaskError, TaskFilter, TaskRow, TaskSnapshot, TaskState, TaskWake, task_row,
};
use crate::store::{Applied, StoreError, db};

/// The columns of a task row, from the table aliased `t`.
macro_rules! task_columns {
    () => {
        "t.id, t.case_id, t.activity, t.task_queue, t.input, t.idempotency_key, t.state,
         t.attempts, t.claims, t.run_at, t.created_at, coalesce(t.updated_at, t.created_at) AS updated_at,
         t.lease_owner, t.lease_expires_at, t.retry_policy, t.last_error, t.heartbeat_details,
         t.result, t.completed_at"
    };
}

/// The attempts a task's retry policy allows (0: no limit).
macro_rules! max_attempts {
    () => {
        "coalesce((t.retry_policy->>'maximum_attempts')::int, 10)"
    };
}

impl PgStore {
    pub fn task_wake(&self) -> &TaskWake {
        &self.wake
    }

    pub async fn claim_tasks(
        &self,
        spec: &ClaimSpec,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "UPDATE activity_tasks t
             SET state = 'running', attempts = t.attempts + 1, claims = t.claims + 1,
                 lease_owner = $1, lease_expires_at = $2, updated_at = $3,
                 last_error = CASE WHEN t.state = 'running' THEN jsonb_build_object(
                     'code', 'lease_expired', 'retryable', true, 'attempt', t.attempts,
                     'message', format('the lease of %s on attempt %s ran out', t.lease_owner, t.attempts))
                   ELSE t.last_error END
             WHERE t.id IN (
                 SELECT t.id FROM activity_tasks t
                 WHERE t.task_queue = $4 AND t.activity = ANY($5)
                   AND ((t.state = 'pending' AND t.run_at <= $3)
                        OR (t.state = 'running' AND t.lease_expires_at < $3
                            AND (", max_attempts!(), " = 0 OR t.attempts < ", max_attempts!(), ")))
                 ORDER BY t.run_at, t.id
                 LIMIT $6
                 FOR UPDATE SKIP LOCKED)
             RETURNING ", task_columns!()
        ))
        .bind(&spec.worker_id)
        .bind(lease_until)
        .bind(now)
        .bind(&spec.task_queue)
        .bind(&spec.activities)
        .bind(i64::from(spec.limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("claiming activity tasks"))?;
        rows.iter().map(task_row).collect()
    }

    pub async fn task_snapshot(
        &self,
        task_id: i64,
        request_id: &str,
    ) -> Result<TaskSnapshot, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            ",
                    c.id AS c_id, c.version AS c_version, c.data AS c_data,
                    e.seq AS e_seq, e.case_after AS e_case_after,
                    e.request_fingerprint AS e_fingerprint
             FROM activity_tasks t
             LEFT JOIN cases c ON c.id = t.case_id
             LEFT JOIN case_events e ON e.case_id = t.case_id AND e.request_id = $2
             WHERE t.id = $1"
        ))
        .bind(task_id)
        .bind(request_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("reading a task and its case"))?;
        let Some(row) = row else {
            return Ok(TaskSnapshot {
                task: None,
                case: None,
                prior: None,
            });
        };
        let task = task_row(&row)?;
        let case = match row.get::<Option<Uuid>, _>("c_id") {
            Some(_) => Some(crate::store::StoredCase {
                id: row.get("c_id"),
                version: row.get("c_version"),
                case: row.json("c_data")?,
            }),
            None => None,
        };
        let prior = match row.get::<Option<i64>, _>("e_seq") {
            Some(seq) => Some(Applied {
                case_id: task.case_id,
                seq,
                case_after: row.json("e_case_after")?,
                fingerprint: row.opt_text("e_fingerprint")?,
            }),
            None => None,
        };
        Ok(TaskSnapshot {
            task: Some(task),
            case,
            prior,
        })
    }

    pub async fn get_task(&self, task_id: i64) -> Result<Option<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks t WHERE t.id = $1"
        ))
        .bind(task_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("reading a task"))?
        .map(|row| task_row(&row))
        .transpose()
    }

    pub async fn list_tasks(&self, f: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks t
             WHERE ($1::text IS NULL OR t.state = $1)
               AND ($2::text IS NULL OR t.activity = $2)
               AND ($3::uuid IS NULL OR t.case_id = $3)
               AND ($4::bigint IS NULL OR t.id < $4)
             ORDER BY t.id DESC
             LIMIT $5"
        ))
        .bind(f.state.map(TaskState::as_str))
        .bind(&f.activity)
        .bind(f.case_id)
        .bind(f.before_id)
        .bind(i64::from(f.limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("listing tasks"))?
        .iter()
        .map(task_row)
        .collect()
    }

    pub async fn retry_task_later(
        &self,
        task_id: i64,
        claims: i64,
        run_at: DateTime<Utc>,
        error: &TaskError,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE activity_tasks
             SET state = 'pending', run_at = $3, last_error = $4, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = $5
             WHERE id = $1 AND claims = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(claims)
        .bind(run_at)
        .bind(Json(error))
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(db("scheduling a task's retry"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn hold_task(
        &self,
        task_id: i64,
        claims: i64,
        error: &TaskError,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE activity_tasks SET last_error = $3, lease_expires_at = $4, updated_at = $5
             WHERE id = $1 AND claims = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(claims)
        .bind(Json(error))
        .bind(until)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(db("holding a task back"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn heartbeat_task(
        &self,
        task_id: i64,
        claims: i64,
        lease_until: DateTime<Utc>,
        details: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "UPDATE activity_tasks
             SET lease_expires_at = $3, heartbeat_details = coalesce($4, heartbeat_details),
                 updated_at = $5
             WHERE id = $1 AND claims = $2 AND state = 'running'
             RETURNING lease_expires_at",
        )
        .bind(task_id)
        .bind(claims)
        .bind(lease_until)
        .bind(details.map(Json))
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .map_err(db("extending a task's lease"))
    }

    pub async fn exhausted_leases(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks t
             WHERE t.state = 'running' AND t.lease_expires_at < $1
               AND ",
            max_attempts!(),
            " <> 0 AND t.attempts >= ",
            max_attempts!(),
            "
             ORDER BY t.lease_expires_at
             LIMIT $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("finding tasks whose last lease ran out"))?
        .iter()
        .map(task_row)
        .collect()
    }

    pub async fn unfinished_tasks(
        &self,
        case_id: Uuid,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks t
             WHERE t.case_id = $1 AND t.state IN ('pending', 'running', 'failed')
             ORDER BY t.id
             LIMIT $2"
        ))
        .bind(case_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("reading a case's unfinished tasks"))?
        .iter()
        .map(task_row)
        .collect()
    }

    pub async fn unstarted_tasks(
        &self,
        activity: &str,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks t
             WHERE t.state = 'pending' AND t.activity = $1 AND t.run_at <= $2
             ORDER BY t.run_at
             LIMIT $3"
        ))
        .bind(activity)
        .bind(due_before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("finding tasks no worker started in time"))?
        .iter()
        .map(task_row)
        .collect()
    }

    pub async fn next_task_at(
        &self,
        task_queue: &str,
        activities: &[String],
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "SELECT min(run_at) FROM activity_tasks
             WHERE state = 'pending' AND task_queue = $1 AND activity = ANY($2)",
        )
        .bind(task_queue)
        .bind(activities)
        .fetch_one(self.pool())
        .await
        .map_err(db("finding the next task due"))
    }

    pub async fn purge_finished_tasks(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM activity_tasks WHERE id IN (
                 SELECT id FROM activity_tasks
                 WHERE state IN ('completed', 'cancelled') AND completed_at < $1
                 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(db("deleting finished tasks"))?;
        Ok(done.rows_affected())
    }
}
