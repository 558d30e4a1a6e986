//! Activity tasks, engine side: claim, complete, fail, heartbeat, lease expiry, and the
//! operator's list, retry and cancel. No SQL and no gRPC here.
//!
//! A task's outcome reaches its case as an event (`activity_completed`, `activity_failed`,
//! `task_retried`, `task_cancelled`) applied through the same optimistic commit as any signal,
//! and that very commit settles the task row, fenced on the claim the worker's token carries.
//! So an activity runs at least once, and its effect on the case happens exactly once: a
//! duplicate completion finds the event it already produced (same request id), a late one
//! from a claim that lost its lease finds the fence moved and changes nothing.

use std::fmt;
use std::time::Duration;

use aijia_activities::{ActivityError, GiveUpReason, RetryDecision};
use aijia_workflows::{Actor, ActorRole, Event};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tracing::{debug, info, instrument, warn};
use uuid::Uuid;

use super::{Change, Engine, EngineError, MAX_ATTEMPTS, backoff};
use crate::clock::span;
use crate::ids::{CaseId, RequestId};
use crate::store::{
    ClaimSpec, Commit, CommitError, TaskChange, TaskError, TaskFilter, TaskRow, TaskState,
    TaskUpdate, TaskWake,
};
use crate::supervise::POISONED_BACKOFF;

/// The code of the error a task fails with when its last lease runs out.
pub const LEASE_EXPIRED: &str = "lease_expired";

/// What a worker holds while it runs a task: the task and the claim it was given. Encoded as
/// an opaque string for remote workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskToken {
    pub task_id: i64,
    /// The task's claim count when this worker claimed it: the fence.
    pub claim: i64,
}

impl TaskToken {
    const PREFIX: &'static str = "tt1.";

    pub fn parse(text: &str) -> Result<TaskToken, String> {
        let bad = || "is not a task token this server issued (from PollActivityTask)".to_owned();
        let text = text.trim();
        if text.is_empty() {
            return Err("is required: the task_token PollActivityTask gave".into());
        }
        let rest = text.strip_prefix(Self::PREFIX).ok_or_else(bad)?;
        let (id, claim) = rest.split_once('.').ok_or_else(bad)?;
        let task_id: i64 = id.parse().map_err(|_| bad())?;
        let claim: i64 = claim.parse().map_err(|_| bad())?;
        if task_id <= 0 || claim <= 0 {
            return Err(bad());
        }
        Ok(TaskToken { task_id, claim })
    }
}

impl fmt::Display for TaskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}.{}", Self::PREFIX, self.task_id, self.claim)
    }
}

/// A task claimed by a worker.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    pub token: TaskToken,
    pub task: TaskRow,
}

/// The answer to a completion.
#[derive(Debug, Clone)]
pub struct TaskCompletion {
    /// The result is applied to the case (by this call, or by an earlier identical one when
    /// `duplicate`). False when the token's claim no longer holds the task: nothing changed.
    pub applied: bool,
    pub duplicate: bool,
    /// The case right after the completion, when applied.
    pub change: Option<Change>,
}

/// The answer to a failed attempt.
#[derive(Debug, Clone)]
pub struct TaskFailure {
    /// False when the token's claim no longer holds the task: nothing changed.
    pub applied: bool,
    pub will_retry: bool,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the task was given up, when it was.
    pub gave_up: Option<GiveUpReason>,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone)]
pub struct TaskHeartbeat {
    /// The new end of the lease; `None` when this claim no longer holds the task.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Stop working on the task: it (or its case) was cancelled, or the claim was lost.
    pub cancel_requested: bool,
}

/// The answer to an operator's retry or cancel.
#[derive(Debug, Clone)]
pub struct TaskAction {
    pub task: TaskRow,
    pub change: Change,
}

/// The event a task outcome applies to its case, and what it does to the task row (fenced on
/// the task being in one of `states`).
struct Settlement {
    event: Event,
    actor: Actor,
    states: Vec<TaskState>,
    change: TaskChange,
}

/// How a task fails for good: the error kept on the task, the message its case's attention
/// shows, the state the task must still be in, the request id that makes it happen once, and
/// who says so.
pub(super) struct FinalFailure {
    pub error: TaskError,
    pub message: String,
    pub from: TaskState,
    pub request_id: RequestId,
    pub actor: Actor,
}

