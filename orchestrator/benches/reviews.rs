//! The review queue under load: how long `ListReviews` takes with many drafts waiting, at the
//! head of the queue, deep in it, filtered, and among decided drafts.
//!
//! `cargo bench -p aijia-orchestrator --bench reviews` (release build). Settings from the
//! environment: AIJIA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
//! AIJIA_BENCH_BACKENDS (default "postgres sqlite"), AIJIA_BENCH_DRAFTS (default 20000),
//! AIJIA_BENCH_CALLS per query (default 200). Each case gets one high-risk draft, so each waits
//! for review; every tenth is a `state_update` (the rest `standard_faq`), every fiftieth is
//! transferred to the team `billing`, every twentieth is approved.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use anyhow::Context;
use hdrhistogram::Histogram;
use sqlx::Connection;
use support::{Db, actor, env};
use tonic::transport::Channel;

const HIGH_RISK: &str = "We will refund 2000 yuan to your card and guarantee it arrives tomorrow.";
/// Concurrent callers while the drafts are created.
const WRITERS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = support::database_url();
    let drafts: usize = env("AIJIA_BENCH_DRAFTS", 20_000);
    let calls: usize = env("AIJIA_BENCH_CALLS", 200);
    let backends: Vec<String> = std::env::var("AIJIA_BENCH_BACKENDS")
        .unwrap_or_else(|_| "postgres sqlite".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    println!("| store | drafts | query | rows | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for backend in &backends {
        let db = Db::create(backend, &base).await?;
        let result = run(backend, db.url(), drafts, calls).await;
        db.drop().await?;
        result?;
    }
    Ok(())
}

async fn run(backend: &str, url: &str, drafts: usize, calls: usize) -> anyhow::Result<()> {
    let mut config = ServerConfig::new("127.0.0.1:0".parse()?, url.to_owned());
    config.workers.concurrency = 0;
    let running = server::start(&config, Arc::new(SystemClock)).await?;
    let channel = Channel::from_shared(format!("http://{}", running.addr))?
        .connect()
        .await?;
    let mut reviews = ReviewServiceClient::new(channel.clone());
    reviews
        .add_reviewer(pb::AddReviewerRequest {
            reviewer_id: "rev-1".into(),
            display_name: "Bench".into(),
            teams: vec!["billing".into()],
            active: Some(true),
            actor: Some(actor("operator")),
        })
        .await?;

    eprintln!("{backend}: creating {drafts} drafts…");
    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let channel = channel.clone();
        writers.push(tokio::spawn(async move {
            let mut cases = CaseServiceClient::new(channel.clone());
            let mut reviews = ReviewServiceClient::new(channel);
            let mut ids = Vec::new();
            for i in (w..drafts).step_by(WRITERS) {
                ids.push(draft(&mut cases, &mut reviews, i).await?);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids: Vec<(usize, String)> = Vec::with_capacity(drafts);
    for writer in writers {
        ids.extend(writer.await??);
    }
    eprintln!(
        "{backend}: {drafts} drafts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (i, draft_id) in &ids {
        if i.is_multiple_of(50) {
            reviews
                .transfer_review(pb::TransferReviewRequest {
                    request_id: format!("bench-transfer-{i}"),
                    draft_id: draft_id.clone(),
                    reviewer_id: "rev-1".into(),
                    to_team: "billing".into(),
                    ..Default::default()
                })
                .await?;
        } else if i.is_multiple_of(20) {
            reviews
                .approve_draft(pb::ApproveDraftRequest {
                    request_id: format!("bench-approve-{i}"),
                    draft_id: draft_id.clone(),
                    reviewer_id: "rev-1".into(),
                    note: String::new(),
                })
                .await?;
        }
    }

    // Autovacuum analyzes a table this size soon after it is loaded; a benchmark that loaded it
    // seconds ago would otherwise measure plans made without statistics.
    if backend == "postgres" {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }

    // A page token from the middle of the queue.
    let mut middle = String::new();
    for _ in 0..(drafts / 2 / 500) {
        middle = reviews
            .list_reviews(pb::ListReviewsRequest {
                page_size: 500,
                page_token: middle.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .next_page_token;
    }
    let queries: Vec<(&str, pb::ListReviewsRequest)> = vec![
        (
            "head of the queue, 50",
            pb::ListReviewsRequest {
                page_size: 50,
                ..Default::default()
            },
        ),
        (
            "a page from the middle, 50",
            pb::ListReviewsRequest {
                page_size: 50,
                page_token: middle,
                ..Default::default()
            },
        ),
        (
            "action type state_update, 50",
            pb::ListReviewsRequest {
                page_size: 50,
                action_type: "state_update".into(),
                ..Default::default()
            },
        ),
        (
            "team billing, 50",
            pb::ListReviewsRequest {
                page_size: 50,
                team: "billing".into(),
                ..Default::default()
            },
        ),
        (
            "approved, 50",
            pb::ListReviewsRequest {
                page_size: 50,
                status: "approved".into(),
                ..Default::default()
            },
        ),
    ];
    for (name, request) in queries {
        let mut hist = Histogram::<u64>::new(3)?;
        let mut rows = 0;
        for _ in 0..calls {
            let started = Instant::now();
            rows = reviews
                .list_reviews(request.clone())
                .await?
                .into_inner()
                .drafts
                .len();
            hist.record(started.elapsed().as_micros() as u64)?;
        }
        println!(
            "| {backend} | {drafts} | {name} | {rows} | {:.2} | {:.2} |",
            hist.value_at_quantile(0.5) as f64 / 1000.0,
            hist.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }
    tokio::time::timeout(Duration::from_secs(30), running.stop())
        .await
        .context("stopping the server")?
}

/// A case with one high-risk draft: it waits for review.
async fn draft(
    cases: &mut CaseServiceClient<Channel>,
    reviews: &mut ReviewServiceClient<Channel>,
    i: usize,
) -> anyhow::Result<(usize, String)> {
    let case = cases
        .start_case(support::start_request("progress_inquiry", &i.to_string()))
        .await?
        .into_inner()
        .case
        .context("no case")?;
    let submitted = reviews
        .submit_draft(pb::SubmitDraftRequest {
            request_id: format!("bench-draft-{i}"),
            case_id: case.id,
            text: HIGH_RISK.into(),
            audience: "customer_private".into(),
            action_type: if i.is_multiple_of(10) {
                "state_update"
            } else {
                "standard_faq"
            }
            .into(),
            author: Some(actor("reception")),
            flags: None,
        })
        .await?
        .into_inner();
    Ok((i, submitted.draft.context("no draft")?.draft_id))
}
