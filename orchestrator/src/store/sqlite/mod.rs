//! The embedded SQLite back end, the default of `aijia dev`. One transaction per transition
//! (SQLite has no data-modifying CTEs, and round trips are in-process calls here anyway).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::{
    Applied, CaseFilter, Commit, CommitError, HistoryEvent, PendingTimer, SignalSnapshot, Started,
    StoreError, StoredCase, db, decode_json, encode_json, history_event, stored_case,
};

mod automation;
mod review;
mod schedules;
mod tasks;
mod timers;
mod workers;

static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> = std::sync::LazyLock::new(|| {
    super::migrator(include!(concat!(env!("OUT_DIR"), "/sqlite_migrations.rs")))
});

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    wake: super::TaskWake,
}

pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn from_micros(what: &'static str, us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us).ok_or(StoreError::Corrupt {
        what,
        detail: format!("timestamp {us} out of range"),
    })
}

/// SQLite names the table of a violated unique index in its message ("… failed: cases.id").
fn violated_table(err: &sqlx::Error) -> Option<&'static str> {
    match err {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            if e.message().contains("case_events.") {
                Some("case_events")
            } else if e.message().contains("cases.") {
                Some("cases")
            } else {
                Some("other")
            }
        }
        _ => None,
    }
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db("parsing the database url"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db("opening the SQLite database"))?;
        Ok(SqliteStore {
            pool,
            wake: super::TaskWake::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading.
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("beginning a transaction"))
    }

    pub async fn create(&self, c: &Commit) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let waiting = c.case.waiting.as_ref();
        let data = encode_json(&c.case);
        let inserted = sqlx::query(
            "INSERT INTO cases (id, workflow_type, business_key, state, waiting_for, waiting_since,
                                owner, customer_id, version, start_request_id, data, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11, ?11)",
        )
        .bind(c.case_id)
        .bind(c.case.workflow_type.as_str())
        .bind(&c.case.business_key)
        .bind(c.case.state.as_str())
        .bind(waiting.map(|w| w.party.as_str()))
        .bind(waiting.map(|w| micros(w.since)))
        .bind(&c.case.owner)
        .bind(&c.case.customer.id)
        .bind(&c.request_id)
        .bind(&data)
        .bind(micros(c.at))
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if violated_table(&e) == Some("cases") => return Ok(false),
            other => other.map_err(db("creating a case"))?,
        };
        write_children(&mut tx, c, &data)
            .await
            .map_err(db("writing a new case's history, timers and tasks"))?;
        tx.commit().await.map_err(db("committing a new case"))?;
        Ok(true)
    }

    pub async fn commit(&self, c: &Commit) -> Result<(), CommitError> {
        let mut tx = self.begin().await?;
        // A decision automation shaped stands only under the version in force.
        if let Some(fence) = c.automation_fence {
            let in_force: i64 =
                sqlx::query_scalar("SELECT coalesce(max(version), 1) FROM automation_policies")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("reading the automation policy version in force"))?;
            if in_force > fence {
                return Err(CommitError::VersionConflict);
            }
        }
        let waiting = c.case.waiting.as_ref();
        let data = encode_json(&c.case);
        let updated = sqlx::query(
            "UPDATE cases SET state = ?3, waiting_for = ?4, waiting_since = ?5, owner = ?6,
                              version = version + 1, data = ?7, updated_at = ?8,
                              needs_operator = ?9
             WHERE id = ?1 AND version = ?2",
        )
        .bind(c.case_id)
        .bind(c.base_version)
        .bind(c.case.state.as_str())
        .bind(waiting.map(|w| w.party.as_str()))
        .bind(waiting.map(|w| micros(w.since)))
        .bind(&c.case.owner)
        .bind(&data)
        .bind(micros(c.at))
        .bind(c.needs_operator())
        .execute(&mut *tx)
        .await
        .map_err(db("updating a case"))?;
        if updated.rows_affected() == 0 {
            return Err(CommitError::VersionConflict);
        }
        // The task this commit settles must still be as its fence says, or nothing is written.
        if !tasks::write_task_update(&mut tx, c)
            .await
            .map_err(db("settling a task"))?
        {
            return Err(CommitError::VersionConflict);
        }
        tasks::cancel_case_tasks(&mut tx, c)
            .await
            .map_err(db("cancelling a cancelled case's tasks"))?;
        review::write_drafts(&mut tx, c.case_id, &c.drafts)
            .await
            .map_err(db("indexing a transition's drafts"))?;
        for name in &c.timers_to_cancel {
            sqlx::query("DELETE FROM timers WHERE case_id = ?1 AND name = ?2")
                .bind(c.case_id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db("cancelling a timer"))?;
        }
        write_children(&mut tx, c, &data)
            .await
            .map_err(|e| match violated_table(&e) {
                Some("case_events") => CommitError::DuplicateRequest,
                _ => db("writing a transition's history, timers and tasks")(e).into(),
            })?;
        tx.commit().await.map_err(db("committing a transition"))?;
        Ok(())
    }

    pub async fn find_started(
        &self,
        request_id: &str,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<Option<Started>, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.version, c.data, c.start_request_id = ?1 AS by_request, e.case_after,
                    e.request_fingerprint
             FROM cases c JOIN case_events e ON e.case_id = c.id AND e.seq = 1
             WHERE c.start_request_id = ?1
                OR (c.workflow_type = ?2 AND c.business_key = ?3
                    AND c.state NOT IN ('completed', 'cancelled'))
             ORDER BY by_request DESC
             LIMIT 1",
        )
        .bind(request_id)
        .bind(workflow_type)
        .bind(business_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a started case"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(if row.get::<bool, _>("by_request") {
            Started::ByRequest(Applied {
                case_id: row.get("id"),
                seq: 1,
                case_after: decode_json("case", row.get("case_after"))?,
                fingerprint: row.get("request_fingerprint"),
            })
        } else {
            Started::OpenCase(stored_case(&row)?)
        }))
    }

    pub async fn signal_snapshot(
        &self,
        case_id: Uuid,
        request_id: &str,
    ) -> Result<SignalSnapshot, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.version, c.data, e.seq, e.case_after, e.request_fingerprint
             FROM cases c LEFT JOIN case_events e ON e.case_id = c.id AND e.request_id = ?2
             WHERE c.id = ?1",
        )
        .bind(case_id)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a case"))?;
        let Some(row) = row else {
            return Ok(SignalSnapshot {
                case: None,
                prior: None,
            });
        };
        let prior = match row.get::<Option<i64>, _>("seq") {
            Some(seq) => Some(Applied {
                case_id,
                seq,
                case_after: decode_json("case", row.get("case_after"))?,
                fingerprint: row.get("request_fingerprint"),
            }),
            None => None,
        };
        Ok(SignalSnapshot {
            case: Some(stored_case(&row)?),
            prior,
        })
    }

    pub async fn get(&self, case_id: Uuid) -> Result<Option<StoredCase>, StoreError> {
        sqlx::query("SELECT id, version, data FROM cases WHERE id = ?1")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a case"))?
            .map(|row| stored_case(&row))
            .transpose()
    }

    pub async fn get_by_business_key(
        &self,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<Option<StoredCase>, StoreError> {
        sqlx::query(
            "SELECT id, version, data FROM cases
             WHERE workflow_type = ?1 AND business_key = ?2
             ORDER BY state IN ('completed', 'cancelled'), created_at DESC, id DESC
             LIMIT 1",
        )
        .bind(workflow_type)
        .bind(business_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a case by business key"))?
        .map(|row| stored_case(&row))
        .transpose()
    }

    pub async fn list(&self, f: &CaseFilter) -> Result<Vec<StoredCase>, StoreError> {
        sqlx::query(
            "SELECT id, version, data FROM cases
             WHERE (?1 IS NULL OR state = ?1)
               AND (?2 IS NULL OR waiting_for = ?2)
               AND (?3 IS NULL OR workflow_type = ?3)
               AND (?4 IS NULL OR owner = ?4)
               AND (?5 IS NULL OR customer_id = ?5)
               AND (?6 IS NULL OR waiting_since <= ?6)
               AND (?7 IS NULL OR id < ?7)
               AND (?9 IS NULL OR needs_operator = ?9)
             ORDER BY id DESC
             LIMIT ?8",
        )
        .bind(&f.state)
        .bind(&f.waiting_for)
        .bind(&f.workflow_type)
        .bind(&f.owner)
        .bind(&f.customer_id)
        .bind(f.waiting_since_before.map(micros))
        .bind(f.before_id)
        .bind(i64::from(f.limit))
        .bind(f.needs_operator)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing cases"))?
        .iter()
        .map(stored_case)
        .collect()
    }

    pub async fn pending_timers(
        &self,
        case_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<PendingTimer>>, StoreError> {
        let mut by_case: HashMap<Uuid, Vec<PendingTimer>> = HashMap::new();
        for &case_id in case_ids {
            let rows = sqlx::query(
                "SELECT name, fire_at FROM timers WHERE case_id = ?1 ORDER BY fire_at, name",
            )
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading timers"))?;
            for row in rows {
                by_case.entry(case_id).or_default().push(PendingTimer {
                    name: row.get("name"),
                    fire_at: from_micros("timer", row.get("fire_at"))?,
                });
            }
        }
        Ok(by_case)
    }

    pub async fn history(
        &self,
        case_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, payload, actor_role, actor_id, request_id, at, case_after, effects
             FROM case_events WHERE case_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(case_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading case history"))?;
        rows.iter().map(history_event).collect()
    }
}

/// The history event, timers and tasks of a commit, inside its transaction.
async fn write_children(
    tx: &mut Transaction<'static, Sqlite>,
    c: &Commit,
    case_json: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_events (case_id, seq, event_type, payload, actor_role, actor_id,
                                  request_id, at, state_after, case_after, effects,
                                  request_fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .bind(c.case_id)
    .bind(c.seq())
    .bind(c.event.kind())
    .bind(encode_json(&c.event))
    .bind(c.actor.role.as_str())
    .bind(&c.actor.id)
    .bind(&c.request_id)
    .bind(micros(c.at))
    .bind(c.case.state.as_str())
    .bind(case_json)
    .bind(encode_json(&c.effects))
    .bind(&c.fingerprint)
    .execute(&mut **tx)
    .await?;
    for timer in &c.timers_to_start {
        sqlx::query(
            "INSERT INTO timers (case_id, name, fire_at, created_seq, action)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (case_id, name)
             DO UPDATE SET fire_at = excluded.fire_at, created_seq = excluded.created_seq,
                           action = excluded.action, locked_until = NULL",
        )
        .bind(c.case_id)
        .bind(&timer.name)
        .bind(micros(timer.fire_at))
        .bind(c.seq())
        .bind(encode_json(&timer.action))
        .execute(&mut **tx)
        .await?;
    }
    for (task, key) in c.tasks.iter().zip(c.task_keys()) {
        sqlx::query(
            "INSERT INTO activity_tasks (case_id, activity, input, idempotency_key, created_seq,
                                         created_at, run_at, task_queue, retry_policy)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
        )
        .bind(c.case_id)
        .bind(&task.activity)
        .bind(encode_json(&task.input))
        .bind(key)
        .bind(c.seq())
        .bind(micros(c.at))
        .bind(&task.task_queue)
        .bind(encode_json(&task.retry_policy))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
