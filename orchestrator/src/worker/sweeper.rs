//! Task housekeeping, run by every process: a running task whose lease ran out with no
//! attempts left fails for good (`lease_expired`, so its case needs an operator; with attempts
//! left it is simply claimed again), as does a pending task no worker started within its
//! type's `schedule_to_start_timeout` (`schedule_to_start_timeout`); finished tasks past their
//! retention are deleted in batches (their results stay in their cases' histories), and so are
//! workers not seen for a day.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::WorkerConfig;
use crate::engine::Engine;

const BATCH: u32 = 500;

/// How long a worker that stopped polling stays on record (and GetCase can say when it last
/// polled for a type).
const RETAIN_WORKERS: Duration = Duration::from_secs(24 * 3600);

pub async fn run(engine: Engine, config: WorkerConfig, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        sweep(&engine, &config).await;
        tokio::select! {
            _ = tokio::time::sleep(config.sweep_interval) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One round of housekeeping.
pub async fn sweep(engine: &Engine, config: &WorkerConfig) {
    match engine.expire_leases(BATCH).await {
        Ok(0) => {}
        Ok(n) => debug!(
            tasks = n,
            "tasks failed for good after their last lease ran out"
        ),
        Err(err) => warn!(error = %err, "expiring leases failed; will retry"),
    }
    match engine.expire_unstarted(BATCH).await {
        Ok(0) => {}
        Ok(n) => debug!(
            tasks = n,
            "tasks failed for good: no worker started them within their schedule_to_start_timeout"
        ),
        Err(err) => warn!(error = %err, "failing unstarted tasks failed; will retry"),
    }
    match engine.purge_workers(RETAIN_WORKERS, BATCH).await {
        Ok(0) => {}
        Ok(n) => debug!(rows = n, "workers not seen for a day forgotten"),
        Err(err) => warn!(error = %err, "forgetting old workers failed; will retry"),
    }
    match engine
        .purge_finished_tasks(config.retain_finished, BATCH)
        .await
    {
        Ok(0) => {}
        Ok(n) => debug!(tasks = n, "finished tasks deleted after their retention"),
        Err(err) => warn!(error = %err, "deleting finished tasks failed; will retry"),
    }
}
