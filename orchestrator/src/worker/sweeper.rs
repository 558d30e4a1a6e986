//! Task housekeeping, run by every process: a running task whose lease ran out with no
//! attempts left fails for good (`lease_expired`, so its case needs an operator; with attempts
//! left it is simply claimed again), as does a pending task no worker started within its
//! type's `schedule_to_start_timeout`; finished tasks past their retention are deleted in
//! batches (their results stay in their cases' histories), and so are workers not seen for a
//! day. Each expired lease is handled in isolation: one whose failing panics keeps the panic as
//! its last error and is held back for [`POISONED_BACKOFF`](crate::supervise::POISONED_BACKOFF) before a later sweep tries again;
//! the others go on.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

use super::WorkerConfig;
use crate::engine::Engine;
use crate::supervise::isolated;

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
    match engine.exhausted_leases(BATCH).await {
        Ok(expired) => {
            for task in expired {
                let task_id = task.id;
                match isolated(engine.expire_lease(&task)).await {
                    Ok(Ok(true)) => {
                        debug!(task_id, "task failed for good after its last lease ran out")
                    }
                    Ok(Ok(false)) => {}
                    Ok(Err(err)) => {
                        warn!(task_id, error = %err, "expiring a lease failed; will retry")
                    }
                    Err(panicked) => {
                        error!(task_id, error = %panicked,
                               "expiring a lease failed; recorded on the task, tried again later");
                        let message = panicked.to_string();
                        let held = engine.hold_expired_lease(&task, &message);
                        if let Err(err) = held.await {
                            warn!(task_id, error = %err, "recording the failure on the task failed");
                        }
                    }
                }
            }
        }
        Err(err) => warn!(error = %err, "finding expired leases failed; will retry"),
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
