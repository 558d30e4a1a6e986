//! A remote worker: serves activity types of a running Aijia server from a process of its own,
//! with nothing but the generated `aijia.v1` client and the activities [`Registry`].
//!
//! ```sh
//! # the server leaves confirm_material_received to remote workers:
//! cargo run -p aijia-orchestrator -- dev --remote-activity confirm_material_received
//! # and this worker serves it (record adapter unless --adapters names a file):
//! cargo run -p aijia-activities --example remote_worker -- --activity confirm_material_received
//! ```
//!
//! Flags: `--server URL` (default `http://127.0.0.1:7600`, or `AIJIA_SERVER`), `--activity
//! NAME` (repeatable; default: every built-in activity), `--worker-id ID`, `--concurrency N`
//! (default 2), `--adapters FILE` (the adapters file, as for the server). Ctrl-C stops it
//! after the tasks in hand are reported.
//!
//! The protocol, as any language would speak it: `PollActivityTask` (a long poll; an empty
//! `task_token` means none came), run the task, then `CompleteActivityTask` or
//! `FailActivityTask` with the token; `HeartbeatActivityTask` while a long task runs (stop if it
//! answers `cancel_requested`). Reports are retried with the same token until the server
//! answers: a result is applied to its case once however often it is sent.

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use aijia_activities::{ActivityContext, ActivityError, Adapters, AdaptersConfig, Registry};
use aijia_proto::v1 as pb;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The lease asked for, and how often a running task renews it.
const LEASE: Duration = Duration::from_secs(30);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Args {
    server: String,
    activities: Vec<String>,
    worker_id: String,
    concurrency: usize,
    adapters: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        server: std::env::var("AIJIA_SERVER").unwrap_or_else(|_| "http://127.0.0.1:7600".into()),
        activities: Vec::new(),
        worker_id: format!("remote-worker-{}", std::process::id()),
        concurrency: 2,
        adapters: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => args.server = value()?,
            "--activity" => args.activities.push(value()?),
            "--worker-id" => args.worker_id = value()?,
            "--concurrency" => {
                args.concurrency = value()?
                    .parse()
                    .map_err(|_| "--concurrency takes a number".to_owned())?;
            }
            "--adapters" => args.adapters = Some(value()?.into()),
            other => {
                return Err(format!(
                    "unknown flag {other}; see the top of remote_worker.rs"
                ));
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = args()?;
    let adapters = match &args.adapters {
        Some(path) => AdaptersConfig::load(path)?.build()?,
        None => Adapters::default(),
    };
    let registry = Registry::builtin(adapters);
    let activities = if args.activities.is_empty() {
        registry.names().into_iter().map(str::to_owned).collect()
    } else {
        args.activities.clone()
    };
    if let Some(unknown) = activities.iter().find(|a| !registry.contains(a)) {
        return Err(format!(
            "{unknown:?} is not an activity here; known: {:?}",
            registry.names()
        )
        .into());
    }
    let channel = Channel::from_shared(args.server.clone())?
        .connect()
        .await
        .map_err(|e| format!("connecting to {}: {e}", args.server))?;
    println!(
        "{} serving {} on {} ({} at a time); Ctrl-C stops",
        args.worker_id,
        activities.join(", "),
        args.server,
        args.concurrency
    );
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    let mut loops = Vec::new();
    for n in 0..args.concurrency.max(1) {
        let worker = Worker {
            id: format!("{}/{n}", args.worker_id),
            client: WorkerServiceClient::new(channel.clone()),
            registry: registry.clone(),
            activities: activities.clone(),
        };
        loops.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    for handle in loops {
        handle.await?;
    }
    Ok(())
}

struct Worker {
    id: String,
    client: WorkerServiceClient<Channel>,
    registry: Registry,
    activities: Vec<String>,
}

impl Worker {
    async fn run(mut self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let poll = self.client.poll_activity_task(pb::PollActivityTaskRequest {
                worker_id: self.id.clone(),
                task_queue: String::new(),
                activity_types: self.activities.clone(),
                wait: Some(prost_duration(Duration::from_secs(30))),
                lease: Some(prost_duration(LEASE)),
            });
            let task = tokio::select! {
                polled = poll => match polled {
                    Ok(resp) => resp.into_inner(),
                    Err(status) => {
                        eprintln!("{}: poll failed: {status}; retrying", self.id);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
                () = shutdown.cancelled() => break,
            };
            if task.task_token.is_empty() {
                continue; // the wait ended without a task
            }
            self.serve(task).await;
        }
    }

    /// Runs one task with heartbeats, and reports its outcome.
    async fn serve(&mut self, task: pb::PollActivityTaskResponse) {
        let ctx = ActivityContext {
            case_id: task.case_id.clone(),
            task_id: task.task_id,
            attempt: task.attempt,
            idempotency_key: task.idempotency_key.clone(),
        };
        println!(
            "{}: task {} {} (case {}, attempt {})",
            self.id, task.task_id, task.activity, task.case_id, task.attempt
        );
        let input = serde_json::from_str(&task.input_json).unwrap_or(serde_json::Value::Null);
        let run = self.registry.run(&task.activity, &ctx, input);
        let mut heartbeats = self.client.clone();
        let token = task.task_token.clone();
        let heartbeat = async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                let beat = heartbeats
                    .heartbeat_activity_task(pb::HeartbeatActivityTaskRequest {
                        task_token: token.clone(),
                        details_json: String::new(),
                        lease: Some(prost_duration(LEASE)),
                    })
                    .await;
                if matches!(&beat, Ok(resp) if resp.get_ref().cancel_requested) {
                    return;
                }
            }
        };
        let outcome = tokio::select! {
            outcome = run => outcome,
            () = heartbeat => {
                println!("{}: task {} was cancelled; dropped", self.id, task.task_id);
                return;
            }
        };
        self.report(&task.task_token, outcome).await;
    }

    /// Sends the outcome until the server answers (the same token every time).
    async fn report(&mut self, token: &str, outcome: Result<serde_json::Value, ActivityError>) {
        loop {
            let answered = match &outcome {
                Ok(output) => self
                    .client
                    .complete_activity_task(pb::CompleteActivityTaskRequest {
                        task_token: token.to_owned(),
                        output_json: output.to_string(),
                    })
                    .await
                    .map(|r| format!("completed (applied: {})", r.get_ref().applied)),
                Err(error) => self
                    .client
                    .fail_activity_task(pb::FailActivityTaskRequest {
                        task_token: token.to_owned(),
                        retryable: error.is_retryable(),
                        code: error.code.clone(),
                        message: error.message.clone(),
                        details_json: error.details.to_string(),
                    })
                    .await
                    .map(|r| format!("failed {error} (will retry: {})", r.get_ref().will_retry)),
            };
            match answered {
                Ok(what) => {
                    println!("{}: {what}", self.id);
                    return;
                }
                // Unavailable and the like: the server restarts, or the network hiccups.
                Err(status) if status.code() != tonic::Code::InvalidArgument => {
                    eprintln!("{}: reporting failed: {status}; retrying", self.id);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(status) => {
                    eprintln!("{}: the server refused the report: {status}", self.id);
                    return;
                }
            }
        }
    }
}

fn prost_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}
