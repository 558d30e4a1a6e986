//! Activity tasks per second end to end, and claim-to-start latency.
//!
//! `cargo bench -p aijia-orchestrator --bench tasks` (release build). One task's path: a client's
//! transition enqueues it (the `material_provided` that completes a checklist commits the case,
//! its history event and the task in one statement), a worker claims it, runs it (the built-in
//! `confirm_material_received` on the record adapter in process; a no-op for remote workers),
//! and its completion is applied to the case as an event in the commit that completes the
//! task. Two worker set-ups: the server's in-process workers, and remote workers polling over
//! gRPC on loopback (in-process workers off).
//!
//! Two phases per set-up. Throughput: producers enqueue a backlog of tasks as fast as they can
//! and tasks/s counts from the first enqueue to the last applied completion. Latency: one
//! producer enqueues tasks at a steady rate well below that throughput, so that workers wait
//! for work and must be woken; claim-to-start latency is from the task row's `created_at` (the
//! transition's time) to its claim, read back from the database afterwards.
//!
//! Settings from the environment: AIJIA_BENCH_DATABASE_URL (default
//! postgres://postgres@127.0.0.1:5432/test), AIJIA_BENCH_TASKS in the backlog (default 5000),
//! AIJIA_BENCH_PRODUCERS (clients sending transitions, default 16), AIJIA_BENCH_WORKERS
//! (in-process slots, or remote workers, default "4 16"), AIJIA_BENCH_RATE (tasks/s of the
//! latency phase, default 50) for AIJIA_BENCH_PACED tasks (default 300), AIJIA_BENCH_BACKENDS
//! (default "postgres sqlite"). Each set-up gets a fresh schema (or SQLite file), dropped at
//! the end.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use anyhow::Context;
use hdrhistogram::Histogram;
use sqlx::Connection;
use support::{Db, actor, env};
use tonic::transport::Channel;

const ACTIVITY: &str = "confirm_material_received";
/// The lease remote workers ask for; a claim's time is its lease's end minus this.
const LEASE_SECS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Workers {
    InProcess,
    Remote,
}

struct Settings {
    base: String,
    tasks: usize,
    paced: usize,
    rate: f64,
    producers: usize,
    workers: Vec<usize>,
    backends: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings {
        base: support::database_url(),
        tasks: env("AIJIA_BENCH_TASKS", 5000),
        paced: env("AIJIA_BENCH_PACED", 300),
        rate: env("AIJIA_BENCH_RATE", 50.0),
        producers: env("AIJIA_BENCH_PRODUCERS", 16),
        workers: std::env::var("AIJIA_BENCH_WORKERS")
            .unwrap_or_else(|_| "4 16".into())
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect(),
        backends: std::env::var("AIJIA_BENCH_BACKENDS")
            .unwrap_or_else(|_| "postgres sqlite".into())
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    println!(
        "| store | workers | slots | backlog tasks/s | claim-to-start p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for backend in &settings.backends {
        for mode in [Workers::InProcess, Workers::Remote] {
            for &slots in &settings.workers {
                let db = Db::create(backend, &settings.base).await?;
                let result = run(&db, &settings, mode, slots).await;
                db.drop().await?;
                let row = result?;
                println!(
                    "| {backend} | {} | {slots} | {:.0} | {:.2} | {:.2} | {:.2} |",
                    match mode {
                        Workers::InProcess => "in-process",
                        Workers::Remote => "remote (gRPC)",
                    },
                    row.per_second,
                    row.p50_ms,
                    row.p99_ms,
                    row.max_ms,
                );
            }
        }
    }
    Ok(())
}

struct Row {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn run(db: &Db, settings: &Settings, mode: Workers, slots: usize) -> anyhow::Result<Row> {
    let mut config = ServerConfig::new("127.0.0.1:0".parse()?, db.url());
    config.workers.concurrency = match mode {
        Workers::InProcess => slots,
        Workers::Remote => 0,
    };
    config.workers.lease = Duration::from_secs(LEASE_SECS as u64);
    let running = server::start(&config, Arc::new(SystemClock)).await?;
    let endpoint = format!("http://{}", running.addr);
    let mut channels = Vec::new();
    for _ in 0..8 {
        channels.push(Channel::from_shared(endpoint.clone())?.connect().await?);
    }

    // The activity runs on its own, as it does once its type is opened to auto.
    AutomationServiceClient::new(channels[0].clone())
        .set_action_mode(pb::SetActionModeRequest {
            request_id: "bench-auto".into(),
            action_type: "material_received_confirmation".into(),
            mode: "auto".into(),
            actor: Some(pb::Actor {
                role: "operator".into(),
                id: "bench".into(),
            }),
            reason: "the benchmark measures tasks, not their review".into(),
            force: true,
        })
        .await?;

    // The cases, each one material short of the transition that enqueues its task.
    let cases = open_cases(&channels, settings.tasks, settings.producers).await?;

    let stop = tokio_util::sync::CancellationToken::new();
    let mut remote = Vec::new();
    if mode == Workers::Remote {
        for n in 0..slots {
            let client = WorkerServiceClient::new(channels[n % channels.len()].clone());
            remote.push(tokio::spawn(remote_worker(n, client, stop.clone())));
        }
    }

