//! What a hostile risk policy costs now that compile sizes are bounded: the time to refuse it
//! and the memory of the process (VmRSS, VmHWM from /proc/self/status) before and after, next
//! to a policy at the limits, the shipped policy, and one hostile rule compiled with the regex
//! crate's default limits (what every node used to do, 200 times over).
//!
//! `cargo bench -p aijia-workflows --bench risk_policy_limits`, on Linux.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use aijia_workflows::risk::RiskPolicy;

#[path = "../tests/risk/sized.rs"]
mod sized;

/// (VmRSS, VmHWM) in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn measure(what: &str, work: impl FnOnce() -> String) {
    let (rss_before, hwm_before) = memory();
    let started = Instant::now();
    let outcome = work();
    let took = started.elapsed();
    let (rss_after, hwm_after) = memory();
    println!(
        "| {what} | {outcome} | {:.2} ms | {rss_before:.1} → {rss_after:.1} MiB | {hwm_before:.1} → {hwm_after:.1} MiB |",
        took.as_secs_f64() * 1e3
    );
}

fn main() {
    let hostile = sized::hostile("hostile-1");
    let at_limits = sized::at_limits("at-limits-1");
    println!("| policy | outcome | time | VmRSS before → after | VmHWM before → after |");
    println!("| --- | --- | --- | --- | --- |");
    measure(
        &format!("hostile: 200 × `\\w{{100}}` ({} KB)", hostile.len() / 1000),
        || match RiskPolicy::parse(black_box(&hostile)) {
            Ok(_) => "loaded (!)".to_owned(),
            Err(e) => format!("refused: {}", e.to_string().split(';').next().unwrap_or("")),
        },
    );
    measure(
        &format!("at the limits ({} KB)", at_limits.len() / 1000),
        || {
            let policy = RiskPolicy::parse(black_box(&at_limits)).unwrap();
            format!("loaded, {} rules", policy.rule_ids().count())
        },
    );
    measure("shipped (`workflows/policy/risk.toml`)", || {
        let policy = RiskPolicy::builtin();
        format!("loaded, {} rules", policy.rule_ids().count())
    });
    measure(
        "one `\\w{100}` with the regex crate's default limits",
        || {
            let regex = regex::RegexBuilder::new(r"\w{100}")
                .case_insensitive(true)
                .build();
            black_box(&regex);
            format!("compiled: {}", regex.is_ok())
        },
    );
}
