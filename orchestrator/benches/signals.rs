//! Signals per second and latency over real gRPC on loopback, against PostgreSQL.
//!
//! `cargo bench -p aijia-orchestrator --bench signals` (release build). Settings come from the
//! environment: AIJIA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
//! AIJIA_BENCH_SECONDS per concurrency level (default 10), AIJIA_BENCH_CLIENTS (default
//! "1 16 64"). Each signal is a full transition with durable work like pg-limit's `b_cte`:
//! the case row, a history event, two timers cancelled and two started, in one statement.
//! The server runs in this process on a fresh schema, which is dropped at the end.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event;
use anyhow::Context;
use hdrhistogram::Histogram;
use tonic::transport::Channel;

const CASES: usize = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = support::database_url();
    let seconds: u64 = support::env("AIJIA_BENCH_SECONDS", 10);
    let levels: Vec<usize> = std::env::var("AIJIA_BENCH_CLIENTS")
        .unwrap_or_else(|_| "1 16 64".into())
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();

    let db = support::Db::create("postgres", &base).await?;
    let result = run(db.url(), seconds, &levels).await;
    db.drop().await?;
    result
}

async fn run(url: &str, seconds: u64, levels: &[usize]) -> anyhow::Result<()> {
    let running = server::start(
        &ServerConfig::new("127.0.0.1:0".parse()?, url.to_owned()),
        Arc::new(SystemClock),
    )
    .await?;
    let endpoint = format!("http://{}", running.addr);
    // Several HTTP/2 connections, as many independent callers would have.
    let mut channels = Vec::new();
    for _ in 0..8 {
        channels.push(Channel::from_shared(endpoint.clone())?.connect().await?);
    }

    eprintln!("creating {CASES} cases…");
    let mut ids = Vec::with_capacity(CASES);
    let mut client = CaseServiceClient::new(channels[0].clone());
    for i in 0..CASES {
        let resp = client
            .start_case(support::start_request("progress_inquiry", &i.to_string()))
            .await?
            .into_inner();
        ids.push(resp.case.context("no case")?.id);
    }

    println!("| clients | signals/s | p50 ms | p99 ms | signals |");
    println!("|---|---|---|---|---|");
    for &clients in levels {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for worker in 0..clients {
            let mut client = CaseServiceClient::new(channels[worker % channels.len()].clone());
            let mine: Vec<String> = ids.iter().skip(worker).step_by(clients).cloned().collect();
            tasks.push(tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3).expect("histogram");
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let case_id = mine[(n as usize) % mine.len()].clone();
                    // Alternate parties so every signal leaves one waiting state for another.
                    let party = if (n / mine.len() as u64).is_multiple_of(2) {
                        "customer"
                    } else {
                        "executor"
                    };
                    let started = Instant::now();
                    let sent = client
                        .signal_case(pb::SignalCaseRequest {
                            request_id: uuid::Uuid::now_v7().to_string(),
                            case_id,
                            actor: Some(support::actor("backend")),
                            expected_version: None,
                            event: Some(Event::WaitFor(pb::WaitFor {
                                party: party.into(),
                                what: "benchmark step".into(),
                                checklist: vec![],
                            })),
                        })
                        .await;
                    sent?;
                    hist.record(started.elapsed().as_micros() as u64)?;
                    n += 1;
                }
                anyhow::Ok(hist)
            }));
        }
        let started = Instant::now();
        let mut total = Histogram::<u64>::new(3)?;
        for task in tasks {
            total.add(task.await??)?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "| {clients} | {:.0} | {:.2} | {:.2} | {} |",
            total.len() as f64 / elapsed,
            total.value_at_quantile(0.5) as f64 / 1000.0,
            total.value_at_quantile(0.99) as f64 / 1000.0,
            total.len()
        );
    }
    running.stop().await
}
