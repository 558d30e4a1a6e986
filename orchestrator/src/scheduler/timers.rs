//! The timer loop: claim due timers, fire each as a `timer_fired` event on its case.
//!
//! A fire is a transition like any other, with a request id derived from the timer's name and
//! fire time, so a timer whose lease ran out and that two processes fire anyway is applied
//! once. The commit that applies it also deletes (or moves) the timer. A fire that panics
//! is recorded on its timer row (`failures`, `last_error`) and the timer is left alone for
//! [`POISONED_BACKOFF`](crate::supervise::POISONED_BACKOFF) before it is tried again.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::SchedulerConfig;
use crate::clock::Clock;
use crate::engine::{Engine, TimerOutcome};
use crate::store::DueTimer;
use crate::supervise::isolated;

pub async fn run(
    engine: Engine,
    clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    shutdown: CancellationToken,
) {
    let wake = engine.timer_wake().clone();
    while !shutdown.is_cancelled() {
        let fired = match fire_due(&engine, clock.as_ref(), &config).await {
            Ok(n) => n,
            Err(err) => {
                warn!(error = %err, "claiming due timers failed; will retry");
                0
            }
        };
        if fired == config.batch as usize {
            continue; // more may be due right now
        }
        let sleep = until_next(&engine, clock.as_ref(), config.poll_interval).await;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// One round: claim a batch of due timers and fire them; returns how many were claimed.
pub async fn fire_due(
    engine: &Engine,
    clock: &dyn Clock,
    config: &SchedulerConfig,
) -> Result<usize, crate::store::StoreError> {
    let now = clock.now();
    let lease = crate::clock::span(config.lease);
    let due = engine
        .store()
        .claim_due_timers(now, now + lease, config.batch)
        .await?;
    let claimed = due.len();
    // A case's own timers fire one after another in due order (after downtime a reminder, an
    // escalation and an expiry may all be due at once); different cases fire concurrently.
    let mut by_case: Vec<Vec<DueTimer>> = Vec::new();
    for timer in due {
        match by_case
            .iter_mut()
            .find(|group| group[0].case_id == timer.case_id)
        {
            Some(group) => group.push(timer),
            None => by_case.push(vec![timer]),
        }
    }
    futures::stream::iter(by_case)
        .for_each_concurrent(config.concurrency, |group| async move {
            for timer in group {
                if let Err(panicked) = isolated(fire_one(engine, clock, &timer)).await {
                    poisoned(engine, &timer, &panicked.to_string()).await;
                }
            }
        })
        .await;
    Ok(claimed)
}

async fn fire_one(engine: &Engine, clock: &dyn Clock, timer: &DueTimer) {
    match engine.fire_timer(timer).await {
        Ok(TimerOutcome::Fired { event_seq }) => {
            let late_ms = (clock.now() - timer.fire_at).num_milliseconds();
            info!(case_id = %timer.case_id, timer = %timer.name, event_seq, late_ms, "timer fired");
        }
        Ok(TimerOutcome::Stale) => {
            debug!(case_id = %timer.case_id, timer = %timer.name, "stale timer dropped");
        }
        // The lease runs out and another round (here or elsewhere) tries again.
        Err(err) => {
            warn!(case_id = %timer.case_id, timer = %timer.name, error = %err, "timer fire failed")
        }
    }
}

/// Records a fire that panicked on its timer and leaves the timer alone for a while, so that
/// a timer that always panics is not claimed again at once.
async fn poisoned(engine: &Engine, timer: &DueTimer, panicked: &str) {
    error!(case_id = %timer.case_id, timer = %timer.name, error = %panicked,
           "timer fire failed; trying it again later");
    if let Err(err) = engine.timer_failed(timer, panicked).await {
        warn!(case_id = %timer.case_id, timer = %timer.name, error = %err,
              "recording a failed timer fire failed; its lease runs out instead");
    }
}

/// How long to sleep: until the next timer is due, at most `poll`.
async fn until_next(engine: &Engine, clock: &dyn Clock, poll: Duration) -> Duration {
    match engine.store().next_timer_at().await {
        Ok(Some(next)) => (next - clock.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(poll),
        _ => poll,
    }
}
