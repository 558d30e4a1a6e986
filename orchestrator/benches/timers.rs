//! Timer firing throughput and lateness on PostgreSQL: 100,000 pending timers come due in a
//! short window; how fast do they fire, and how late, with one server process and with two?
//!
//! `cargo bench -p aijia-orchestrator --bench timers`. Settings from the environment:
//! AIJIA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
//! AIJIA_BENCH_TIMERS (default 100000), AIJIA_BENCH_WINDOW_SECS (default 10: timers come due
//! spread evenly over this window). Each round uses a fresh schema: cases are cloned in bulk
//! from one case started through the API, each with one remind timer; then the servers (each
//! with its own pool and timer loop, as separate processes would have) fire them. Lateness is
//! the time from a timer's due time to the commit of its `timer_fired` event.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::SystemClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_proto::v1::case_service_client::CaseServiceClient;
use anyhow::Context;
use sqlx::{Connection, PgConnection, Row};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = support::database_url();
    let timers: i64 = support::env("AIJIA_BENCH_TIMERS", 100_000);
    let window: i64 = support::env("AIJIA_BENCH_WINDOW_SECS", 10);
    println!(
        "| processes | timers | fired/s (from first due to last commit) | lateness p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|");
    for processes in [1, 2] {
        round(&base, processes, timers, window).await?;
    }
    Ok(())
}

async fn round(base: &str, processes: usize, timers: i64, window: i64) -> anyhow::Result<()> {
    let db = support::Db::create("postgres", base).await?;
    let result = fire_all(db.url(), processes, timers, window).await;
    db.drop().await?;
    result
}

async fn fire_all(url: &str, processes: usize, timers: i64, window: i64) -> anyhow::Result<()> {
    let mut servers = Vec::new();
    for _ in 0..processes {
        let mut config = ServerConfig::new("127.0.0.1:0".parse()?, url);
        // Timers alone: the reminder tasks they enqueue stay queued.
        config.workers.concurrency = 0;
        servers.push(server::start(&config, Arc::new(SystemClock)).await?);
    }
    let template = {
        let channel =
            tonic::transport::Channel::from_shared(format!("http://{}", servers[0].addr))?
                .connect()
                .await?;
        CaseServiceClient::new(channel)
            .start_case(support::start_request("material_collection", "template"))
            .await?
            .into_inner()
            .case
            .context("no case")?
            .id
    };
    let template = uuid::Uuid::parse_str(&template)?;

    eprintln!("{processes} process(es): cloning {timers} cases with one due timer each…");
    let mut db = PgConnection::connect(url).await?;
    sqlx::query("DELETE FROM timers").execute(&mut db).await?;
    sqlx::query(
        "INSERT INTO cases (id, workflow_type, business_key, state, waiting_for, waiting_since,
                            owner, customer_id, version, start_request_id, data, created_at, updated_at)
         SELECT gen_random_uuid(), workflow_type, business_key || '-' || g, state, waiting_for,
                waiting_since, owner, customer_id, version, start_request_id || '-' || g, data,
                created_at, updated_at
         FROM cases, generate_series(1, $2) AS g WHERE id = $1",
    )
    .bind(template)
    .bind(timers)
    .execute(&mut db)
    .await?;
    // Due from 2 s from now, evenly over the window.
    let start = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    sqlx::query(
        "INSERT INTO timers (case_id, name, fire_at, created_seq, action)
         SELECT id, 'waiting_for_customer/remind',
                $2 + (row_number() OVER (ORDER BY id)) * ($3 / $4::float8) * interval '1 second',
                1, '{\"type\":\"remind\",\"every_secs\":null,\"remaining\":0}'::jsonb
         FROM cases WHERE id <> $1",
    )
    .bind(template)
    .bind(start)
    .bind(window as f64)
    .bind(timers as f64)
    .execute(&mut db)
    .await?;
    // The servers sleep until their next known timer; these were written behind their backs.
    sqlx::query("SELECT pg_notify('aijia_timers', '')")
        .execute(&mut db)
        .await?;

    let began = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM timers")
            .fetch_one(&mut db)
            .await?;
        if left == 0 {
            break;
        }
        if began.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("{left} timers still pending after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let row = sqlx::query(
        "WITH f AS (
             SELECT case_id, actor_id, at,
                    (extract(epoch FROM at - (payload->>'fire_at')::timestamptz) * 1000)::float8 AS late_ms
             FROM case_events WHERE event_type = 'timer_fired')
         SELECT count(*) AS n,
                count(DISTINCT case_id) AS cases,
                count(DISTINCT actor_id) AS firing_processes,
                extract(epoch FROM max(at) - $1)::float8 AS span_s,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY late_ms) AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY late_ms) AS p99,
                max(late_ms) AS max_ms
         FROM f",
    )
    .bind(start)
    .fetch_one(&mut db)
    .await?;
    for s in servers {
        s.stop().await?;
    }
    let n: i64 = row.get("n");
    let cases: i64 = row.get("cases");
    let firing: i64 = row.get("firing_processes");
    anyhow::ensure!(
        n == timers && cases == timers,
        "{n} fires for {cases} cases, {timers} timers: not exactly once"
    );
    println!(
        "| {processes} ({firing} fired) | {n} | {:.0} | {:.0} | {:.0} | {:.0} |",
        n as f64 / row.get::<f64, _>("span_s"),
        row.get::<f64, _>("p50"),
        row.get::<f64, _>("p99"),
        row.get::<f64, _>("max_ms"),
    );
    Ok(())
}
