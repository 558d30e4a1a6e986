//! The gate itself: [`assess`] a draft under a policy, for a customer whose identity is or is
//! not confirmed, and say why it must wait for a human, if it must.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::category::{Category, Verdict};
use super::draft::{Audience, Draft};
use super::policy::{RiskPolicy, Specificity};
use super::text::{Normalized, sentences, unsupported_letter_share};
use crate::model::IdentityStatus;

/// One reason a draft must be reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    /// The policy rule that fired (`flag.*`, `limit.*`, `identity_gate/<rule>` and
    /// `public_group/<rule>` for the gate's own rules).
    pub rule: String,
    /// Byte range of the match in the draft's text; `None` for findings about the whole
    /// draft (flags, limits).
    pub span: Option<(usize, usize)>,
    /// The text at `span`, or a short description for findings about the whole draft.
    pub matched: String,
}

/// The gate's answer for one draft, to be recorded in the case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Sorted by span (text order), then category and rule; whole-draft findings last.
    pub findings: Vec<Finding>,
    /// `Review` exactly when there is at least one finding.
    pub verdict: Verdict,
    pub policy_version: String,
}

impl Assessment {
    /// The distinct categories found, in declaration order.
    pub fn categories(&self) -> BTreeSet<Category> {
        self.findings.iter().map(|f| f.category).collect()
    }

    pub fn needs_review(&self) -> bool {
        self.verdict == Verdict::Review
    }
}

