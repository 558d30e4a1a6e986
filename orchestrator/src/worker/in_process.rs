//! In-process workers: one loop per activity type claims tasks while it has free slots
//! (`concurrency` per type), runs each through the [`Registry`] with a heartbeat that keeps
//! its lease (and stops the run if the task is cancelled), and reports the outcome through
//! the same engine calls as remote workers.

use std::sync::Arc;
use std::time::Duration;

use aijia_activities::{ActivityContext, ActivityError, Registry};
use futures::FutureExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span, warn};

use super::WorkerConfig;
use super::poll::{PollTiming, poll};
use crate::engine::{ClaimedTask, Engine};
use crate::store::ClaimSpec;
use crate::supervise::isolated;

/// How long an idle loop's single poll lasts (it is woken well before when work arrives).
const IDLE_WAIT: Duration = Duration::from_secs(60);

/// Reporting an outcome is retried this often (with a growing pause) before the worker gives
/// up and lets the lease run out, so that the task runs again.
const REPORT_TRIES: u32 = 5;

/// The lease owner in-process workers write: this process.
pub fn worker_id() -> String {
    format!("in-process:{}", std::process::id())
}

/// Serves `activity` until `shutdown`, then waits for the tasks in flight.
pub async fn run(
    engine: Engine,
    registry: Registry,
    activity: String,
    config: WorkerConfig,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let timing = PollTiming {
        lease: config.lease,
        wait: IDLE_WAIT,
        fallback: config.poll_interval,
    };
    let mut running = JoinSet::new();
    loop {
        let first = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let spec = ClaimSpec {
            worker_id: worker_id(),
            task_queue: config.task_policy.for_activity(&activity).queue.clone(),
            activities: vec![activity.clone()],
            limit: 1 + u32::try_from(slots.available_permits()).unwrap_or(0),
        };
        let claimed = match poll(&engine, &spec, timing, &shutdown).await {
            Ok(claimed) => claimed,
            Err(err) => {
                warn!(activity = %activity, error = %err, "claiming tasks failed; will retry");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll_interval) => {}
                    _ = shutdown.cancelled() => {}
                }
                continue;
            }
        };
        let mut first = Some(first);
        for task in claimed {
            // Only this loop takes slots, so the ones counted for the claim are still free.
            let permit = first
                .take()
                .or_else(|| slots.clone().try_acquire_owned().ok());
            let (engine, registry, lease) = (engine.clone(), registry.clone(), config.lease);
            running.spawn(async move {
                execute(&engine, &registry, task, lease).await;
                drop(permit);
            });
        }
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

/// Runs one claimed task to its reported outcome.
pub async fn execute(engine: &Engine, registry: &Registry, claimed: ClaimedTask, lease: Duration) {
    let ClaimedTask { token, task } = claimed;
    let span = info_span!("task", task_id = task.id, case_id = %task.case_id,
                          activity = %task.activity, attempt = task.attempts);
    async move {
        let ctx = ActivityContext {
            case_id: task.case_id.to_string(),
            task_id: task.id,
            attempt: task.attempts,
            idempotency_key: task.idempotency_key.clone(),
        };
        // A panicking activity fails its task (for good: a panic is a bug, not bad luck)
        // instead of leaving it to run again when its lease runs out.
        let run = isolated(registry.run(&task.activity, &ctx, task.input.clone())).map(|ran| {
            ran.unwrap_or_else(|panicked| {
                Err(ActivityError::non_retryable(
                    "panicked",
                    format!("the activity {panicked}"),
                ))
            })
        });
        let heartbeat = async {
            loop {
                tokio::time::sleep(lease / 3).await;
                match engine.heartbeat_task(token, None, lease).await {
                    Ok(beat) if beat.cancel_requested => return,
                    Ok(_) => {}
                    Err(err) => warn!(error = %err, "heartbeat failed"),
                }
            }
        };
        let outcome = tokio::select! {
            outcome = run => outcome,
            () = heartbeat => {
                debug!("task cancelled or lost while running; run stopped");
                return;
            }
        };
        report(engine, token, outcome).await;
    }
    .instrument(span)
    .await
}

async fn report(
    engine: &Engine,
    token: crate::engine::TaskToken,
    outcome: Result<serde_json::Value, ActivityError>,
) {
    for attempt in 0..REPORT_TRIES {
        let reported = match &outcome {
            Ok(output) => engine
                .complete_task(token, output.clone())
                .await
                .map(|c| debug!(applied = c.applied, "reported completion")),
            Err(error) => engine
                .fail_task(token, error.clone())
                .await
                .map(|f| debug!(will_retry = f.will_retry, "reported failure")),
        };
        match reported {
            Ok(()) => return,
            Err(err) => {
                warn!(error = %err, attempt, "reporting a task's outcome failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    warn!("gave up reporting a task's outcome; it runs again when its lease runs out");
}
