//! The PostgreSQL back end. Each transition is one statement (a data-modifying CTE): the case
//! row, its history event, its timers and its outbox tasks commit together in one round trip.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{ConnectOptions, Connection, Row};
use uuid::Uuid;

use super::columns::Columns;
use super::{
    ACQUIRE_SLOW, ACQUIRE_TIMEOUT, Applied, CONNECT_TIMEOUT, CaseFilter, Commit, CommitError,
    HistoryEvent, PendingTimer, PoolConfig, SignalSnapshot, Started, StoreError, StoredCase, db,
    history_event, stored_case,
};

mod automation;
mod review;
mod schedules;
mod tasks;
mod timers;
mod workers;

static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> = std::sync::LazyLock::new(|| {
    super::migrator(include!(concat!(
        env!("OUT_DIR"),
        "/postgres_migrations.rs"
    )))
});

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    wake: super::TaskWake,
}

/// Unique-violation names we act on.
const CASE_OPEN_KEY: &str = "cases_open_business_key";
const CASE_START_REQUEST: &str = "cases_start_request_id_key";
const EVENT_REQUEST: &str = "case_events_request";

fn violated(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            Some(e.constraint().unwrap_or_default().to_owned())
        }
        _ => None,
    }
}

/// Opens and closes one connection, turning a failure into a reason a person can act on
/// ("connection refused at db:5432", "database \"x\" does not exist") instead of a pool
/// timeout after half a minute.
async fn first_connection(options: &PgConnectOptions) -> Result<(), StoreError> {
    let at = format!("{}:{}", options.get_host(), options.get_port());
    let reason = match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(_) => format!("no answer from {at} within {CONNECT_TIMEOUT:?}"),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused at {at}")
        }
        Ok(Err(sqlx::Error::Io(e))) => format!("{at}: {e}"),
        Ok(Err(sqlx::Error::Database(e))) => format!("{at}: {}", e.message()),
        Ok(Err(e)) => format!("{at}: {e}"),
    };
    Err(StoreError::Unreachable(reason))
}

