//! The engine: load a case, let `aijia_workflows` decide, write the decision in one atomic
//! commit. It owns idempotency (request ids), concurrency (optimistic versions with retry) and
//! the mapping of refusals to errors; it knows nothing of gRPC or SQL.

mod automation;
mod cache;
mod identity;
mod review;
mod schedules;
mod tasks;
mod timers;
mod waits;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use aijia_activities::TaskPolicy;
use aijia_workflows::{Actor, Case, Event, NewCase, Recorded, Refusal, ReplayOutcome, TimerPolicy};
use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::Notify;
use tracing::{info, instrument};

use crate::clock::Clock;
use crate::ids::{CaseId, RequestId, RequestReused};
use crate::store::{
    Applied, CaseFilter, Commit, CommitError, HistoryEvent, PendingTimer, Started, Store,
    StoreError, StoredCase,
};

pub use automation::{
    InForce, PolicyOverview, RailsConfig, ReplayEntry, ReplayReport, RouteTotals,
};
pub use review::{DraftSubmission, RailsError, ReviewCursor, ReviewFilter, ReviewItem};
pub use schedules::{ChangedBy, ScheduleRef, ScheduleRefusal, ScheduleView};
pub use tasks::{
    ClaimedTask, LEASE_EXPIRED, TaskAction, TaskCompletion, TaskFailure, TaskHeartbeat, TaskToken,
};
pub use timers::TimerOutcome;
pub use waits::{PendingWork, TaskWait};
pub use workers::WorkerView;

/// The time `age` before `now`: where an age filter ("waiting longer than", "older than")
/// cuts. Clamped at the epoch, before which nothing was stored, so an age reaching past the
/// calendar matches nothing instead of overflowing.
pub(crate) fn cut_off(now: DateTime<Utc>, age: chrono::TimeDelta) -> DateTime<Utc> {
    now.checked_sub_signed(age).unwrap_or(DateTime::UNIX_EPOCH)
}

/// How often a signal is retried when other writers keep moving the case under it.
const MAX_ATTEMPTS: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("case {0} not found")]
    NotFound(CaseId),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("case {case_id} is at version {actual}, not the expected {expected}")]
    VersionConflict {
        case_id: CaseId,
        expected: i64,
        actual: i64,
    },
    #[error("case {0} is changing too fast to apply this event; retry with the same request id")]
    Contended(CaseId),
    #[error("task {0} not found")]
    TaskNotFound(i64),
    #[error("task {task_id} is {state}; this needs a task that is {wanted}")]
    TaskNotInState {
        task_id: i64,
        state: crate::store::TaskState,
        wanted: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Schedule(ScheduleRefusal),
    #[error(transparent)]
    RequestReused(#[from] RequestReused),
    #[error("no {workflow_type} case has business key {business_key:?}")]
    NoCaseWithKey {
        workflow_type: String,
        business_key: String,
    },
}

/// A case as callers see it: the state machine's case plus id, version and pending timers,
/// and (GetCase only) what its open drafts and unfinished tasks wait for.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub id: CaseId,
    pub version: i64,
    pub case: Case,
    pub timers: Vec<PendingTimer>,
    pub pending: PendingWork,
}

/// The answer to a state change.
#[derive(Debug, Clone)]
pub struct Change {
    pub view: CaseView,
    pub event_seq: i64,
    /// True when the request id had already been applied: this is the first answer again.
    pub duplicate: bool,
}

