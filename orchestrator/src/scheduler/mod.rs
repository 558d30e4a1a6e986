//! Work driven by time, run by every server process: due timers fire as case events
//! ([`timers`]) and cron schedules fire their actions ([`schedules`]). Any number of
//! processes may run these loops against one database; leases and `SKIP LOCKED` claims make
//! each timer and each schedule fire once. Each fire runs isolated
//! ([`crate::supervise::isolated`]): one that panics is recorded as failed on its own row and
//! backed off, and the loop goes on with the others.

pub mod schedules;
pub mod timers;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::store::{Store, TIMERS_CHANNEL};
use crate::supervise::Loops;

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// The longest a loop sleeps without being woken; the fallback when no wake-up arrives.
    pub poll_interval: Duration,
    /// How long a claim holds a timer or schedule before another process may take it over.
    pub lease: Duration,
    /// Timers claimed per round trip.
    pub batch: u32,
    /// Timers fired concurrently by this process.
    pub concurrency: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(30),
            batch: 64,
            concurrency: 16,
        }
    }
}

/// Starts the timer and schedule loops; they stop when `shutdown` is cancelled, after
/// finishing what they had claimed.
pub fn spawn(
    engine: Engine,
    clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    shutdown: CancellationToken,
    loops: &mut Loops,
) {
    // Other processes' commits wake this one through PostgreSQL; SQLite has one process.
    if let Store::Postgres(pg) = engine.store() {
        loops.spawn(
            "timer wake-ups",
            pg.clone().listen(
                TIMERS_CHANNEL,
                engine.timer_wake().clone(),
                shutdown.clone(),
            ),
        );
    }
    loops.spawn(
        "timers",
        timers::run(
            engine.clone(),
            clock.clone(),
            config.clone(),
            shutdown.clone(),
        ),
    );
    loops.spawn("schedules", schedules::run(engine, clock, config, shutdown));
}
