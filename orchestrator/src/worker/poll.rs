//! The long poll: claim runnable tasks, or wait until something may have changed and try
//! again, until the wait is over. Used by in-process workers and by `PollActivityTask`. Each
//! claim also records the poll (throttled, see `engine/workers.rs`), so operators can tell
//! which types and queues some worker serves.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::{ClaimedTask, Engine, EngineError};
use crate::store::ClaimSpec;

/// The shortest nap between two claims, so that a task due but held elsewhere (a racing
/// claim) is not polled for in a busy loop.
const MIN_NAP: Duration = Duration::from_millis(25);

/// How a poll waits.
#[derive(Debug, Clone, Copy)]
pub struct PollTiming {
    /// The lease a claim takes.
    pub lease: Duration,
    /// The longest the whole poll waits for a task.
    pub wait: Duration,
    /// The longest one nap lasts without a wake-up (the polling fallback).
    pub fallback: Duration,
}

/// Claims up to `spec.limit` tasks, waiting up to `timing.wait` for one. Empty when the wait
/// ends (or `shutdown` is cancelled) first. The wake-up is armed before each claim, so a
/// commit between the claim and the nap still ends the nap.
pub async fn poll(
    engine: &Engine,
    spec: &ClaimSpec,
    timing: PollTiming,
    shutdown: &CancellationToken,
) -> Result<Vec<ClaimedTask>, EngineError> {
    let deadline = Instant::now() + timing.wait;
    let watch = engine.task_wake().watch(&spec.activities);
    loop {
        if shutdown.is_cancelled() {
            return Ok(Vec::new());
        }
        let woken = watch.arm();
        engine.record_poll(spec).await;
        let claimed = engine.claim_tasks(spec, timing.lease).await?;
        if !claimed.is_empty() {
            return Ok(claimed);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Vec::new());
        }
        let mut nap = (deadline - now).min(timing.fallback);
        if let Some(next) = engine
            .next_task_at(&spec.task_queue, &spec.activities)
            .await?
        {
            nap = nap.min(engine.until(next).max(MIN_NAP));
        }
        tokio::select! {
            () = woken.wait() => {}
            _ = tokio::time::sleep(nap) => {}
            _ = shutdown.cancelled() => return Ok(Vec::new()),
        }
    }
}
