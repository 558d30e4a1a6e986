//! The labelled corpus (`corpus.jsonl`) and how the gate scores on it. Shared by the risk tests
//! and the `risk_gate` bench (`#[path]`-included there).

use std::collections::BTreeSet;

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Category, Draft, DraftFlags, RiskPolicy, assess};
use serde::Deserialize;

pub const CORPUS: &str = include_str!("corpus.jsonl");

/// One labelled draft. `expected` empty: an ordinary low-risk reply.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub line: usize,
    pub draft: Draft,
    pub identity: IdentityStatus,
    pub expected: BTreeSet<Category>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    text: String,
    audience: Audience,
    identity: IdentityStatus,
    action_type: String,
    flags: DraftFlags,
    expected: Vec<Category>,
}

pub fn load() -> Vec<Labelled> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("corpus.jsonl line {}: {e}", i + 1));
            let draft = Draft::new(line.text, line.audience, line.action_type, line.flags)
                .unwrap_or_else(|e| panic!("corpus.jsonl line {}: {e}", i + 1));
            Labelled {
                line: i + 1,
                draft,
                identity: line.identity,
                expected: line.expected.into_iter().collect(),
            }
        })
        .collect()
}

/// A draft the gate got wrong.
#[derive(Debug, Clone)]
pub struct Miss {
    pub line: usize,
    pub text: String,
    /// Expected categories not found (for a low-risk draft: empty).
    pub missing: BTreeSet<Category>,
    /// Categories found (for a low-risk draft: why it went to review).
    pub found: BTreeSet<Category>,
}

#[derive(Debug, Clone, Default)]
pub struct Score {
    pub high: usize,
    pub low: usize,
    /// High-risk drafts sent to review with every expected category found.
    pub high_caught: usize,
    /// Low-risk drafts sent to review anyway.
    pub low_reviewed: usize,
    pub missed: Vec<Miss>,
    pub false_positives: Vec<Miss>,
}

impl Score {
    pub fn recall(&self) -> f64 {
        self.high_caught as f64 / self.high.max(1) as f64
    }

    pub fn false_positive_rate(&self) -> f64 {
        self.low_reviewed as f64 / self.low.max(1) as f64
    }
}

pub fn score(corpus: &[Labelled], policy: &RiskPolicy) -> Score {
    let mut score = Score::default();
    for item in corpus {
        let assessment = assess(&item.draft, item.identity, policy);
        let found = assessment.categories();
        if item.expected.is_empty() {
            score.low += 1;
            if assessment.needs_review() {
                score.low_reviewed += 1;
                score.false_positives.push(Miss {
                    line: item.line,
                    text: item.draft.text().to_owned(),
                    missing: BTreeSet::new(),
                    found,
                });
            }
        } else {
            score.high += 1;
            let missing: BTreeSet<Category> = item.expected.difference(&found).copied().collect();
            if assessment.needs_review() && missing.is_empty() {
                score.high_caught += 1;
            } else {
                score.missed.push(Miss {
                    line: item.line,
                    text: item.draft.text().to_owned(),
                    missing,
                    found,
                });
            }
        }
    }
    score
}

/// Share of drafts whose text is mostly Han characters.
pub fn is_chinese(text: &str) -> bool {
    let han = text
        .chars()
        .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
        .count();
    let latin = text.chars().filter(char::is_ascii_alphabetic).count();
    han > 0 && han * 2 >= latin
}
