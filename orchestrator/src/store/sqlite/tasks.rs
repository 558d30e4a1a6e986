//! Activity tasks on SQLite: one writer at a time, so a plain `UPDATE … RETURNING` claims.
//! Settling a task with its case event happens inside the commit's transaction
//! ([`write_task_update`], [`cancel_case_tasks`]).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::{SqliteStore, from_micros, micros};
use crate::store::columns::Columns;
use crate::store::tasks::{
    ClaimSpec, TaskChange, TaskError, TaskFilter, TaskRow, TaskSnapshot, TaskState, TaskWake,
    task_row,
};
use crate::store::{Applied, Commit, StoreError, StoredCase, db, decode_json, encode_json};

/// The columns of a task row, unqualified (for RETURNING).
macro_rules! task_columns {
    () => {
        "id, case_id, activity, task_queue, input, idempotency_key, state, attempts, claims,
         run_at, created_at, coalesce(updated_at, created_at) AS updated_at, lease_owner,
         lease_expires_at, retry_policy, last_error, heartbeat_details, result, completed_at"
    };
}

/// The columns of a task row, from the table aliased `t` (for joins).
macro_rules! t_task_columns {
    () => {
        "t.id, t.case_id, t.activity, t.task_queue, t.input, t.idempotency_key, t.state,
         t.attempts, t.claims, t.run_at, t.created_at,
         coalesce(t.updated_at, t.created_at) AS updated_at, t.lease_owner, t.lease_expires_at,
         t.retry_policy, t.last_error, t.heartbeat_details, t.result, t.completed_at"
    };
}

macro_rules! max_attempts {
    () => {
        "coalesce(json_extract(retry_policy, '$.maximum_attempts'), 10)"
    };
}

impl SqliteStore {
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
            "UPDATE activity_tasks
             SET state = 'running', attempts = attempts + 1, claims = claims + 1,
                 lease_owner = ?1, lease_expires_at = ?2, updated_at = ?3,
                 last_error = CASE WHEN state = 'running' THEN json_object(
                     'code', 'lease_expired', 'retryable', json('true'), 'attempt', attempts,
                     'message', 'the lease of ' || coalesce(lease_owner, '?') || ' on attempt '
                                || attempts || ' ran out')
                   ELSE last_error END
             WHERE id IN (
                 SELECT id FROM activity_tasks
                 WHERE task_queue = ?4 AND activity IN (SELECT value FROM json_each(?5))
                   AND ((state = 'pending' AND run_at <= ?3)
                        OR (state = 'running' AND lease_expires_at < ?3
                            AND (",
            max_attempts!(),
            " = 0 OR attempts < ",
            max_attempts!(),
            ")))
                 ORDER BY run_at, id
                 LIMIT ?6)
             RETURNING ",
            task_columns!()
        ))
        .bind(&spec.worker_id)
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(&spec.task_queue)
        .bind(encode_json(&spec.activities))
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
            t_task_columns!(),
            ",
                    c.id AS c_id, c.version AS c_version, c.data AS c_data,
                    e.seq AS e_seq, e.case_after AS e_case_after,
                    e.request_fingerprint AS e_fingerprint
             FROM activity_tasks t
             LEFT JOIN cases c ON c.id = t.case_id
             LEFT JOIN case_events e ON e.case_id = t.case_id AND e.request_id = ?2
             WHERE t.id = ?1"
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
        let case = match row.get::<Option<String>, _>("c_data") {
            Some(data) => Some(StoredCase {
                id: row.get("c_id"),
                version: row.get("c_version"),
                case: decode_json("case", &data)?,
            }),
            None => None,
        };
        let prior = match row.get::<Option<i64>, _>("e_seq") {
            Some(seq) => Some(Applied {
                case_id: task.case_id,
                seq,
                case_after: decode_json("case", row.get("e_case_after"))?,
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
            " FROM activity_tasks WHERE id = ?1"
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
            " FROM activity_tasks
             WHERE (?1 IS NULL OR state = ?1)
               AND (?2 IS NULL OR activity = ?2)
               AND (?3 IS NULL OR case_id = ?3)
               AND (?4 IS NULL OR id < ?4)
             ORDER BY id DESC
             LIMIT ?5"
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
             SET state = 'pending', run_at = ?3, last_error = ?4, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = ?5
             WHERE id = ?1 AND claims = ?2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(claims)
        .bind(micros(run_at))
        .bind(encode_json(error))
        .bind(micros(now))
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
            "UPDATE activity_tasks SET last_error = ?3, lease_expires_at = ?4, updated_at = ?5
             WHERE id = ?1 AND claims = ?2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(claims)
        .bind(encode_json(error))
        .bind(micros(until))
        .bind(micros(now))
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
        let until: Option<i64> = sqlx::query_scalar(
            "UPDATE activity_tasks
             SET lease_expires_at = ?3, heartbeat_details = coalesce(?4, heartbeat_details),
                 updated_at = ?5
             WHERE id = ?1 AND claims = ?2 AND state = 'running'
             RETURNING lease_expires_at",
        )
        .bind(task_id)
        .bind(claims)
        .bind(micros(lease_until))
        .bind(details.map(encode_json))
        .bind(micros(now))
        .fetch_optional(self.pool())
        .await
        .map_err(db("extending a task's lease"))?;
        until.map(|us| from_micros("lease", us)).transpose()
    }

    pub async fn exhausted_leases(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM activity_tasks
             WHERE state = 'running' AND lease_expires_at < ?1
               AND ",
            max_attempts!(),
            " <> 0 AND attempts >= ",
            max_attempts!(),
            "
             ORDER BY lease_expires_at
             LIMIT ?2"
        ))
        .bind(micros(now))
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
            " FROM activity_tasks
             WHERE case_id = ?1 AND state IN ('pending', 'running', 'failed')
             ORDER BY id
             LIMIT ?2"
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
            " FROM activity_tasks
             WHERE state = 'pending' AND activity = ?1 AND run_at <= ?2
             ORDER BY run_at
             LIMIT ?3"
        ))
        .bind(activity)
        .bind(micros(due_before))
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
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT min(run_at) FROM activity_tasks
             WHERE state = 'pending' AND task_queue = ?1
               AND activity IN (SELECT value FROM json_each(?2))",
        )
        .bind(task_queue)
        .bind(encode_json(&activities))
        .fetch_one(self.pool())
        .await
        .map_err(db("finding the next task due"))?;
        next.map(|us| from_micros("task", us)).transpose()
    }

    pub async fn purge_finished_tasks(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM activity_tasks WHERE id IN (
                 SELECT id FROM activity_tasks
                 WHERE state IN ('completed', 'cancelled') AND completed_at < ?1
                 LIMIT ?2)",
        )
        .bind(micros(before))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(db("deleting finished tasks"))?;
        Ok(done.rows_affected())
    }
}

