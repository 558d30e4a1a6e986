//! Durable storage of cases, their history, timers, activity tasks and the workers that poll
//! for them.
//!
//! Two back ends, one behaviour: PostgreSQL for production and SQLite as the embedded default.
//! The engine never sees SQL; it hands a [`Commit`] (everything one transition writes) to
//! [`Store::commit`], which writes it atomically or not at all.

/// Runs `$body` on whichever back end the store is, binding it to `$s`. Defined before the
/// submodules so every `impl Store` block below uses this one.
macro_rules! dispatch {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            Store::Postgres($s) => $body,
            Store::Sqlite($s) => $body,
        }
    };
}

pub mod automation;
mod columns;
mod postgres;
pub mod review;
mod schedules;
mod sqlite;
mod tasks;
mod time;
mod timers;
mod workers;

use std::collections::HashMap;

use aijia_activities::{RetryPolicy, TaskPolicy};
use aijia_workflows::{Actor, Case, CaseState, Decision, Effect, Event};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::RequestId;
use columns::Columns;
pub use postgres::PgStore;
pub use schedules::{CreatedSchedule, FireRecord, ScheduleChange, StoredSchedule};
pub use sqlite::SqliteStore;
pub use tasks::{
    ClaimSpec, DEFAULT_QUEUE, TASKS_CHANNEL, TaskChange, TaskError, TaskFilter, TaskRow,
    TaskSnapshot, TaskState, TaskUpdate, TaskWake,
};
pub use timers::{DueTimer, NewTimer, TIMERS_CHANNEL};
pub use workers::{WorkerPoll, WorkerRow};

/// The messages include their cause's and name no source, so that a chain printed whole
/// (`{:#}`) says each thing once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {context}: {cause}")]
    Database {
        context: &'static str,
        // Not `source`: the message above already says it.
        cause: sqlx::Error,
    },
    #[error("migrating the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("stored {what} could not be decoded: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("unsupported database url {0:?}: use postgres://… or sqlite:…")]
    UnsupportedUrl(String),
    /// The first connection failed: why, in words a person can act on.
    #[error("cannot connect to the database: {0}")]
    Unreachable(String),
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(err)
    }
}

/// What kind of failure a store error is, which decides what a client is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database cannot be reached or has no connection free: retry later.
    Unavailable,
    /// The statement lost to concurrent work (serialization failure, deadlock, lock or
    /// statement timeout, SQLite busy): retry the call.
    Contention,
    /// The database refused a value the request carried (SQLSTATE class 22).
    BadData,
    /// Anything else: a fault on our side.
    Internal,
}

impl StoreError {
    /// What a client may be told, logging the details at ERROR under a fresh error id that the
    /// answer quotes: a stable sentence for the kind of failure, never database text.
    pub fn reported(&self) -> String {
        let error_id = Uuid::now_v7().simple().to_string();
        tracing::error!(%error_id, error = %self, "storage failure");
        let what = match self.failure() {
            Failure::Unavailable => "the database is unavailable; retry later",
            Failure::Contention => "the database gave way to concurrent work; retry the call",
            Failure::BadData => {
                "the database refused a value in this request (text that is not valid UTF-8 \
                 or holds a NUL byte, a number or date out of range); correct the request"
            }
            Failure::Internal => {
                "internal error; an operator can find the details in the server log"
            }
        };
        format!("{what} (error id {error_id})")
    }

    pub fn failure(&self) -> Failure {
        match self {
            StoreError::Database { cause, .. } => failure_of(cause),
            StoreError::Unreachable(_) => Failure::Unavailable,
            StoreError::Migrate(_) | StoreError::Corrupt { .. } | StoreError::UnsupportedUrl(_) => {
                Failure::Internal
            }
        }
    }
}

fn failure_of(err: &sqlx::Error) -> Failure {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Failure::Unavailable,
        sqlx::Error::Database(e) => e.code().map_or(Failure::Internal, |c| failure_of_code(&c)),
        _ => Failure::Internal,
    }
}

/// By PostgreSQL SQLSTATE (always five characters) or SQLite extended result code.
fn failure_of_code(code: &str) -> Failure {
    if code.len() != 5 {
        // SQLite: the primary code is the low byte; 5 is SQLITE_BUSY, 6 SQLITE_LOCKED.
        return match code.parse::<u32>().map(|c| c & 0xff) {
            Ok(5 | 6) => Failure::Contention,
            _ => Failure::Internal,
        };
    }
    match code {
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled (a
        // statement or lock timeout)
        "40001" | "40P01" | "55P03" | "57014" => Failure::Contention,
        // connection exceptions, insufficient resources (too many connections), server
        // shutting down or starting
        c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") => {
            Failure::Unavailable
        }
        c if c.starts_with("22") => Failure::BadData,
        _ => Failure::Internal,
    }
}