/// Assesses `draft` under `policy`. Deterministic: the same draft, identity and policy always
/// give the same assessment.
///
/// - every lexicon or pattern match gives a finding of its rule's category (money rules only
///   from the policy's high-value amount up);
/// - while `identity` is not [`IdentityStatus::Confirmed`], every customer-specific match
///   (order and tracking numbers, personal data, "您的订单", "your order", amounts addressed
///   to the reader, …) gives an `uncertain_identity` finding; a request for identifying
///   information names no such detail and passes;
/// - in a public group, every finding and every customer-specific match also gives a
///   `sensitive_public_group_reply` finding;
/// - the caller's flags give `verification_conflict` and `partner_complex_rewrite`;
/// - when in doubt, review: a draft longer than the policy allows, or mostly in a script its
///   lexicons do not cover, gives an `in_doubt` finding. Negation is not interpreted ("we
///   cannot refund" is about a refund).
pub fn assess(draft: &Draft, identity: IdentityStatus, policy: &RiskPolicy) -> Assessment {
    let original = draft.text();
    let norm = Normalized::new(original);
    let scan = policy.matcher.scan(&norm.text);
    let slice = |span: (usize, usize)| original[span.0..span.1].to_owned();

    let sentence_spans = sentences(&norm.text);
    let addressed: Vec<bool> = sentence_spans
        .iter()
        .map(|&(s, e)| scan.addressing.iter().any(|&(a, _)| s <= a && a < e))
        .collect();
    let in_addressed_sentence = |at: usize| {
        sentence_spans
            .iter()
            .position(|&(s, e)| s <= at && at < e)
            .is_some_and(|i| addressed[i])
    };

    let mut findings = Vec::new();
    // Customer-specific matches: (rule id, span in the original text).
    let mut specific: Vec<(&str, (usize, usize))> = Vec::new();
    for hit in &scan.hits {
        let rule = &policy.rules[hit.rule];
        if rule
            .audiences
            .as_ref()
            .is_some_and(|only| !only.contains(&draft.audience()))
        {
            continue;
        }
        let span = norm.original_span(hit.start, hit.end);
        if let Some(category) = rule.category {
            // An amount that cannot be read counts as high-value: when in doubt, review.
            let applies = match (rule.high_value_from, hit.amount) {
                (None, _) | (Some(_), None) => true,
                (Some(from), Some(amount)) => amount >= from,
            };
            if applies {
                findings.push(Finding {
                    category,
                    rule: rule.id.clone(),
                    span: Some(span),
                    matched: slice(span),
                });
            }
        }
        let is_specific = match rule.customer_specific {
            None => false,
            Some(Specificity::Always) => true,
            Some(Specificity::WhenAddressed) => in_addressed_sentence(hit.start),
        };
        if is_specific {
            specific.push((&rule.id, span));
        }
    }

    if identity != IdentityStatus::Confirmed {
        for &(rule, span) in &specific {
            findings.push(Finding {
                category: Category::UncertainIdentity,
                rule: format!("identity_gate/{rule}"),
                span: Some(span),
                matched: slice(span),
            });
        }
    }

    let flags = draft.flags();
    if flags.verification_conflict {
        findings.push(whole_draft(
            Category::VerificationConflict,
            "flag.verification_conflict",
            "back-office verification conflicts with the customer's description".to_owned(),
        ));
    }
    if flags.partner_request_rewritten {
        findings.push(whole_draft(
            Category::PartnerComplexRewrite,
            "flag.partner_request_rewritten",
            "the draft relays a partner request that was rewritten".to_owned(),
        ));
    }

    let chars = norm.text.chars().count();
    if chars > policy.limits.max_chars {
        findings.push(whole_draft(
            Category::InDoubt,
            "limit.max_chars",
            format!(
                "{chars} characters, more than the {} the gate judges on its own",
                policy.limits.max_chars
            ),
        ));
    }
    if let Some(share) = unsupported_letter_share(&norm.text)
        && share > policy.limits.max_unsupported_script_share
    {
        findings.push(whole_draft(
            Category::InDoubt,
            "limit.unsupported_script",
            format!(
                "{:.0}% of the letters are in a script the lexicons do not cover (limit {:.0}%)",
                share * 100.0,
                policy.limits.max_unsupported_script_share * 100.0
            ),
        ));
    }

    if draft.audience() == Audience::PublicGroup {
        let mut sources: Vec<(Option<(usize, usize)>, String)> = findings
            .iter()
            .filter(|f| f.category != Category::SensitivePublicGroupReply)
            .map(|f| (f.span, f.rule.clone()))
            .chain(
                specific
                    .iter()
                    .map(|&(rule, span)| (Some(span), rule.to_owned())),
            )
            .collect();
        sources.sort();
        sources.dedup_by(|later, first| later.0 == first.0);
        for (span, rule) in sources {
            findings.push(Finding {
                category: Category::SensitivePublicGroupReply,
                rule: format!("public_group/{rule}"),
                span,
                matched: span
                    .map_or_else(|| "the whole draft, in a public group".to_owned(), slice),
            });
        }
    }

    let findings = tidy(findings);
    Assessment {
        verdict: if findings.is_empty() {
            Verdict::Send
        } else {
            Verdict::Review
        },
        findings,
        policy_version: policy.version().to_owned(),
    }
}

fn whole_draft(category: Category, rule: &str, matched: String) -> Finding {
    Finding {
        category,
        rule: rule.to_owned(),
        span: None,
        matched,
    }
}

/// Sorts findings (text order, whole-draft findings last), keeps one finding per category and
/// span, and drops a finding whose span lies strictly inside another of the same category
/// ("一定" inside "一定会").
fn tidy(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        (a.span.is_none(), a.span, a.category, &a.rule).cmp(&(
            b.span.is_none(),
            b.span,
            b.category,
            &b.rule,
        ))
    });
    findings.dedup_by(|later, first| later.category == first.category && later.span == first.span);
    let inside = |inner: (usize, usize), outer: (usize, usize)| {
        inner != outer && outer.0 <= inner.0 && inner.1 <= outer.1
    };
    let keep: Vec<bool> = findings
        .iter()
        .map(|f| {
            f.span.is_none_or(|span| {
                !findings.iter().any(|other| {
                    other.category == f.category
                        && other.span.is_some_and(|outer| inside(span, outer))
                })
            })
        })
        .collect();
    findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, keep)| keep.then_some(f))
        .collect()
}
