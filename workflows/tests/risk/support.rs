//! Small builders shared by the risk tests.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{
    Assessment, Audience, Category, Draft, DraftFlags, RiskPolicy, assess,
};

static BUILTIN: LazyLock<RiskPolicy> = LazyLock::new(RiskPolicy::builtin);

/// The shipped policy, compiled once for all tests.
pub fn policy() -> &'static RiskPolicy {
    &BUILTIN
}

pub fn draft(text: &str, audience: Audience) -> Draft {
    Draft::new(text, audience, "reply", DraftFlags::default()).expect("a non-empty draft")
}

pub fn check(text: &str, audience: Audience, identity: IdentityStatus) -> Assessment {
    assess(&draft(text, audience), identity, policy())
}

/// The categories found in a private reply to a confirmed customer.
pub fn found(text: &str) -> BTreeSet<Category> {
    check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed).categories()
}

/// The matched texts of the findings of one category.
pub fn matched(assessment: &Assessment, category: Category) -> Vec<String> {
    assessment
        .findings
        .iter()
        .filter(|f| f.category == category)
        .map(|f| f.matched.clone())
        .collect()
}