/// Settles the commit's task, inside its transaction and after its case update. False when the
/// task is no longer as the fence says: the caller rolls the whole commit back.
pub(super) async fn write_task_update(
    tx: &mut Transaction<'static, Sqlite>,
    c: &Commit,
) -> Result<bool, sqlx::Error> {
    let Some(update) = &c.task_update else {
        return Ok(true);
    };
    let states: Vec<&str> = update.states.iter().map(|s| s.as_str()).collect();
    let at = micros(c.at);
    let (result, error) = match &update.change {
        TaskChange::Completed { result } => (Some(encode_json(result)), None),
        TaskChange::Failed { error } => (None, Some(encode_json(error))),
        TaskChange::Retried | TaskChange::Cancelled => (None, None),
    };
    let reset = matches!(update.change, TaskChange::Retried);
    let done = sqlx::query(
        "UPDATE activity_tasks
         SET state = ?4,
             result = coalesce(?5, result),
             last_error = coalesce(?6, last_error),
             attempts = CASE WHEN ?7 THEN 0 ELSE attempts END,
             run_at = CASE WHEN ?7 THEN ?8 ELSE run_at END,
             lease_owner = CASE WHEN ?7 THEN NULL ELSE lease_owner END,
             lease_expires_at = CASE WHEN ?7 THEN NULL ELSE lease_expires_at END,
             completed_at = CASE WHEN ?7 THEN NULL ELSE ?8 END,
             updated_at = ?8
         WHERE id = ?1 AND claims = ?2 AND state IN (SELECT value FROM json_each(?3))",
    )
    .bind(update.task_id)
    .bind(update.claims)
    .bind(encode_json(&states))
    .bind(update.change.new_state().as_str())
    .bind(result)
    .bind(error)
    .bind(reset)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A cancelled case's pending and running tasks are cancelled with it (the task the commit
/// settles excepted).
pub(super) async fn cancel_case_tasks(
    tx: &mut Transaction<'static, Sqlite>,
    c: &Commit,
) -> Result<(), sqlx::Error> {
    if !c.cancel_tasks {
        return Ok(());
    }
    let settled = c.task_update.as_ref().map_or(0, |u| u.task_id);
    sqlx::query(
        "UPDATE activity_tasks SET state = 'cancelled', completed_at = ?2, updated_at = ?2
         WHERE case_id = ?1 AND state IN ('pending', 'running') AND id <> ?3",
    )
    .bind(c.case_id)
    .bind(micros(c.at))
    .bind(settled)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