impl FinalFailure {
    /// A running task's last attempt failed, or its last lease ran out.
    fn of_attempt(task: &TaskRow, error: TaskError, reason: &GiveUpReason) -> FinalFailure {
        FinalFailure {
            message: format!("{} ({reason})", error.message),
            error,
            from: TaskState::Running,
            // Per claim: a task an operator retried may fail for good again.
            request_id: RequestId::internal(format!("task:{}:failed:{}", task.id, task.claims)),
            actor: worker_actor(task),
        }
    }
}

/// What settling a task may come to, decided on the task as just read.
enum Gate {
    Apply(Box<Settlement>),
    /// The request id already produced its event: answer with that.
    Duplicate,
    /// The token's claim no longer holds the task: nothing to do.
    Stale,
    Refuse(EngineError),
}

enum Settled {
    Applied(Change),
    Duplicate(Change),
    Stale,
}

/// The actor of what a worker reports.
fn worker_actor(task: &TaskRow) -> Actor {
    Actor {
        role: ActorRole::System,
        id: format!(
            "worker:{}",
            task.lease_owner.as_deref().unwrap_or("unknown")
        ),
    }
}

impl Engine {
    /// The wake-up of this process's workers (notified when tasks may be runnable).
    pub fn task_wake(&self) -> &TaskWake {
        self.store.task_wake()
    }

    /// Claims up to `spec.limit` runnable tasks, leased for `lease`.
    pub async fn claim_tasks(
        &self,
        spec: &ClaimSpec,
        lease: Duration,
    ) -> Result<Vec<ClaimedTask>, EngineError> {
        let now = self.clock.now();
        let claimed = self.store.claim_tasks(spec, now, now + span(lease)).await?;
        Ok(claimed
            .into_iter()
            .map(|task| {
                debug!(task_id = task.id, case_id = %task.case_id, activity = %task.activity,
                       attempt = task.attempts, worker = %spec.worker_id, "task claimed");
                ClaimedTask {
                    token: TaskToken {
                        task_id: task.id,
                        claim: task.claims,
                    },
                    task,
                }
            })
            .collect())
    }

    /// When the next pending task of these types comes due, to sleep until then.
    pub async fn next_task_at(
        &self,
        task_queue: &str,
        activities: &[String],
    ) -> Result<Option<DateTime<Utc>>, EngineError> {
        Ok(self.store.next_task_at(task_queue, activities).await?)
    }