/// The connection pool. PostgreSQL allows 100 connections by default; at 10 per process
/// (the default) ten nodes fit, and a process's statements are short (one round trip per
/// transition), so a few connections keep its cores busy. Two of them are held for good by
/// the `LISTEN`s for timer and task wake-ups, hence at least 3. SQLite has one writer and
/// keeps a small pool of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    pub max_connections: u32,
}

/// What `--db-max-connections` accepts.
pub const MAX_CONNECTIONS: std::ops::RangeInclusive<u32> = 3..=1000;

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 10,
        }
    }
}

/// How long the first connection may take before the database counts as unreachable.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// A call waiting longer than this for a free connection is logged (WARN): the pool is too
/// small for the load, or the database is slow.
pub const ACQUIRE_SLOW: std::time::Duration = std::time::Duration::from_secs(1);
/// A call waiting this long for a connection fails with UNAVAILABLE.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A back end's migrations as `build.rs` lists them: (version, description, SQL).
type MigrationFiles = &'static [(i64, &'static str, &'static str)];

/// The migrator of one back end, with its migration files embedded in the binary. Versions,
/// descriptions, checksums and the `-- no-transaction` opt-out are those sqlx's `migrate!`
/// gives the same files, so databases migrated by earlier builds stay valid.
pub(crate) fn migrator(files: MigrationFiles) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    Migrator::with_migrations(
        files
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect(),
    )
}

/// Wraps a sqlx error with what the store was doing.
pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |cause| StoreError::Database { context, cause }
}

pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

/// A case row: `id, version, data`.
pub(crate) fn stored_case(row: &impl Columns) -> Result<StoredCase, StoreError> {
    Ok(StoredCase {
        id: row.uuid("id")?,
        version: row.int("version")?,
        case: row.json("data")?,
    })
}

/// A history row: `seq, payload, actor_role, actor_id, request_id, at, case_after, effects`.
pub(crate) fn history_event(row: &impl Columns) -> Result<HistoryEvent, StoreError> {
    Ok(HistoryEvent {
        seq: row.int("seq")?,
        event: row.json("payload")?,
        actor: actor(row.text("actor_role")?, row.text("actor_id")?)?,
        request_id: row.text("request_id")?,
        at: row.time("at")?,
        case_after: row.json("case_after")?,
        effects: row.json("effects")?,
    })
}

pub(crate) fn actor(role: String, id: String) -> Result<Actor, StoreError> {
    let role = role
        .parse()
        .map_err(|e: aijia_workflows::ParseError| StoreError::Corrupt {
            what: "actor role",
            detail: e.to_string(),
        })?;
    Ok(Actor { role, id })
}

pub(crate) fn encode_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing our own plain data types cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// A case as stored: the state machine's view plus the store's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub id: Uuid,
    pub version: i64,
    pub case: Case,
}

/// A pending timer of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTimer {
    pub name: String,
    pub fire_at: DateTime<Utc>,
}

/// One history event as stored.
#[derive(Debug, Clone)]
pub struct HistoryEvent {
    pub seq: i64,
    pub event: Event,
    pub actor: Actor,
    pub request_id: String,
    pub at: DateTime<Utc>,
    pub case_after: Case,
    pub effects: Vec<Effect>,
}

/// The answer a state change gave; a retried request gets the same one back.
#[derive(Debug, Clone)]
pub struct Applied {
    pub case_id: Uuid,
    pub seq: i64,
    pub case_after: Case,
    /// The fingerprint of the request that got this answer, if it had one.
    pub fingerprint: Option<String>,
}

/// A case that a start request finds already there.
#[derive(Debug, Clone)]
pub enum Started {
    /// This request id started it: the first answer.
    ByRequest(Applied),
    /// Another request started an open case with the same business key.
    OpenCase(StoredCase),
}

/// What a caller's request id already produced on a case, if anything, and the case itself.
#[derive(Debug, Clone)]
pub struct SignalSnapshot {
    pub case: Option<StoredCase>,
    pub prior: Option<Applied>,
}

