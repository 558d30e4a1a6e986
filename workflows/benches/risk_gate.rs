//! Throughput of the risk gate on the labelled corpus, with its recall and false-positive
//! rate, printed as a markdown snippet for BENCHMARKS.md.
//!
//! `cargo bench -p aijia-workflows --bench risk_gate` (AIJIA_BENCH_SECONDS to change the
//! default 2 s run). Run without `--bench` (as `cargo test --all-targets` does), it makes one
//! pass over the corpus.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aijia_workflows::risk::{RiskPolicy, assess};

#[path = "../tests/risk/corpus.rs"]
#[allow(dead_code)]
mod corpus;

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` one quick pass is enough.
    let benching = std::env::args().any(|a| a == "--bench");
    let seconds: f64 = if benching {
        std::env::var("AIJIA_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0)
    } else {
        0.0
    };
    let started = Instant::now();
    let policy = RiskPolicy::builtin();
    let compile = started.elapsed();
    let drafts = corpus::load();
    let score = corpus::score(&drafts, &policy);

    // Warm up, then assess the whole corpus until the time is up.
    for item in &drafts {
        black_box(assess(&item.draft, item.identity, &policy));
    }
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut assessed = 0u64;
    let mut bytes = 0u64;
    loop {
        for item in &drafts {
            black_box(assess(black_box(&item.draft), item.identity, &policy));
            bytes += item.draft.text().len() as u64;
        }
        assessed += drafts.len() as u64;
        if started.elapsed() >= budget {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let per_second = assessed as f64 / elapsed;
    let chinese = drafts
        .iter()
        .filter(|d| corpus::is_chinese(d.draft.text()))
        .count();

    println!("### Risk gate (`workflows/benches/risk_gate.rs`)");
    println!();
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| policy version | `{}` |", policy.version());
    println!(
        "| build | {} |",
        if cfg!(debug_assertions) {
            "debug (not a throughput figure)"
        } else {
            "release"
        }
    );
    println!(
        "| corpus | {} drafts ({} Chinese, {} other): {} high-risk, {} low-risk |",
        drafts.len(),
        chinese,
        drafts.len() - chinese,
        score.high,
        score.low
    );
    println!(
        "| recall of high-risk drafts | {:.1}% ({}/{}) |",
        score.recall() * 100.0,
        score.high_caught,
        score.high
    );
    println!(
        "| low-risk drafts sent to review | {:.1}% ({}/{}) |",
        score.false_positive_rate() * 100.0,
        score.low_reviewed,
        score.low
    );
    println!(
        "| throughput (1 thread) | {:.0} drafts/s, {:.1} MB/s ({} drafts in {:.2} s) |",
        per_second,
        bytes as f64 / elapsed / 1e6,
        assessed,
        elapsed
    );
    println!(
        "| mean time per draft | {:.2} µs |",
        elapsed * 1e6 / assessed as f64
    );
    println!(
        "| policy parse + compile | {:.1} ms |",
        compile.as_secs_f64() * 1e3
    );
}