impl PgStore {
    pub async fn connect(url: &str, config: &PoolConfig) -> Result<PgStore, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(db("parsing the database url"))?;
        // NOTICEs ("relation … already exists, skipping" on every start) are not news.
        let options = options
            .log_statements(tracing::log::LevelFilter::Trace)
            .options([("client_min_messages", "warning")]);
        first_connection(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .acquire_slow_threshold(ACQUIRE_SLOW)
            .acquire_slow_level(tracing::log::LevelFilter::Warn)
            .connect_lazy_with(options);
        Ok(PgStore {
            pool,
            wake: super::TaskWake::default(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub async fn create(&self, c: &Commit) -> Result<bool, StoreError> {
        let mut children = children(c);
        let waiting = c.case.waiting.as_ref();
        let result = sqlx::query(
            "WITH ins AS (
                INSERT INTO cases (id, workflow_type, business_key, state, waiting_for, waiting_since,
                                   owner, customer_id, version, start_request_id, data, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $11)
                ON CONFLICT DO NOTHING
                RETURNING id
            ), ev AS (
                INSERT INTO case_events (case_id, seq, event_type, payload, actor_role, actor_id,
                                         request_id, at, state_after, case_after, effects,
                                         request_fingerprint)
                SELECT id, 1, $12, $13, $14, $15, $9, $11, $4, $10, $16, $26 FROM ins
            ), tm AS (
                INSERT INTO timers (case_id, name, fire_at, created_seq, action)
                SELECT ins.id, t.name, t.fire_at, 1, t.action
                FROM ins, unnest($17::text[], $18::timestamptz[], $22::jsonb[]) AS t(name, fire_at, action)
            ), tk AS (
                INSERT INTO activity_tasks (case_id, activity, input, idempotency_key, created_seq,
                                            created_at, run_at, task_queue, retry_policy)
                SELECT ins.id, t.activity, t.input, t.key, 1, $11, $11, t.queue, t.policy
                FROM ins, unnest($19::text[], $20::jsonb[], $21::text[], $24::text[], $25::jsonb[])
                     AS t(activity, input, key, queue, policy)
            )
            SELECT count(*) AS created,
                   bool_or(CASE WHEN cardinality($19::text[]) > 0
                                THEN pg_notify('aijia_tasks', array_to_string($19::text[], ','))
                           END IS NULL) AS quiet,
                   bool_or(CASE WHEN $23 THEN pg_notify('aijia_timers', '') END IS NULL) AS quiet_timers
            FROM ins",
        )
        .bind(c.case_id)
        .bind(c.case.workflow_type.as_str())
        .bind(&c.case.business_key)
        .bind(c.case.state.as_str())
        .bind(waiting.map(|w| w.party.as_str()))
        .bind(waiting.map(|w| w.since))
        .bind(&c.case.owner)
        .bind(&c.case.customer.id)
        .bind(&c.request_id)
        .bind(Json(&c.case))
        .bind(c.at)
        .bind(c.event.kind())
        .bind(Json(&c.event))
        .bind(c.actor.role.as_str())
        .bind(&c.actor.id)
        .bind(Json(&c.effects))
        .bind_arrays(&mut children)
        .bind(c.wakes_timers())
        .bind(children.queues)
        .bind(children.retry_policies)
        .bind(&c.fingerprint)
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => Ok(row.get::<i64, _>("created") == 1),
            // ON CONFLICT DO NOTHING covers most races; a racing insert that commits between
            // our check and our write still surfaces as a violation.
            Err(e)
                if matches!(
                    violated(&e).as_deref(),
                    Some(CASE_OPEN_KEY | CASE_START_REQUEST)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(db("creating a case")(e)),
        }
    }

    pub async fn commit(&self, c: &Commit) -> Result<(), CommitError> {
        let mut children = children(c);
        let waiting = c.case.waiting.as_ref();
        let row = sqlx::query(
            "WITH cl AS (
                -- A commit that settles a task ($22, see store/tasks.rs) locks the case row
                -- first and then the task row, the order every other commit takes them in.
                SELECT id FROM cases
                WHERE id = $1 AND version = $2 AND $22::jsonb IS NOT NULL
                FOR UPDATE
            ), tl AS (
                -- The task, locked if its fence still holds.
                SELECT id FROM activity_tasks
                WHERE id = ($22::jsonb->>'task_id')::bigint
                  AND claims = ($22::jsonb->>'claims')::bigint
                  AND state IN (SELECT jsonb_array_elements_text($22::jsonb->'states'))
                  AND EXISTS (SELECT 1 FROM cl)
                FOR UPDATE
            ), upd AS (
                UPDATE cases SET state = $3, waiting_for = $4, waiting_since = $5, owner = $6,
                                 version = version + 1, data = $7, updated_at = $8,
                                 needs_operator = $24
                WHERE id = $1 AND version = $2 AND ($22::jsonb IS NULL OR EXISTS (SELECT 1 FROM tl))
                  -- A decision automation shaped stands only under the version in force.
                  AND ($27::bigint IS NULL
                       OR $27 >= (SELECT coalesce(max(version), 1) FROM automation_policies))
                RETURNING id, version
            ), ev AS (
                INSERT INTO case_events (case_id, seq, event_type, payload, actor_role, actor_id,
                                         request_id, at, state_after, case_after, effects,
                                         request_fingerprint)
                SELECT id, version, $9, $10, $11, $12, $13, $8, $3, $7, $14, $30 FROM upd
            ), cancel AS (
                DELETE FROM timers
                WHERE case_id = $1 AND name = ANY($15::text[]) AND EXISTS (SELECT 1 FROM upd)
            ), tm AS (
                INSERT INTO timers (case_id, name, fire_at, created_seq, action)
                SELECT upd.id, t.name, t.fire_at, upd.version, t.action
                FROM upd, unnest($16::text[], $17::timestamptz[], $21::jsonb[]) AS t(name, fire_at, action)
                ON CONFLICT (case_id, name)
                DO UPDATE SET fire_at = EXCLUDED.fire_at, created_seq = EXCLUDED.created_seq,
                              action = EXCLUDED.action, locked_until = NULL
            ), tk AS (
                INSERT INTO activity_tasks (case_id, activity, input, idempotency_key, created_seq,
                                            created_at, run_at, task_queue, retry_policy)
                SELECT upd.id, t.activity, t.input, t.key, upd.version, $8, $8, t.queue, t.policy
                FROM upd, unnest($18::text[], $19::jsonb[], $20::text[], $28::text[], $29::jsonb[])
                     AS t(activity, input, key, queue, policy)
            ), tu AS (
                UPDATE activity_tasks t
                SET state = $22::jsonb->>'state',
                    result = coalesce($22::jsonb->'result', t.result),
                    last_error = coalesce($22::jsonb->'error', t.last_error),
                    attempts = CASE WHEN ($22::jsonb->>'reset')::boolean THEN 0 ELSE t.attempts END,
                    run_at = CASE WHEN ($22::jsonb->>'reset')::boolean THEN $8 ELSE t.run_at END,
                    lease_owner = CASE WHEN ($22::jsonb->>'reset')::boolean THEN NULL ELSE t.lease_owner END,
                    lease_expires_at = CASE WHEN ($22::jsonb->>'reset')::boolean THEN NULL ELSE t.lease_expires_at END,
                    completed_at = CASE WHEN ($22::jsonb->>'reset')::boolean THEN NULL ELSE $8 END,
                    updated_at = $8
                FROM tl WHERE t.id = tl.id AND EXISTS (SELECT 1 FROM upd)
            ), tc AS (
                -- A cancelled case cancels its pending and running tasks.
                UPDATE activity_tasks SET state = 'cancelled', completed_at = $8, updated_at = $8
                WHERE case_id = $1 AND $23 AND state IN ('pending', 'running')
                  AND id NOT IN (SELECT id FROM tl) AND EXISTS (SELECT 1 FROM upd)
            ), dr AS (
                -- The review queue index rows of the drafts this transition changed.
                INSERT INTO drafts (case_id, number, status, action_type, templated, reason,
                                    automation_version, assignee_kind, assignee, submitted_at,
                                    decided_at, waited_us)
                SELECT upd.id, d.number, d.status, d.action_type, d.templated, d.reason,
                       d.automation_version, d.assignee_kind, d.assignee, d.submitted_at,
                       d.decided_at, d.waited_us
                FROM upd, jsonb_to_recordset($26::jsonb) AS d(
                    number integer, status text, action_type text, templated boolean,
                    reason text, automation_version bigint, assignee_kind text, assignee text,
                    submitted_at timestamptz, decided_at timestamptz, waited_us bigint)
                ON CONFLICT (case_id, number) DO UPDATE
                SET status = EXCLUDED.status, assignee_kind = EXCLUDED.assignee_kind,
                    assignee = EXCLUDED.assignee, decided_at = EXCLUDED.decided_at,
                    waited_us = EXCLUDED.waited_us
            )
            SELECT version,
                   -- The payload names the activity types enqueued; empty means: any type.
                   CASE WHEN ($22::jsonb->>'reset')::boolean THEN pg_notify('aijia_tasks', '')
                        WHEN cardinality($18::text[]) > 0
                        THEN pg_notify('aijia_tasks', array_to_string($18::text[], ','))
                   END IS NULL AS quiet,
                   CASE WHEN $25 THEN pg_notify('aijia_timers', '') END IS NULL AS quiet_timers
            FROM upd",
        )
        .bind(c.case_id)
        .bind(c.base_version)
        .bind(c.case.state.as_str())
        .bind(waiting.map(|w| w.party.as_str()))
        .bind(waiting.map(|w| w.since))
        .bind(&c.case.owner)
        .bind(Json(&c.case))
        .bind(c.at)
        .bind(c.event.kind())
        .bind(Json(&c.event))
        .bind(c.actor.role.as_str())
        .bind(&c.actor.id)
        .bind(&c.request_id)
        .bind(Json(&c.effects))
        .bind(&c.timers_to_cancel)
        .bind_arrays(&mut children)
        .bind(c.task_update.as_ref().map(|u| Json(u.param())))
        .bind(c.cancel_tasks)
        .bind(c.needs_operator())
        .bind(c.wakes_timers())
        .bind(Json(&c.drafts))
        .bind(c.automation_fence)
        .bind(children.queues)
        .bind(children.retry_policies)
        .bind(&c.fingerprint)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| match violated(&e).as_deref() {
            Some(EVENT_REQUEST) => CommitError::DuplicateRequest,
            _ => db("committing a transition")(e).into(),
        })?;
        match row {
            Some(_) => Ok(()),
            None => Err(CommitError::VersionConflict),
        }
    }

    pub async fn find_started(
        &self,
        request_id: &str,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<Option<Started>, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.version, c.data, c.start_request_id = $1 AS by_request, e.case_after,
                    e.request_fingerprint
             FROM cases c JOIN case_events e ON e.case_id = c.id AND e.seq = 1
             WHERE c.start_request_id = $1
                OR (c.workflow_type = $2 AND c.business_key = $3
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
        let id: Uuid = row.get("id");
        Ok(Some(if row.get::<bool, _>("by_request") {
            Started::ByRequest(Applied {
                case_id: id,
                seq: 1,
                case_after: row.json("case_after")?,
                fingerprint: row.opt_text("request_fingerprint")?,
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
             FROM cases c LEFT JOIN case_events e ON e.case_id = c.id AND e.request_id = $2
             WHERE c.id = $1",
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
                case_after: row.json("case_after")?,
                fingerprint: row.opt_text("request_fingerprint")?,
            }),
            None => None,
        };
        Ok(SignalSnapshot {
            case: Some(stored_case(&row)?),
            prior,
        })
    }

    pub async fn get(&self, case_id: Uuid) -> Result<Option<StoredCase>, StoreError> {
        sqlx::query("SELECT id, version, data FROM cases WHERE id = $1")
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
             WHERE workflow_type = $1 AND business_key = $2
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
             WHERE ($1::text IS NULL OR state = $1)
               AND ($2::text IS NULL OR waiting_for = $2)
               AND ($3::text IS NULL OR workflow_type = $3)
               AND ($4::text IS NULL OR owner = $4)
               AND ($5::text IS NULL OR customer_id = $5)
               AND ($6::timestamptz IS NULL OR waiting_since <= $6)
               AND ($7::uuid IS NULL OR id < $7)
               AND ($9::boolean IS NULL OR needs_operator = $9)
             ORDER BY id DESC
             LIMIT $8",
        )
        .bind(&f.state)
        .bind(&f.waiting_for)
        .bind(&f.workflow_type)
        .bind(&f.owner)
        .bind(&f.customer_id)
        .bind(f.waiting_since_before)
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
        let rows = sqlx::query(
            "SELECT case_id, name, fire_at FROM timers WHERE case_id = ANY($1) ORDER BY fire_at, name",
        )
        .bind(case_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading timers"))?;
        let mut by_case: HashMap<Uuid, Vec<PendingTimer>> = HashMap::new();
        for row in rows {
            by_case
                .entry(row.get("case_id"))
                .or_default()
                .push(PendingTimer {
                    name: row.get("name"),
                    fire_at: row.get::<DateTime<Utc>, _>("fire_at"),
                });
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
             FROM case_events WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
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

/// The timers and tasks of a commit as parallel arrays, for `unnest`.
struct Children {
    timer_names: Vec<String>,
    timer_times: Vec<DateTime<Utc>>,
    timer_actions: Vec<Json<serde_json::Value>>,
    activities: Vec<String>,
    inputs: Vec<Json<serde_json::Value>>,
    keys: Vec<String>,
    queues: Vec<String>,
    retry_policies: Vec<Json<serde_json::Value>>,
}

/// Binds a commit's timer and task arrays in the order both commit statements number them:
/// timer names, timer times, activities, inputs, idempotency keys, timer actions.
trait BindArrays<'q> {
    fn bind_arrays(self, children: &mut Children) -> Self;
}

impl<'q> BindArrays<'q> for sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_arrays(self, c: &mut Children) -> Self {
        self.bind(std::mem::take(&mut c.timer_names))
            .bind(std::mem::take(&mut c.timer_times))
            .bind(std::mem::take(&mut c.activities))
            .bind(std::mem::take(&mut c.inputs))
            .bind(std::mem::take(&mut c.keys))
            .bind(std::mem::take(&mut c.timer_actions))
    }
}

fn children(c: &Commit) -> Children {
    Children {
        timer_names: c.timers_to_start.iter().map(|t| t.name.clone()).collect(),
        timer_times: c.timers_to_start.iter().map(|t| t.fire_at).collect(),
        timer_actions: c
            .timers_to_start
            .iter()
            .map(|t| Json(t.action.clone()))
            .collect(),
        activities: c.tasks.iter().map(|t| t.activity.clone()).collect(),
        inputs: c.tasks.iter().map(|t| Json(t.input.clone())).collect(),
        keys: c.task_keys(),
        queues: c.tasks.iter().map(|t| t.task_queue.clone()).collect(),
        retry_policies: c
            .tasks
            .iter()
            .map(|t| Json(serde_json::to_value(&t.retry_policy).unwrap_or_default()))
            .collect(),
    }
}
