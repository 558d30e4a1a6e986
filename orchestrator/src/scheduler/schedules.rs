//! The schedule loop: claim due schedules one at a time and fire each in isolation. A fire
//! that panics is recorded as a failed fire of that schedule, which is then left alone for
//! [`POISONED_BACKOFF`](crate::supervise::POISONED_BACKOFF); the other schedules go on firing.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use super::SchedulerConfig;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::supervise::isolated;

/// Cron fires are due to the second; a look each second costs one indexed query.
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub async fn run(
    engine: Engine,
    _clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    shutdown: CancellationToken,
) {
    let lease = crate::clock::span(config.lease);
    while !shutdown.is_cancelled() {
        match engine.claim_due_schedule(lease).await {
            Ok(Some(stored)) => {
                fire(&engine, stored).await;
                continue; // another may be due right now
            }
            Ok(None) => {}
            Err(err) => warn!(error = %err, "claiming due schedules failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(LOOK_EVERY.min(config.poll_interval)) => {}
        }
    }
}

async fn fire(engine: &Engine, stored: crate::store::StoredSchedule) {
    let (id, name) = (stored.id, stored.name.clone());
    let fired = isolated(engine.fire_schedule(stored.clone())).await;
    match fired {
        Ok(Ok(())) => {}
        // The lease runs out and a later look (here or elsewhere) fires it.
        Ok(Err(err)) => {
            warn!(schedule_id = %id, schedule = %name, error = %err, "firing a schedule failed; will retry")
        }
        Err(panicked) => {
            error!(schedule_id = %id, schedule = %name, error = %panicked,
                   "schedule fire failed; recorded on the schedule, tried again later");
            if let Err(err) = engine.schedule_failed(stored, &panicked.to_string()).await {
                warn!(schedule_id = %id, error = %err,
                      "recording a failed schedule fire failed; its lease runs out instead");
            }
        }
    }
}
