//! How long the server takes to refuse a request whose list is far past its cap: 100k items
//! in a checklist, a material list, a case's attributes, over real gRPC on loopback.
//!
//! `cargo bench -p aijia-orchestrator --bench bounds` (release build). AIJIA_BENCH_ROUNDS
//! (default 50) requests of each kind. The cap is checked before any entry is read, so the
//! time is what carrying and decoding the ~1 MB message costs; a one-item refusal and one
//! string as large as the list are the baselines. The one-pass de-duplication of 100k names is timed too. The server runs in this
//! process on a fresh PostgreSQL schema (AIJIA_BENCH_DATABASE_URL, as the other benches),
//! which no refusal reaches.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event;
use anyhow::Context;
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

const ITEMS: usize = 100_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = support::env("AIJIA_BENCH_ROUNDS", 50);
    let db = support::Db::create("postgres", &support::database_url()).await?;
    let result = run(db.url(), rounds).await;
    db.drop().await?;
    result
}

async fn run(url: &str, rounds: usize) -> anyhow::Result<()> {
    let running = server::start(
        &ServerConfig::new("127.0.0.1:0".parse()?, url.to_owned()),
        Arc::new(SystemClock),
    )
    .await?;
    let channel = Channel::from_shared(format!("http://{}", running.addr))?
        .connect()
        .await?;
    let mut client = CaseServiceClient::new(channel)
        .max_encoding_message_size(usize::MAX)
        .max_decoding_message_size(usize::MAX);
    let case = client
        .start_case(support::start_request("material_collection", "bounds"))
        .await?
        .into_inner()
        .case
        .context("StartCase answered no case")?;
    let names = |n: usize| (0..n).map(|i| format!("item-{i}")).collect::<Vec<_>>();
    let signal = |event: Event| pb::SignalCaseRequest {
        request_id: "bench-bounds".into(),
        case_id: case.id.clone(),
        actor: Some(support::actor("customer")),
        expected_version: None,
        event: Some(event),
    };
    let kinds: Vec<(&str, Request)> = vec![
        (
            "material_provided.items, 1 empty item (baseline)",
            Request::Signal(signal(Event::MaterialProvided(pb::MaterialProvided {
                items: vec![String::new()],
                note: String::new(),
            }))),
        ),
        (
            "material_provided.note, 1.1 MB of text (one string as large)",
            Request::Signal(signal(Event::MaterialProvided(pb::MaterialProvided {
                items: vec!["invoice".into()],
                note: "n".repeat(1_189_000),
            }))),
        ),
        (
            "material_provided.items, 100k",
            Request::Signal(signal(Event::MaterialProvided(pb::MaterialProvided {
                items: names(ITEMS),
                note: String::new(),
            }))),
        ),
        (
            "wait_for.checklist, 100k",
            Request::Signal(signal(Event::WaitFor(pb::WaitFor {
                party: "customer".into(),
                what: String::new(),
                checklist: names(ITEMS),
            }))),
        ),
        (
            "StartCase attributes, 100k",
            Request::Start(pb::StartCaseRequest {
                attributes: names(ITEMS)
                    .into_iter()
                    .map(|k| (k, "v".to_owned()))
                    .collect(),
                ..support::start_request("material_collection", "bounds-attrs")
            }),
        ),
    ];

    println!("| request | size | median | p95 | max |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, request) in &kinds {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            // Copied before the clock starts: the copy is the client's cost, not the server's.
            let request = request.clone();
            let started = Instant::now();
            let result = match request {
                Request::Signal(r) => client.signal_case(r).await.map(|_| ()),
                Request::Start(r) => client.start_case(r).await.map(|_| ()),
            };
            times.push(started.elapsed());
            let status = result.err().context("an oversized request was accepted")?;
            anyhow::ensure!(status.code() == Code::InvalidArgument, "{name}: {status:?}");
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "| {name} | {} KB | {} | {} | {} |",
            request.size() / 1024,
            ms(at(0.5)),
            ms(at(0.95)),
            ms(at(1.0)),
        );
    }
    running.stop().await?;

    // What the cap saves no longer matters for de-duplication either: it is one pass.
    let many = names(ITEMS);
    let started = Instant::now();
    let unique = aijia_workflows::bounds::unique(many.iter().map(String::as_str));
    println!(
        "\nde-duplicating {} distinct names (workflows::bounds::unique): {}",
        unique.len(),
        ms(started.elapsed())
    );
    Ok(())
}

#[derive(Clone)]
enum Request {
    Signal(pb::SignalCaseRequest),
    Start(pb::StartCaseRequest),
}

impl Request {
    fn size(&self) -> usize {
        match self {
            Request::Signal(r) => r.encoded_len(),
            Request::Start(r) => r.encoded_len(),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