    /// How long from now until `at` (zero if past), by the engine's clock.
    pub fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO)
    }

    /// A worker's result: applied to the case once, in the commit that completes the task.
    #[instrument(skip_all, fields(task_id = token.task_id, claim = token.claim))]
    pub async fn complete_task(
        &self,
        token: TaskToken,
        output: Value,
    ) -> Result<TaskCompletion, EngineError> {
        let request_id = RequestId::internal(format!("task:{}:done", token.task_id));
        let settled = self
            .settle(token.task_id, &request_id, |task, prior| {
                if task.claims != token.claim {
                    return Gate::Stale;
                }
                if prior {
                    return Gate::Duplicate;
                }
                match task.state {
                    TaskState::Running => {}
                    // Cancelled while this claim ran it: the work was done all the same, and
                    // its result is evidence (the case accepts it in every state).
                    TaskState::Cancelled if task.lease_owner.is_some() => {}
                    // Failed for good because this claim's lease ran out on the last attempt,
                    // yet the work got done: the result stands and the operator is spared.
                    TaskState::Failed
                        if task
                            .last_error
                            .as_ref()
                            .is_some_and(|e| e.code == LEASE_EXPIRED) => {}
                    _ => return Gate::Stale,
                }
                Gate::Apply(Box::new(Settlement {
                    event: Event::ActivityCompleted {
                        task_id: task.id,
                        activity: task.activity.clone(),
                        output: output.clone(),
                    },
                    actor: worker_actor(task),
                    states: vec![TaskState::Running, TaskState::Cancelled, TaskState::Failed],
                    change: TaskChange::Completed {
                        result: output.clone(),
                    },
                }))
            })
            .await?;
        Ok(match settled {
            Settled::Applied(change) => {
                info!(case_id = %change.view.id, event_seq = change.event_seq, "task completed");
                TaskCompletion {
                    applied: true,
                    duplicate: false,
                    change: Some(change),
                }
            }
            Settled::Duplicate(change) => TaskCompletion {
                applied: true,
                duplicate: true,
                change: Some(change),
            },
            Settled::Stale => {
                debug!("late completion ignored: the claim no longer holds the task");
                TaskCompletion {
                    applied: false,
                    duplicate: false,
                    change: None,
                }
            }
        })
    }

    /// A failed attempt: retried per the task's policy, or failed for good (its case then
    /// needs an operator).
    #[instrument(skip_all, fields(task_id = token.task_id, claim = token.claim, code = %error.code))]
    pub async fn fail_task(
        &self,
        token: TaskToken,
        error: ActivityError,
    ) -> Result<TaskFailure, EngineError> {
        let task = self
            .store
            .get_task(token.task_id)
            .await?
            .ok_or(EngineError::TaskNotFound(token.task_id))?;
        let stale = TaskFailure {
            applied: false,
            will_retry: false,
            next_attempt_at: None,
            gave_up: None,
        };
        if task.claims != token.claim || task.state != TaskState::Running {
            debug!(state = %task.state, "late failure ignored: the claim no longer holds the task");
            return Ok(stale);
        }
        let now = self.clock.now();
        let last_error = TaskError {
            code: error.code.clone(),
            message: error.message.clone(),
            retryable: error.is_retryable(),
            details: error.details.clone(),
            attempt: task.attempts,
            at: Some(now),
        };
        match task.retry_policy.next_retry(task.attempts, &error) {
            RetryDecision::RetryAfter(wait) => {
                let run_at = now + span(wait);
                if !self
                    .store
                    .retry_task_later(task.id, token.claim, run_at, &last_error, now)
                    .await?
                {
                    return Ok(stale);
                }
                info!(case_id = %task.case_id, activity = %task.activity, attempt = task.attempts,
                      retry_in = ?wait, "task attempt failed; will retry");
                Ok(TaskFailure {
                    applied: true,
                    will_retry: true,
                    next_attempt_at: Some(run_at),
                    gave_up: None,
                })
            }
            RetryDecision::GiveUp(reason) => {
                let failure = FinalFailure::of_attempt(&task, last_error, &reason);
                let applied = self.fail_for_good(&task, failure).await?;
                Ok(TaskFailure {
                    applied,
                    will_retry: false,
                    next_attempt_at: None,
                    gave_up: applied.then_some(reason),
                })
            }
        }
    }

    /// The final failure: `activity_failed` on the case (it needs an operator) and the task
    /// failed, in one commit. False when the task moved on meanwhile.
    pub(super) async fn fail_for_good(
        &self,
        task: &TaskRow,
        failure: FinalFailure,
    ) -> Result<bool, EngineError> {
        let FinalFailure {
            error,
            message,
            from,
            request_id,
            actor,
        } = failure;
        let claims = task.claims;
        let settled = self
            .settle(task.id, &request_id, |current, prior| {
                if current.claims != claims {
                    return Gate::Stale;
                }
                if prior {
                    return Gate::Duplicate;
                }
                if current.state != from {
                    return Gate::Stale;
                }
                Gate::Apply(Box::new(Settlement {
                    event: Event::ActivityFailed {
                        task_id: current.id,
                        activity: current.activity.clone(),
                        code: error.code.clone(),
                        message: message.clone(),
                    },
                    actor: actor.clone(),
                    states: vec![from],
                    change: TaskChange::Failed {
                        error: error.clone(),
                    },
                }))
            })
            .await?;
        match settled {
            Settled::Applied(change) => {
                warn!(case_id = %change.view.id, task_id = task.id, activity = %task.activity,
                      code = %error.code, "task failed for good; the case needs an operator");
                Ok(true)
            }
            Settled::Duplicate(_) => Ok(true),
            Settled::Stale => Ok(false),
        }
    }

    /// Extends the lease of a task the token's claim still holds, and says whether the worker
    /// should stop.
    pub async fn heartbeat_task(
        &self,
        token: TaskToken,
        details: Option<&Value>,
        lease: Duration,
    ) -> Result<TaskHeartbeat, EngineError> {
        let now = self.clock.now();
        if let Some(until) = self
            .store
            .heartbeat_task(token.task_id, token.claim, now + span(lease), details, now)
            .await?
        {
            return Ok(TaskHeartbeat {
                lease_expires_at: Some(until),
                cancel_requested: false,
            });
        }
        let task = self
            .store
            .get_task(token.task_id)
            .await?
            .ok_or(EngineError::TaskNotFound(token.task_id))?;
        let held = task.claims == token.claim;
        Ok(TaskHeartbeat {
            lease_expires_at: held.then_some(task.lease_expires_at).flatten(),
            cancel_requested: true,
        })
    }

    /// The running tasks whose lease ran out with no attempts left (the others are simply
    /// claimed again): [`Engine::expire_lease`] fails each for good.
    pub async fn exhausted_leases(&self, limit: u32) -> Result<Vec<TaskRow>, EngineError> {
        Ok(self.store.exhausted_leases(self.clock.now(), limit).await?)
    }

    /// Fails for good a task whose last lease ran out; false if it moved on meanwhile.
    pub async fn expire_lease(&self, task: &TaskRow) -> Result<bool, EngineError> {
        let now = self.clock.now();
        let owner = task.lease_owner.as_deref().unwrap_or("unknown");
        let error = TaskError {
            code: LEASE_EXPIRED.into(),
            message: format!(
                "the lease of {owner} on attempt {} ran out (no completion, failure or \
                 heartbeat in time)",
                task.attempts
            ),
            retryable: true,
            details: Value::Null,
            attempt: task.attempts,
            at: Some(now),
        };
        let reason = GiveUpReason::AttemptsExhausted {
            attempts: task.retry_policy.maximum_attempts,
        };
        let failure = FinalFailure::of_attempt(task, error, &reason);
        self.fail_for_good(task, failure).await
    }

    /// Keeps on a task whose last lease ran out why failing it for good failed (`panicked`,
    /// with `message`), and holds it back for [`POISONED_BACKOFF`]; false if it moved on
    /// meanwhile.
    pub async fn hold_expired_lease(
        &self,
        task: &TaskRow,
        message: &str,
    ) -> Result<bool, EngineError> {
        let now = self.clock.now();
        let error = TaskError {
            code: "panicked".into(),
            message: format!("failing the task after its last lease ran out {message}"),
            retryable: false,
            details: Value::Null,
            attempt: task.attempts,
            at: Some(now),
        };
        Ok(self
            .store
            .hold_task(task.id, task.claims, &error, now + POISONED_BACKOFF, now)
            .await?)
    }

    /// Deletes completed and cancelled tasks that finished longer than `retain` ago.
    pub async fn purge_finished_tasks(
        &self,
        retain: Duration,
        limit: u32,
    ) -> Result<u64, EngineError> {
        let before = self.clock.now() - span(retain);
        Ok(self.store.purge_finished_tasks(before, limit).await?)
    }

    pub async fn get_task(&self, task_id: i64) -> Result<TaskRow, EngineError> {
        self.store
            .get_task(task_id)
            .await?
            .ok_or(EngineError::TaskNotFound(task_id))
    }

    pub async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, EngineError> {
        Ok(self.store.list_tasks(filter).await?)
    }

    /// An operator sends a failed task back to its queue for a new round of attempts; the case
    /// records `task_retried` and no longer needs an operator for it.
    pub async fn retry_task(
        &self,
        request_id: RequestId,
        task_id: i64,
        actor: Actor,
    ) -> Result<TaskAction, EngineError> {
        let settled = self
            .settle(task_id, &request_id, |task, prior| {
                if prior {
                    return Gate::Duplicate;
                }
                if task.state != TaskState::Failed {
                    return Gate::Refuse(EngineError::TaskNotInState {
                        task_id,
                        state: task.state,
                        wanted: "failed",
                    });
                }
                Gate::Apply(Box::new(Settlement {
                    event: Event::TaskRetried { task_id },
                    actor: actor.clone(),
                    states: vec![TaskState::Failed],
                    change: TaskChange::Retried,
                }))
            })
            .await?;
        self.task_action(task_id, settled).await
    }

    /// An operator cancels a task that has not finished (or has failed for good); the case
    /// records `task_cancelled` and no longer needs an operator for it.
    pub async fn cancel_task(
        &self,
        request_id: RequestId,
        task_id: i64,
        reason: String,
        actor: Actor,
    ) -> Result<TaskAction, EngineError> {
        let settled = self
            .settle(task_id, &request_id, |task, prior| {
                if prior {
                    return Gate::Duplicate;
                }
                if matches!(task.state, TaskState::Completed | TaskState::Cancelled) {
                    return Gate::Refuse(EngineError::TaskNotInState {
                        task_id,
                        state: task.state,
                        wanted: "pending, running or failed",
                    });
                }
                Gate::Apply(Box::new(Settlement {
                    event: Event::TaskCancelled {
                        task_id,
                        reason: reason.clone(),
                    },
                    actor: actor.clone(),
                    states: vec![task.state],
                    change: TaskChange::Cancelled,
                }))
            })
            .await?;
        self.task_action(task_id, settled).await
    }

    async fn task_action(&self, task_id: i64, settled: Settled) -> Result<TaskAction, EngineError> {
        let task = self.get_task(task_id).await?;
        match settled {
            Settled::Applied(change) | Settled::Duplicate(change) => {
                Ok(TaskAction { task, change })
            }
            // Operator gates never answer stale; should one, say where the task stands.
            Settled::Stale => Err(EngineError::TaskNotInState {
                task_id,
                state: task.state,
                wanted: "another state",
            }),
        }
    }

    /// Applies a task outcome to its case and settles the task in the same commit, exactly
    /// once per request id: read task, case and any prior answer in one trip; let `gate`
    /// decide on what was read; commit fenced on the task; on a conflict, read again.
    async fn settle(
        &self,
        task_id: i64,
        request_id: &RequestId,
        gate: impl Fn(&TaskRow, bool) -> Gate,
    ) -> Result<Settled, EngineError> {
        let mut case_id = CaseId(Uuid::nil());
        for attempt in 0..MAX_ATTEMPTS {
            let snapshot = self
                .store
                .task_snapshot(task_id, request_id.as_str())
                .await?;
            if let Some(prior) = &snapshot.prior {
                request_id.answers_to(prior.fingerprint.as_deref())?;
            }
            let task = snapshot.task.ok_or(EngineError::TaskNotFound(task_id))?;
            case_id = CaseId(task.case_id);
            let Settlement {
                event,
                actor,
                states,
                change,
            } = match gate(&task, snapshot.prior.is_some()) {
                Gate::Apply(settlement) => *settlement,
                Gate::Duplicate => {
                    return match snapshot.prior {
                        Some(prior) => Ok(Settled::Duplicate(Change::from_applied(prior, true))),
                        None => Ok(Settled::Stale),
                    };
                }
                Gate::Stale => return Ok(Settled::Stale),
                Gate::Refuse(err) => return Err(err),
            };
            let stored = snapshot.case.ok_or(EngineError::NotFound(case_id))?;
            let now = self.clock.now();
            let decision = aijia_workflows::decide(&stored.case, &event, now, &self.policy)?;
            let mut commit = Commit::new(
                task.case_id,
                stored.version,
                event,
                actor,
                request_id,
                now,
                decision,
            )
            .with_task_update(TaskUpdate {
                task_id,
                claims: task.claims,
                states,
                change,
            });
            match self.commit(&mut commit).await {
                Ok(()) => {
                    return Ok(Settled::Applied(Change::from_applied(
                        commit.applied(),
                        false,
                    )));
                }
                // The case moved on, a racing duplicate won, or the task moved: read again.
                Err(CommitError::VersionConflict | CommitError::DuplicateRequest) => {
                    backoff(attempt).await;
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(EngineError::Contended(case_id))
    }
}

#[cfg(test)]
mod tests {
    use super::TaskToken;

    #[test]
    fn a_token_reads_back_as_written() {
        let token = TaskToken {
            task_id: 42,
            claim: 3,
        };
        assert_eq!(token.to_string(), "tt1.42.3");
        assert_eq!(TaskToken::parse(&token.to_string()), Ok(token));
        assert_eq!(TaskToken::parse(" tt1.42.3 "), Ok(token));
    }

    #[test]
    fn a_token_this_server_did_not_issue_is_refused() {
        for text in [
            "",
            "42.3",
            "tt1.",
            "tt1.42",
            "tt1.42.",
            "tt1.x.3",
            "tt1.0.1",
            "tt1.4.0",
            "tt1.-4.1",
            "tt1.4.1.9",
            "tt2.4.1",
        ] {
            let err = TaskToken::parse(text).expect_err(text);
            assert!(
                err.contains("task token") || err.contains("required"),
                "{text}: {err}"
            );
        }
    }
}