impl Change {
    fn from_applied(applied: Applied, duplicate: bool) -> Change {
        Change {
            view: CaseView {
                id: CaseId(applied.case_id),
                version: applied.seq,
                case: applied.case_after,
                timers: Vec::new(),
                pending: PendingWork::default(),
            },
            event_seq: applied.seq,
            duplicate,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignalRequest {
    pub request_id: RequestId,
    pub case_id: CaseId,
    pub actor: Actor,
    pub expected_version: Option<i64>,
    pub event: Event,
}

#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
    policy: Arc<TimerPolicy>,
    /// Woken when a commit starts a timer that is due soon, so the timer loop need not wait
    /// for its next poll.
    timer_wake: Arc<Notify>,
    /// Names this engine in the history events it makes on its own (timer fires), so an
    /// operator can tell which process did the work.
    node: Arc<str>,
    /// Safety rails: their configuration and the compiled risk policies (`automation/`).
    rails: Arc<automation::RailsState>,
    /// The cases this process last committed or read (`cache.rs`).
    cases: Arc<cache::CaseCache>,
    /// Which queue each activity type's tasks go to and how they are retried.
    task_policy: Arc<TaskPolicy>,
    /// When this process last recorded each worker's polls (`workers.rs`).
    polls: Arc<workers::PollRecord>,
}

impl Engine {
    pub fn new(store: Store, clock: Arc<dyn Clock>, policy: TimerPolicy) -> Engine {
        Engine {
            store,
            clock,
            policy: Arc::new(policy),
            timer_wake: Arc::new(Notify::new()),
            node: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::now_v7().simple().to_string()[26..]
            )
            .into(),
            rails: Arc::new(automation::RailsState::new(RailsConfig::default())),
            cases: Arc::default(),
            task_policy: Arc::new(TaskPolicy::builtin()),
            polls: Arc::default(),
        }
    }

    /// This engine with its tasks queued and retried as `policy` says.
    pub fn with_task_policy(mut self, policy: TaskPolicy) -> Engine {
        self.task_policy = Arc::new(policy);
        self
    }

    pub fn task_policy(&self) -> &TaskPolicy {
        &self.task_policy
    }

    /// This engine with the safety rails configured as given.
    pub fn with_rails(mut self, config: RailsConfig) -> Engine {
        self.rails = Arc::new(automation::RailsState::new(config));
        self
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn timer_wake(&self) -> &Arc<Notify> {
        &self.timer_wake
    }

    /// Writes a transition, its tasks queued and retried as the task policy says, and tells
    /// this process what it changed.
    async fn commit(&self, commit: &mut Commit) -> Result<(), CommitError> {
        commit.apply_task_policy(&self.task_policy);
        self.store.commit(commit).await?;
        self.after_commit(commit);
        Ok(())
    }

    fn after_commit(&self, commit: &Commit) {
        if commit.wakes_timers() {
            self.timer_wake.notify_one();
        }
        self.cases.put(Arc::new(StoredCase {
            id: commit.case_id,
            version: commit.seq(),
            case: commit.case.clone(),
        }));
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Opens a case, or returns the one this request id (or this business key) already opened.
    /// The flag is true only when this call created the case; `duplicate` is true when this
    /// request id had opened it before.
    #[instrument(skip_all, fields(workflow_type = %new.workflow_type, business_key = %new.business_key))]
    pub async fn start_case(
        &self,
        request_id: RequestId,
        new: NewCase,
        actor: Actor,
    ) -> Result<(Change, bool), EngineError> {
        // Bad per-case timer overrides are refused here; the core itself ignores them.
        self.policy
            .with_overrides_for(new.workflow_type, &new.attributes)
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        loop {
            if let Some(found) = self
                .store
                .find_started(
                    request_id.as_str(),
                    new.workflow_type.as_str(),
                    &new.business_key,
                )
                .await?
            {
                return found_started(&request_id, found);
            }
            let now = self.clock.now();
            let case_id = CaseId::new();
            let decision = aijia_workflows::start(&new, now, &self.policy);
            let mut commit = Commit::new(
                case_id.0,
                0,
                Event::Started(new.clone()),
                actor.clone(),
                &request_id,
                now,
                decision,
            );
            commit.apply_task_policy(&self.task_policy);
            if self.store.create(&commit).await? {
                info!(case_id = %case_id, workflow_type = %new.workflow_type, "case started");
                self.after_commit(&commit);
                return Ok((Change::from_applied(commit.applied(), false), true));
            }
            // A racing request got there first: go round and return what it made.
        }
    }

    /// Applies one event to a case, exactly once per request id. The case this process last
    /// committed is decided on without reading it (`cache.rs`), so the commit is usually the
    /// only round trip; anything but a successful commit on a cached case is checked against
    /// a fresh read before it is answered.
    #[instrument(skip_all, fields(case_id = %req.case_id, event = req.event.kind()))]
    pub async fn signal(&self, req: SignalRequest) -> Result<Change, EngineError> {
        let mut cached = self.cases.get(req.case_id.0);
        let mut failed_commits = 0u32;
        for attempt in 0..MAX_ATTEMPTS {
            let from_cache = cached.is_some();
            let stored = match cached.take() {
                Some(stored) => stored,
                None => {
                    let snapshot = self
                        .store
                        .signal_snapshot(req.case_id.0, req.request_id.as_str())
                        .await?;
                    if let Some(prior) = snapshot.prior {
                        req.request_id.answers_to(prior.fingerprint.as_deref())?;
                        return Ok(Change::from_applied(prior, true));
                    }
                    let stored = Arc::new(snapshot.case.ok_or(EngineError::NotFound(req.case_id))?);
                    self.cases.put(Arc::clone(&stored));
                    stored
                }
            };
            if let Some(expected) = req.expected_version
                && expected != stored.version
            {
                if from_cache {
                    continue;
                }
                return Err(EngineError::VersionConflict {
                    case_id: req.case_id,
                    expected,
                    actual: stored.version,
                });
            }
            let now = self.clock.now();
            let decision =
                match aijia_workflows::decide(&stored.case, &req.event, now, &self.policy) {
                    Ok(decision) => decision,
                    Err(_) if from_cache => continue,
                    Err(refusal) => {
                        info!(case_id = %req.case_id, event = req.event.kind(),
                              state = %stored.case.state, "signal refused");
                        return Err(refusal.into());
                    }
                };
            // A decision automation shaped commits only under the automation version in
            // force (the commit is fenced on it); once a commit failed, a case behind that
            // version catches up first (`automation/catch_up.rs`).
            let governed = automation::governed(&decision);
            if governed && failed_commits > 0 && self.automation_catch_up(&stored).await? {
                continue;
            }
            let mut commit = Commit::new(
                req.case_id.0,
                stored.version,
                req.event.clone(),
                req.actor.clone(),
                &req.request_id,
                now,
                decision,
            );
            if governed {
                commit.automation_fence = Some(stored.case.rails.automation_stamp().version);
            }
            match self.commit(&mut commit).await {
                Ok(()) => {
                    info!(case_id = %req.case_id, event = req.event.kind(), seq = commit.seq(),
                          state = %commit.case.state, "signal applied");
                    return Ok(Change::from_applied(commit.applied(), false));
                }
                Err(CommitError::VersionConflict | CommitError::DuplicateRequest) if from_cache => {
                    failed_commits += 1;
                    self.cases.forget(req.case_id.0);
                }
                Err(CommitError::VersionConflict) if req.expected_version.is_some() => {
                    let actual = self
                        .store
                        .get(req.case_id.0)
                        .await?
                        .map_or(0, |c| c.version);
                    return Err(EngineError::VersionConflict {
                        case_id: req.case_id,
                        expected: stored.version,
                        actual,
                    });
                }
                // Someone else moved the case, or a racing retry of this very request won:
                // read again and decide again (the next read finds the prior answer if so).
                Err(CommitError::VersionConflict | CommitError::DuplicateRequest) => {
                    failed_commits += 1;
                    backoff(attempt).await;
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(EngineError::Contended(req.case_id))
    }

    pub async fn get(&self, case_id: CaseId) -> Result<CaseView, EngineError> {
        let stored = self
            .store
            .get(case_id.0)
            .await?
            .ok_or(EngineError::NotFound(case_id))?;
        let mut view = self.with_timers(vec![stored]).await?.remove(0);
        view.pending = self.pending_work(case_id, &view.case).await?;
        Ok(view)
    }

    /// The case with this business key: the open one if any (there is at most one), else the
    /// most recently opened closed one.
    pub async fn get_by_business_key(
        &self,
        workflow_type: &str,
        business_key: &str,
    ) -> Result<CaseView, EngineError> {
        let stored = self
            .store
            .get_by_business_key(workflow_type, business_key)
            .await?
            .ok_or_else(|| EngineError::NoCaseWithKey {
                workflow_type: workflow_type.to_owned(),
                business_key: business_key.to_owned(),
            })?;
        Ok(self.with_timers(vec![stored]).await?.remove(0))
    }

    pub async fn list(&self, filter: &CaseFilter) -> Result<Vec<CaseView>, EngineError> {
        let cases = self.store.list(filter).await?;
        self.with_timers(cases).await
    }

    /// The cut-off for "waiting longer than `age`", as of now (see [`cut_off`]).
    pub fn waiting_since_before(&self, age: chrono::TimeDelta) -> DateTime<Utc> {
        cut_off(self.clock.now(), age)
    }

    pub async fn history(
        &self,
        case_id: CaseId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, EngineError> {
        let events = self.store.history(case_id.0, after, limit).await?;
        if events.is_empty() && self.store.get(case_id.0).await?.is_none() {
            return Err(EngineError::NotFound(case_id));
        }
        Ok(events)
    }

    /// Rebuilds the case from its whole history and compares it with what is stored.
    pub async fn replay(&self, case_id: CaseId) -> Result<ReplayOutcome, EngineError> {
        let stored = self
            .store
            .get(case_id.0)
            .await?
            .ok_or(EngineError::NotFound(case_id))?;
        let mut events = Vec::new();
        loop {
            let after = events.last().map_or(0, |e: &HistoryEvent| e.seq);
            let page = self.store.history(case_id.0, after, 1000).await?;
            if page.is_empty() {
                break;
            }
            events.extend(page);
        }
        let recorded: Vec<Recorded<'_>> = events
            .iter()
            .map(|e| Recorded {
                seq: e.seq as u64,
                event: &e.event,
                at: e.at,
                case_after: &e.case_after,
            })
            .collect();
        Ok(aijia_workflows::replay(&recorded, &stored.case))
    }

    async fn with_timers(&self, cases: Vec<StoredCase>) -> Result<Vec<CaseView>, EngineError> {
        let ids: Vec<_> = cases.iter().map(|c| c.id).collect();
        let mut timers = self.store.pending_timers(&ids).await?;
        Ok(cases
            .into_iter()
            .map(|c| CaseView {
                id: CaseId(c.id),
                version: c.version,
                timers: timers.remove(&c.id).unwrap_or_default(),
                case: c.case,
                pending: PendingWork::default(),
            })
            .collect())
    }
}

/// The answer to a start that finds its case already there: the first answer again for a
/// repeated request id (refused if the id came with another request), else the open case
/// with the business key, which this request neither created nor repeated.
fn found_started(request_id: &RequestId, found: Started) -> Result<(Change, bool), EngineError> {
    Ok(match found {
        Started::ByRequest(applied) => {
            request_id.answers_to(applied.fingerprint.as_deref())?;
            (Change::from_applied(applied, true), false)
        }
        Started::OpenCase(stored) => (
            Change {
                event_seq: stored.version,
                view: CaseView {
                    id: CaseId(stored.id),
                    version: stored.version,
                    case: stored.case,
                    timers: Vec::new(),
                    pending: PendingWork::default(),
                },
                duplicate: false,
            },
            false,
        ),
    })
}

/// Jittered exponential backoff, capped at ~32 ms, so contending writers spread out.
async fn backoff(attempt: u32) {
    let cap_us = 500u64 << attempt.min(6);
    let wait = rand::rng().random_range(0..cap_us);
    tokio::time::sleep(Duration::from_micros(wait)).await;
}
