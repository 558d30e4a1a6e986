//! Signals per second and latency over real gRPC on loopback, against PostgreSQL.
//!
//! `cargo bench -p aijia-orchestrator --bench signals` (release build). Settings come from the
//! environment: AIJIA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
//! AIJIA_BENCH_SECONDS per concurrency level (default 10), AIJIA_BENCH_CLIENTS (default
//! "1 16 64"). Each signal is a full transition with durable work like pg-limit's `b_cte`:
//! the case row, a history event, two timers cancelled and two started, in one statement.
//! The server runs in this process on a fresh schema, which is dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event;
use anyhow::Context;
use hdrhistogram::Histogram;
use sqlx::Connection;
use tonic::transport::Channel;

const CASES: usize = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("AIJIA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let seconds: u64 = std::env::var("AIJIA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let levels: Vec<usize> = std::env::var("AIJIA_BENCH_CLIENTS")
        .unwrap_or_else(|_| "1 16 64".into())
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();

    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .context("while connecting to PostgreSQL")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");

    let result = run(&url, seconds, &levels).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await?;
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
            .start_case(pb::StartCaseRequest {
                request_id: format!("bench-start-{i}"),
                workflow_type: "progress_inquiry".into(),
                business_key: format!("bench-{i}"),
                customer: Some(pb::CustomerRef {
                    id: format!("c-{i}"),
                    display_name: "Bench".into(),
                }),
                subject: "benchmark".into(),
                owner: "bench".into(),
                attributes: Default::default(),
                actor: Some(actor()),
            })
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
                            actor: Some(actor()),
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

fn actor() -> pb::Actor {
    pb::Actor {
        role: "backend".into(),
        id: "bench".into(),
    }
}
