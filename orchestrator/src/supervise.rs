//! Keeps a server's background work alive and its health answer honest.
//!
//! - [`isolated`]: runs one unit of background work (a timer fire, a schedule fire, a lease
//!   expiry, an activity) so that a panic ends that unit only and its caller can
//!   record it on the row it came from.
//! - [`Loops`]: the long-running loops (timers, schedules, workers, sweeper, listeners). A
//!   loop that ends before shutdown (a panic that escaped, or a return) turns health to
//!   NOT_SERVING: the node no longer does all its work, so it must not say it does.
//! - [`Health`]: the `grpc.health.v1` answer for the whole server and every service: SERVING
//!   only while the database answers pings, every loop runs, and no shutdown has begun.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::{error, info, warn};

use crate::store::Store;

/// How long a row (timer, schedule, task) whose handling panicked is left alone before it is
/// tried again: long enough that a row that always panics costs nothing, short enough that
/// one that panicked by bad luck is not late by much.
pub const POISONED_BACKOFF: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a unit of work ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Panicked(pub String);

/// Runs `work`; a panic in it comes back as [`Panicked`] with its message instead of ending
/// the caller.
pub async fn isolated<F: Future>(work: F) -> Result<F::Output, Panicked> {
    // Unwind safety: after a panic the work's state is dropped, never looked at again; the
    // caller records the failure on the row the work came from.
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|payload| Panicked(format!("panicked: {}", panic_message(payload))))
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_owned(),
            Err(_) => "(no message)".to_owned(),
        },
    }
}

/// The server's health, as served by `grpc.health.v1.Health`.
#[derive(Debug, Clone)]
pub struct Health {
    reporter: HealthReporter,
    /// Every service name the server serves, and "" for the server as a whole.
    services: Arc<[&'static str]>,
    database_ok: Arc<AtomicBool>,
    loops_ok: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
}

impl Health {
    /// Starts with every service SERVING.
    pub async fn new(reporter: HealthReporter, services: Vec<&'static str>) -> Health {
        let mut services = services;
        services.push("");
        let health = Health {
            reporter,
            services: services.into(),
            database_ok: Arc::new(AtomicBool::new(true)),
            loops_ok: Arc::new(AtomicBool::new(true)),
            stopping: Arc::new(AtomicBool::new(false)),
        };
        health.publish().await;
        health
    }

    /// Shutdown has begun: NOT_SERVING for good, so that balancers stop sending calls before
    /// the server drains.
    pub async fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.publish().await;
    }

    async fn loop_ended(&self) {
        self.loops_ok.store(false, Ordering::SeqCst);
        self.publish().await;
    }

    async fn database(&self, answer: Result<(), String>) {
        let ok = answer.is_ok();
        if self.database_ok.swap(ok, Ordering::SeqCst) != ok {
            match answer {
                Ok(()) => info!("the database answers again; health back to SERVING"),
                Err(error) => {
                    warn!(%error, "the database does not answer; health NOT_SERVING until it does")
                }
            }
            self.publish().await;
        }
    }

    async fn publish(&self) {
        let serving = self.database_ok.load(Ordering::SeqCst)
            && self.loops_ok.load(Ordering::SeqCst)
            && !self.stopping.load(Ordering::SeqCst);
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in self.services.iter() {
            self.reporter.set_service_status(service, status).await;
        }
    }
}

/// How long a database ping may take before the database counts as unreachable.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Pings the database every `every` until `shutdown`, keeping `health` up to date.
pub async fn ping_database(
    store: Store,
    health: Health,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let answer = match tokio::time::timeout(PING_TIMEOUT, store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer to a ping within {PING_TIMEOUT:?}")),
        };
        health.database(answer).await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// The server's long-running loops, each with a name for the log.
#[derive(Debug, Default)]
pub struct Loops {
    set: JoinSet<()>,
    names: HashMap<Id, String>,
}

impl Loops {
    pub fn spawn<F>(&mut self, name: impl Into<String>, run: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.set.spawn(run);
        self.names.insert(handle.id(), name.into());
    }

    /// Waits for every loop to end. One that ends before `shutdown` is cancelled is logged
    /// and turns `health` to NOT_SERVING for good: what it did no longer happens here.
    pub async fn watch(mut self, health: Health, shutdown: CancellationToken) {
        while let Some(ended) = self.set.join_next_with_id().await {
            let (id, panic) = match ended {
                Ok((id, ())) => (id, None),
                Err(err) => (err.id(), err.try_into_panic().ok().map(panic_message)),
            };
            if shutdown.is_cancelled() {
                continue;
            }
            let name = self.names.get(&id).map_or("?", String::as_str);
            match panic {
                Some(message) => {
                    error!(background_loop = name, panic = %message, "a background loop panicked; health NOT_SERVING")
                }
                None => {
                    error!(
                        background_loop = name,
                        "a background loop ended before shutdown; health NOT_SERVING"
                    )
                }
            }
            health.loop_ended().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus as Status;
    use tonic_health::pb::health_server::Health as _;
    use tonic_health::server::HealthService;

    use super::*;

    async fn status(service: &HealthService, name: &str) -> Status {
        let request = tonic::Request::new(HealthCheckRequest {
            service: name.to_owned(),
        });
        let answer = service.check(request).await.expect("a registered service");
        Status::try_from(answer.into_inner().status).expect("a status")
    }

    async fn until_not_serving(service: &HealthService, name: &str) {
        for _ in 0..200 {
            if status(service, name).await == Status::NotServing {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name:?} still SERVING");
    }

    #[tokio::test]
    async fn a_panic_comes_back_as_an_answer_with_its_message() {
        let caught: Result<(), Panicked> = isolated(async { panic!("date out of range") }).await;
        assert_eq!(
            caught,
            Err(Panicked("panicked: date out of range".to_owned()))
        );
        assert_eq!(isolated(async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_loop_that_ends_before_shutdown_turns_every_service_not_serving() {
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        let health = Health::new(reporter, vec!["aijia.v1.CaseService"]).await;
        assert_eq!(status(&service, "").await, Status::Serving);
        let shutdown = CancellationToken::new();
        let mut loops = Loops::default();
        let token = shutdown.clone();
        loops.spawn("lives", async move { token.cancelled().await });
        loops.spawn("dies", async { panic!("a loop's own bug") });
        let watching = tokio::spawn(loops.watch(health, shutdown.clone()));
        until_not_serving(&service, "").await;
        until_not_serving(&service, "aijia.v1.CaseService").await;
        shutdown.cancel();
        watching.await.expect("the watcher ends with the loops");
    }

    #[tokio::test]
    async fn loops_that_end_on_shutdown_leave_health_alone() {
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        let health = Health::new(reporter, Vec::new()).await;
        let shutdown = CancellationToken::new();
        let mut loops = Loops::default();
        let token = shutdown.clone();
        loops.spawn("lives", async move { token.cancelled().await });
        let watching = tokio::spawn(loops.watch(health, shutdown.clone()));
        shutdown.cancel();
        watching.await.expect("the watcher ends with the loops");
        assert_eq!(status(&service, "").await, Status::Serving);
    }
}
