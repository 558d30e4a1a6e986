//! The gate on the labelled corpus: every high-risk draft is caught with every expected
//! category, and few ordinary replies are held.
//!
//! 100% here says the lexicons cover this corpus, not that they cover tomorrow's phrasing. To
//! know that, add new drafts in batches and score the gate on a batch *before* tuning it. Three
//! such batches, written after the gate was frozen, sent 27/55, 25/56 and 7/34 of their
//! high-risk drafts out without review (before each batch was folded in and the gate tuned),
//! and held 2/49, 1/40 and 0/22 of their ordinary replies.

use std::collections::BTreeMap;

use aijia_workflows::risk::{Category, RiskPolicy};

use crate::corpus::{self, Labelled};

/// The bar for low-risk drafts sent to review. Recall comes first, so some ordinary replies
/// are held (a security FAQ that names "password", a group notice that names a holiday); more
/// than this means the lexicons are too blunt.
const MAX_FALSE_POSITIVE_RATE: f64 = 0.05;

#[test]
fn corpus_is_large_varied_and_bilingual() {
    let drafts = corpus::load();
    assert!(drafts.len() >= 240, "{} drafts", drafts.len());
    let low = drafts.iter().filter(|d| d.expected.is_empty()).count();
    assert!(low >= 100, "{low} low-risk drafts");
    let mut per_category: BTreeMap<Category, usize> = BTreeMap::new();
    for d in &drafts {
        for c in &d.expected {
            *per_category.entry(*c).or_default() += 1;
        }
    }
    for c in Category::ALL.iter().filter(|c| **c != Category::InDoubt) {
        let n = per_category.get(c).copied().unwrap_or(0);
        assert!(n >= 10, "category {c} has {n} examples, want at least 10");
    }
    let chinese = drafts
        .iter()
        .filter(|d| corpus::is_chinese(d.draft.text()))
        .count();
    let share = chinese as f64 / drafts.len() as f64;
    assert!((0.4..=0.6).contains(&share), "Chinese share {share:.2}");
    println!(
        "corpus: {} drafts, {chinese} Chinese, {low} low-risk; per category: {per_category:?}",
        drafts.len()
    );
}

fn describe(drafts: &[Labelled], policy: &RiskPolicy, line: usize) -> String {
    let item = drafts.iter().find(|d| d.line == line).expect("line");
    let a = aijia_workflows::risk::assess(&item.draft, item.identity, policy);
    a.findings
        .iter()
        .map(|f| format!("{}:{}={:?}", f.category, f.rule, f.matched))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn every_high_risk_draft_is_held_with_its_categories() {
    let drafts = corpus::load();
    let policy = crate::support::policy();
    let score = corpus::score(&drafts, policy);
    for m in &score.missed {
        println!(
            "MISSED line {}: missing {:?}, found {:?}: {}",
            m.line, m.missing, m.found, m.text
        );
    }
    println!(
        "recall {:.1}% ({}/{})",
        score.recall() * 100.0,
        score.high_caught,
        score.high
    );
    assert!(
        score.missed.is_empty(),
        "{} high-risk drafts missed",
        score.missed.len()
    );
    assert_eq!(score.high_caught, score.high);
}

#[test]
fn few_ordinary_replies_are_held() {
    let drafts = corpus::load();
    let policy = crate::support::policy();
    let score = corpus::score(&drafts, policy);
    for m in &score.false_positives {
        println!(
            "HELD line {}: {:?}: {} [{}]",
            m.line,
            m.found,
            m.text,
            describe(&drafts, policy, m.line)
        );
    }
    println!(
        "false-positive rate {:.1}% ({}/{})",
        score.false_positive_rate() * 100.0,
        score.low_reviewed,
        score.low
    );
    assert!(
        score.false_positive_rate() <= MAX_FALSE_POSITIVE_RATE,
        "{:.1}% of low-risk drafts held, bar is {:.0}%",
        score.false_positive_rate() * 100.0,
        MAX_FALSE_POSITIVE_RATE * 100.0
    );
}