/// Everything one transition writes, derived from a [`Decision`].
#[derive(Debug, Clone)]
pub struct Commit {
    pub case_id: Uuid,
    /// The version the decision was taken on; 0 for a new case.
    pub base_version: i64,
    pub event: Event,
    pub actor: Actor,
    pub request_id: String,
    /// The fingerprint of the caller's request, kept with the event (`ids::RequestId`).
    pub fingerprint: Option<String>,
    pub at: DateTime<Utc>,
    pub case: Case,
    pub effects: Vec<Effect>,
    pub timers_to_start: Vec<NewTimer>,
    /// Timers to delete; never names one that `timers_to_start` replaces.
    pub timers_to_cancel: Vec<String>,
    /// The activity tasks to enqueue, in the order asked.
    pub tasks: Vec<NewTask>,
    /// A task this transition settles, fenced (see [`TaskUpdate`]); written only with the case.
    pub task_update: Option<TaskUpdate>,
    /// The case ends cancelled: its pending and running tasks are cancelled in the same commit.
    pub cancel_tasks: bool,
    /// The review queue index rows of the drafts this transition added or changed (a start
    /// has none: drafts come from later events).
    pub drafts: Vec<review::DraftRow>,
    /// The automation policy version the decision was taken under, for a decision that
    /// automation shaped: it commits only if no newer version is in force (otherwise
    /// [`CommitError::VersionConflict`]).
    pub automation_fence: Option<i64>,
}

impl Commit {
    pub fn new(
        case_id: Uuid,
        base_version: i64,
        event: Event,
        actor: Actor,
        request_id: &RequestId,
        at: DateTime<Utc>,
        decision: Decision,
    ) -> Commit {
        let mut timers_to_start: Vec<NewTimer> = Vec::new();
        let mut timers_to_cancel = Vec::new();
        let mut tasks = Vec::new();
        for effect in &decision.effects {
            match effect {
                Effect::StartTimer {
                    key,
                    fire_at,
                    action,
                } => {
                    let name = key.name();
                    timers_to_start.retain(|t| t.name != name);
                    timers_to_start.push(NewTimer {
                        name,
                        fire_at: *fire_at,
                        action: serde_json::to_value(action).unwrap_or_default(),
                    });
                }
                Effect::CancelTimer { key } => timers_to_cancel.push(key.name()),
                Effect::EnqueueActivity { activity, input } => tasks.push(NewTask {
                    activity: activity.clone(),
                    input: input.clone(),
                    task_queue: DEFAULT_QUEUE.to_owned(),
                    retry_policy: RetryPolicy::default(),
                }),
                Effect::RequestReview { .. } | Effect::RecordEvidence { .. } => {}
            }
        }
        // A timer that fires is used up, unless the decision starts it again.
        if let Some(fired) = timers::fired_key(&event) {
            timers_to_cancel.push(fired);
        }
        timers_to_cancel.retain(|name| timers_to_start.iter().all(|t| &t.name != name));
        let cancel_tasks = decision.case.state == CaseState::Cancelled;
        let drafts = decision
            .drafts_changed
            .iter()
            .filter_map(|&n| decision.case.rails.draft(n))
            .map(review::DraftRow::of)
            .collect();
        Commit {
            case_id,
            base_version,
            event,
            actor,
            request_id: request_id.as_str().to_owned(),
            fingerprint: request_id.fingerprint().map(str::to_owned),
            at,
            case: decision.case,
            effects: decision.effects,
            timers_to_start,
            timers_to_cancel,
            tasks,
            task_update: None,
            cancel_tasks,
            drafts,
            automation_fence: None,
        }
    }

    /// Queues and retries the tasks as `policy` says for their activity types.
    pub fn apply_task_policy(&mut self, policy: &TaskPolicy) {
        for task in &mut self.tasks {
            let options = policy.for_activity(&task.activity);
            task.task_queue.clone_from(&options.queue);
            task.retry_policy = options.retry.clone();
        }
    }

    /// The history sequence number this commit's event gets.
    pub fn seq(&self) -> i64 {
        self.base_version + 1
    }

