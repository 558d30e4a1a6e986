//! The schedule loop: claim due schedules one at a time and fire them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::SchedulerConfig;
use crate::clock::Clock;
use crate::engine::Engine;

/// Cron fires are due to the second; a look each second costs one indexed query.
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub async fn run(
    engine: Engine,
    _clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    shutdown: CancellationToken,
) {
    let lease = chrono::TimeDelta::from_std(config.lease).unwrap_or(chrono::TimeDelta::MAX);
    while !shutdown.is_cancelled() {
        match engine.fire_due_schedule(lease).await {
            Ok(true) => continue, // another may be due right now
            Ok(false) => {}
            Err(err) => warn!(error = %err, "firing schedules failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(LOOK_EVERY.min(config.poll_interval)) => {}
        }
    }
}
