//! Running the server: open the store, build the engine, serve gRPC until told to stop, then
//! let in-flight calls finish. Health (see [`crate::supervise`]) turns NOT_SERVING when the
//! database stops answering, when a background loop dies, and first thing on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aijia_proto::v1::automation_service_server::AutomationServiceServer;
use aijia_proto::v1::case_service_server::CaseServiceServer;
use aijia_proto::v1::identity_service_server::IdentityServiceServer;
use aijia_proto::v1::review_service_server::ReviewServiceServer;
use aijia_proto::v1::schedule_service_server::ScheduleServiceServer;
use aijia_proto::v1::task_service_server::TaskServiceServer;
use aijia_proto::v1::worker_service_server::WorkerServiceServer;
use aijia_workflows::TimerPolicy;
use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tracing::info;

use crate::clock::Clock;
use crate::engine::{Engine, RailsConfig};
use crate::grpc::{
    AutomationApi, CaseApi, IdentityApi, ReviewApi, ScheduleApi, TaskApi, WorkerApi,
};
use crate::scheduler::{self, SchedulerConfig};
use crate::store::{PoolConfig, Store};
use crate::supervise::{self, Health, Loops};
use crate::worker::{self, WorkerConfig};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub scheduler: SchedulerConfig,
    /// In-process activity workers and task housekeeping.
    pub workers: WorkerConfig,
    /// Safety rails: what opening an action type to `auto` needs.
    pub rails: RailsConfig,
    /// The database connection pool.
    pub pool: PoolConfig,
    /// How often the database is pinged for the health answer.
    pub health_ping: Duration,
}

/// A ping every few seconds costs nothing and notices an outage before most clients do.
pub const DEFAULT_HEALTH_PING: Duration = Duration::from_secs(5);

impl ServerConfig {
    /// A server on `listen` over `database_url` with default settings for everything else.
    pub fn new(listen: SocketAddr, database_url: impl Into<String>) -> Self {
        ServerConfig {
            listen,
            database_url: database_url.into(),
            scheduler: SchedulerConfig::default(),
            workers: WorkerConfig::default(),
            rails: RailsConfig::default(),
            pool: PoolConfig::default(),
            health_ping: DEFAULT_HEALTH_PING,
        }
    }
}

/// A server running in this process.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens (the real port when 0 was asked for).
    pub addr: SocketAddr,
    pub backend: &'static str,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
    /// Watches the background loops (timers, schedules, workers); ends when they all have.
    background: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting calls, waits for in-flight ones, and returns how serving ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server ends on its own or `shutdown` is cancelled by someone else, and
    /// its background loops have finished what they had claimed.
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.task.await.context("server task panicked")?;
        self.shutdown.cancel();
        self.background
            .await
            .context("the background loops' watcher panicked")?;
        served
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Connects to the store (applying migrations), binds, and serves in a background task.
pub async fn start(config: &ServerConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningServer> {
    let store = Store::connect_with(&config.database_url, &config.pool)
        .await
        .with_context(|| {
            format!(
                "while opening the store at {}",
                redact(&config.database_url)
            )
        })?;
    let backend = store.backend();
    let engine = Engine::new(store, clock.clone(), TimerPolicy::builtin())
        .with_rails(config.rails)
        .with_task_policy(config.workers.task_policy.clone());

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("while binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Without TCP_NODELAY small responses wait on delayed ACKs (~40 ms per call).
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));

    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(
        reporter,
        vec![
            CaseServiceServer::<CaseApi>::NAME,
            ScheduleServiceServer::<ScheduleApi>::NAME,
            WorkerServiceServer::<WorkerApi>::NAME,
            TaskServiceServer::<TaskApi>::NAME,
            ReviewServiceServer::<ReviewApi>::NAME,
            AutomationServiceServer::<AutomationApi>::NAME,
            IdentityServiceServer::<IdentityApi>::NAME,
        ],
    )
    .await;
    let reflection = |builder: tonic_reflection::server::Builder<'static>| {
        builder
            .register_encoded_file_descriptor_set(aijia_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection(tonic_reflection::server::Builder::configure()).build_v1()?;
    let reflection_v1alpha =
        reflection(tonic_reflection::server::Builder::configure()).build_v1alpha()?;

    let shutdown = CancellationToken::new();
    let mut loops = Loops::default();
    loops.spawn(
        "database ping",
        supervise::ping_database(
            engine.store().clone(),
            health.clone(),
            config.health_ping,
            shutdown.clone(),
        ),
    );
    scheduler::spawn(
        engine.clone(),
        clock,
        config.scheduler.clone(),
        shutdown.clone(),
        &mut loops,
    );
    worker::spawn(&engine, &config.workers, &shutdown, &mut loops)?;
    let background = tokio::spawn(loops.watch(health.clone(), shutdown.clone()));
    let workers = WorkerApi::new(
        engine.clone(),
        shutdown.clone(),
        config.workers.poll_interval,
    );
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(CaseServiceServer::new(CaseApi::new(engine.clone())))
        .add_service(WorkerServiceServer::new(workers))
        .add_service(TaskServiceServer::new(TaskApi::new(engine.clone())))
        .add_service(ReviewServiceServer::new(ReviewApi::new(engine.clone())))
        .add_service(AutomationServiceServer::new(AutomationApi::new(
            engine.clone(),
        )))
        .add_service(IdentityServiceServer::new(IdentityApi::new(engine.clone())))
        .add_service(ScheduleServiceServer::new(ScheduleApi::new(engine)));
    let stop = shutdown.clone();
    // Health says NOT_SERVING before the server drains, whoever asked for the stop.
    let stopped = async move {
        stop.cancelled().await;
        health.stopping().await;
    };
    let task = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, stopped)
            .await
            .context("while serving gRPC")
    });
    info!(%addr, backend, "aijia listening");
    Ok(RunningServer {
        addr,
        backend,
        shutdown,
        task,
        background,
    })
}

/// The database url without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