    /// The answer this commit gives, once written.
    pub fn applied(&self) -> Applied {
        Applied {
            case_id: self.case_id,
            seq: self.seq(),
            case_after: self.case.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// The idempotency keys of the tasks, in order: unique per case, event and position, so a
    /// task is enqueued once however often its transition is retried.
    pub fn task_keys(&self) -> Vec<String> {
        let seq = self.seq();
        self.tasks
            .iter()
            .enumerate()
            .map(|(i, task)| format!("{}:{seq}:{i}:{}", self.case_id, task.activity))
            .collect()
    }
}

/// An activity task a transition enqueues.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub activity: String,
    pub input: serde_json::Value,
    pub task_queue: String,
    pub retry_policy: RetryPolicy,
}

/// Why a commit did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Another writer moved the case past `base_version` first.
    #[error("the case changed concurrently")]
    VersionConflict,
    /// This request id was applied concurrently (by a racing retry).
    #[error("the request id was applied concurrently")]
    DuplicateRequest,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Filters of `ListCases`; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<String>,
    pub waiting_for: Option<String>,
    pub workflow_type: Option<String>,
    pub owner: Option<String>,
    pub customer_id: Option<String>,
    /// Only cases whose current wait began at or before this time.
    pub waiting_since_before: Option<DateTime<Utc>>,
    /// Only cases with an id below this one (the page cursor).
    pub before_id: Option<Uuid>,
    /// Only cases that need (true) or do not need (false) an operator.
    pub needs_operator: Option<bool>,
    pub limit: u32,
}

/// The store: one of the two back ends.
#[derive(Debug, Clone)]
pub enum Store {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

impl Store {
    /// Connects to `postgres://…` or `sqlite:…` (created if missing) with the default pool,
    /// and applies migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, &PoolConfig::default()).await
    }

    /// Like [`Store::connect`], with this pool. Connects once at once, so that a database
    /// that is down or missing is reported within [`CONNECT_TIMEOUT`] with the reason.
    pub async fn connect_with(url: &str, pool: &PoolConfig) -> Result<Store, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::Postgres(PgStore::connect(url, pool).await?)
        } else if url.starts_with("sqlite:") {
            Store::Sqlite(SqliteStore::connect(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Postgres(_) => "postgres",
            Store::Sqlite(_) => "sqlite",
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.migrate().await)
    }

    /// One trivial statement, for the health answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => sqlx::query("SELECT 1").execute(s.pool()).await.map(drop))
            .map_err(db("pinging the database"))
    }

    /// Writes a new case (its `base_version` is 0) with its first event, timers and tasks.
    /// False, and nothing written, when the start request id or an open case with the same
    /// workflow type and business key already exists.
    pub async fn create(&self, commit: &Commit) -> Result<bool, StoreError> {
        let created = dispatch!(self, s => s.create(commit).await)?;
        if created {
            self.after_commit(commit);
        }
        Ok(created)
    }

    /// Writes one transition if the case is still at `commit.base_version`.
    pub async fn commit(&self, commit: &Commit) -> Result<(), CommitError> {
        dispatch!(self, s => s.commit(commit).await)?;
        self.after_commit(commit);
        Ok(())
    }

    /// What a start request id produced, or else the open case with this business key.
    pub async fn find_started(
        &self,
        request_id: &str,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<Option<Started>, StoreError> {
        dispatch!(self, s => s.find_started(request_id, workflow_type, business_key).await)
    }

    /// The case and what `request_id` already produced on it, in one read.
    pub async fn signal_snapshot(
        &self,
        case_id: Uuid,
        request_id: &str,
    ) -> Result<SignalSnapshot, StoreError> {
        dispatch!(self, s => s.signal_snapshot(case_id, request_id).await)
    }

    pub async fn get(&self, case_id: Uuid) -> Result<Option<StoredCase>, StoreError> {
        dispatch!(self, s => s.get(case_id).await)
    }

    /// The case with this business key: the open one, else the most recently opened.
    pub async fn get_by_business_key(
        &self,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<Option<StoredCase>, StoreError> {
        dispatch!(self, s => s.get_by_business_key(workflow_type, business_key).await)
    }

    pub async fn list(&self, filter: &CaseFilter) -> Result<Vec<StoredCase>, StoreError> {
        dispatch!(self, s => s.list(filter).await)
    }

    pub async fn pending_timers(
        &self,
        case_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<PendingTimer>>, StoreError> {
        dispatch!(self, s => s.pending_timers(case_ids).await)
    }

    /// History events with `seq > after`, oldest first, at most `limit`.
    pub async fn history(
        &self,
        case_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        dispatch!(self, s => s.history(case_id, after, limit).await)
    }
}