    let started = Instant::now();
    let mut producers = Vec::new();
    for p in 0..settings.producers {
        let mut client = CaseServiceClient::new(channels[p % channels.len()].clone());
        let mine: Vec<String> = cases
            .iter()
            .skip(p)
            .step_by(settings.producers)
            .cloned()
            .collect();
        producers.push(tokio::spawn(async move {
            for case_id in mine {
                client.signal_case(material_provided(case_id)).await?;
            }
            anyhow::Ok(())
        }));
    }
    for producer in producers {
        producer.await??;
    }
    db.wait_completed(settings.tasks).await?;
    let elapsed = started.elapsed().as_secs_f64();

    // Latency: a steady trickle, so that the workers wait for work between tasks.
    let after_id = db.last_task_id().await?;
    let paced = open_cases(&channels, settings.paced, settings.producers).await?;
    let mut client = CaseServiceClient::new(channels[0].clone());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.rate));
    for case_id in paced {
        tick.tick().await;
        client.signal_case(material_provided(case_id)).await?;
    }
    db.wait_completed(settings.tasks + settings.paced).await?;
    stop.cancel();
    for worker in remote {
        worker.await??;
    }
    running.stop().await?;

    let mut hist = Histogram::<u64>::new(3)?;
    for us in db.latencies(LEASE_SECS, after_id).await? {
        hist.record(us.max(0) as u64)?;
    }
    Ok(Row {
        per_second: settings.tasks as f64 / elapsed,
        p50_ms: hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: hist.max() as f64 / 1000.0,
    })
}

async fn open_cases(channels: &[Channel], n: usize, clients: usize) -> anyhow::Result<Vec<String>> {
    let mut openers = Vec::new();
    for c in 0..clients {
        let mut client = CaseServiceClient::new(channels[c % channels.len()].clone());
        let count = n / clients + usize::from(c < n % clients);
        openers.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                let key = uuid::Uuid::now_v7().simple().to_string();
                let resp = client
                    .start_case(pb::StartCaseRequest {
                        attributes: [("materials".to_owned(), "invoice".to_owned())]
                            .into_iter()
                            .collect(),
                        ..support::start_request("material_collection", &key)
                    })
                    .await?
                    .into_inner();
                ids.push(resp.case.context("no case")?.id);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for opener in openers {
        ids.extend(opener.await??);
    }
    Ok(ids)
}

/// Polls, completes at once with a small output, until stopped.
async fn remote_worker(
    n: usize,
    mut client: WorkerServiceClient<Channel>,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    while !stop.is_cancelled() {
        let poll = client.poll_activity_task(pb::PollActivityTaskRequest {
            worker_id: format!("bench-{n}"),
            task_queue: String::new(),
            activity_types: vec![ACTIVITY.into()],
            wait: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            lease: Some(prost_types::Duration {
                seconds: LEASE_SECS,
                nanos: 0,
            }),
        });
        let task = tokio::select! {
            task = poll => task?.into_inner(),
            () = stop.cancelled() => break,
        };
        if task.task_token.is_empty() {
            continue;
        }
        client
            .complete_activity_task(pb::CompleteActivityTaskRequest {
                task_token: task.task_token,
                output_json: r#"{"done":true}"#.into(),
            })
            .await?;
    }
    Ok(())
}

/// The transition that enqueues the case's task: its last material arrives.
fn material_provided(case_id: String) -> pb::SignalCaseRequest {
    pb::SignalCaseRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        case_id,
        actor: Some(actor("backend")),
        expected_version: None,
        event: Some(Event::MaterialProvided(pb::MaterialProvided {
            items: vec!["invoice".into()],
            note: String::new(),
        })),
    }
}

/// The task counts and latencies a run reads from its database.
impl Db {
    /// How many tasks are completed.
    async fn completed(&self) -> anyhow::Result<i64> {
        let sql = "SELECT count(*) FROM activity_tasks WHERE state = 'completed'";
        Ok(match self {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                sqlx::query_scalar(sql).fetch_one(&mut conn).await?
            }
            Db::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await?;
                sqlx::query_scalar(sql).fetch_one(&mut conn).await?
            }
        })
    }

    /// Claim-to-start latencies in microseconds: a claim's time is its lease's end minus the
    /// lease it took (no heartbeat runs in these short tasks).
    async fn latencies(&self, lease_secs: i64, after_id: i64) -> anyhow::Result<Vec<i64>> {
        Ok(match self {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                sqlx::query_scalar(
                    "SELECT (extract(epoch FROM (lease_expires_at - created_at)) * 1e6)::bigint
                            - $1 * 1000000
                     FROM activity_tasks WHERE attempts = 1 AND id > $2",
                )
                .bind(lease_secs)
                .bind(after_id)
                .fetch_all(&mut conn)
                .await?
            }
            Db::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await?;
                sqlx::query_scalar(
                    "SELECT lease_expires_at - created_at - ?1 * 1000000
                     FROM activity_tasks WHERE attempts = 1 AND id > ?2",
                )
                .bind(lease_secs)
                .bind(after_id)
                .fetch_all(&mut conn)
                .await?
            }
        })
    }

    async fn last_task_id(&self) -> anyhow::Result<i64> {
        let sql = "SELECT coalesce(max(id), 0) FROM activity_tasks";
        Ok(match self {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                sqlx::query_scalar(sql).fetch_one(&mut conn).await?
            }
            Db::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await?;
                sqlx::query_scalar(sql).fetch_one(&mut conn).await?
            }
        })
    }

    async fn wait_completed(&self, n: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        while self.completed().await? < n as i64 {
            anyhow::ensure!(Instant::now() < deadline, "tasks did not complete in time");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }
}
