//! Who runs activity tasks, and how a worker waits for one. Every server process runs:
//!
//! - [`in_process`]: workers for the built-in activities (`aijia_activities::Registry`),
//!   `concurrency` tasks at a time per activity type; 0 leaves every type to remote workers.
//! - [`poll`]: the long poll that both in-process workers and `WorkerService` use: claim, or
//!   sleep until woken (a local commit that enqueued tasks, or PostgreSQL's `NOTIFY
//!   aijia_tasks` from another process, see [`listen`]), until the next task comes due, or
//!   until the polling fallback.
//! - [`sweeper`]: fails for good the tasks whose last lease ran out, and deletes finished
//!   tasks past their retention (their results stay in their cases' histories).
//!
//! Everything stops claiming when the server's shutdown token is cancelled; in-flight tasks
//! finish and report first.

pub mod in_process;
pub mod listen;
pub mod poll;
pub mod sweeper;

use std::path::PathBuf;
use std::time::Duration;

use aijia_activities::{AdaptersConfig, Registry, TaskPolicy};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::store::Store;
use crate::supervise::Loops;

/// The in-process workers and the task housekeeping of one server.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Tasks run at once per activity type in this process; 0 runs none here.
    pub concurrency: usize,
    /// Activity types left to remote workers even though this process could run them.
    pub remote_only: Vec<String>,
    /// The adapters file the built-in activities deliver through; `None`: the record adapter
    /// for every target (nothing leaves the process).
    pub adapters_file: Option<PathBuf>,
    /// The activities to run in-process instead of the built-in ones (tests, embedders).
    pub registry: Option<Registry>,
    /// Which queue each activity type's tasks go to and how they are retried; the in-process
    /// worker of a type serves that type's queue.
    pub task_policy: TaskPolicy,
    /// How long an in-process worker's claim lasts between heartbeats.
    pub lease: Duration,
    /// The longest a waiting worker sleeps without being woken.
    pub poll_interval: Duration,
    /// How often expired leases and old finished tasks are looked for.
    pub sweep_interval: Duration,
    /// How long completed and cancelled tasks are kept.
    pub retain_finished: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 4,
            remote_only: Vec::new(),
            adapters_file: None,
            registry: None,
            task_policy: TaskPolicy::builtin(),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
            sweep_interval: Duration::from_secs(5),
            retain_finished: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl WorkerConfig {
    /// The activities this process runs itself.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        if let Some(registry) = &self.registry {
            return Ok(registry.clone());
        }
        let config = match &self.adapters_file {
            Some(path) => AdaptersConfig::load(path)?,
            None => AdaptersConfig::default(),
        };
        let adapters = config.build().with_context(|| match &self.adapters_file {
            Some(path) => format!("while building the adapters of {}", path.display()),
            None => "while building the default adapters".to_owned(),
        })?;
        Ok(Registry::builtin(adapters))
    }

    /// The activity types the in-process workers serve.
    pub fn in_process_types(&self, registry: &Registry) -> Vec<String> {
        if self.concurrency == 0 {
            return Vec::new();
        }
        registry
            .names()
            .into_iter()
            .filter(|name| !self.remote_only.iter().any(|r| r == name))
            .map(str::to_owned)
            .collect()
    }
}

/// Starts the in-process workers, the PostgreSQL wake-up listener and the sweeper. Fails
/// only when the adapters cannot be built (a bad file, a missing secret).
pub fn spawn(
    engine: &Engine,
    config: &WorkerConfig,
    shutdown: &CancellationToken,
    loops: &mut Loops,
) -> anyhow::Result<()> {
    let registry = config.registry()?;
    if let Store::Postgres(pg) = engine.store() {
        loops.spawn(
            "task wake-ups",
            listen::run(
                pg.pool().clone(),
                engine.task_wake().clone(),
                shutdown.clone(),
            ),
        );
    }
    loops.spawn(
        "task sweeper",
        sweeper::run(engine.clone(), config.clone(), shutdown.clone()),
    );
    let types = config.in_process_types(&registry);
    if !types.is_empty() {
        tracing::info!(activities = %types.join(","), concurrency = config.concurrency,
                       "in-process workers started");
    }
    for activity in types {
        loops.spawn(
            format!("worker {activity}"),
            in_process::run(
                engine.clone(),
                registry.clone(),
                activity,
                config.clone(),
                shutdown.clone(),
            ),
        );
    }
    Ok(())
}
