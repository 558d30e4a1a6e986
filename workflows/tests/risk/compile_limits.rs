//! What a policy may cost to compile: a hostile policy is refused before it is compiled, with
//! a message naming the rule and the limit; a policy right at the documented limits loads.

use std::time::{Duration, Instant};

use aijia_workflows::risk::{
    MAX_POLICY_REGEX_BYTES, MAX_REGEX_BYTES, MAX_REGEX_CHARS, MAX_RULES, PolicyError, RiskPolicy,
};

use crate::sized::{HEADER, at_limits, hostile, regex_rule, repeated, terms_rule};

fn too_large(policy: &str) -> (String, String) {
    match RiskPolicy::parse(policy) {
        Err(PolicyError::BadRule { rule, problem }) => (rule, problem),
        other => panic!("expected a rule refused for its size, got {other:?}"),
    }
}

#[test]
fn a_hostile_policy_of_wide_unicode_repetitions_is_refused_before_compiling() {
    let policy = hostile("hostile-1");
    assert!(policy.len() < 16 * 1024, "{} bytes", policy.len());
    let started = Instant::now();
    let (rule, problem) = too_large(&policy);
    let took = started.elapsed();
    assert_eq!(rule, "wide.1");
    assert!(
        problem.contains("at most 512 KiB per regex") && problem.contains("(?-u:\\w)"),
        "{problem}"
    );
    // Compiling even one of these rules takes longer than this, in any build profile.
    assert!(took < Duration::from_millis(100), "refused in {took:?}");
}

#[test]
fn a_policy_at_the_documented_limits_loads() {
    let policy = RiskPolicy::parse(&at_limits("limits-1")).expect("at the limits, it loads");
    assert_eq!(policy.rule_ids().count(), MAX_RULES);
    assert!(policy.rule_ids().any(|id| id == "longest"));
}

#[test]
fn each_limit_refuses_one_step_beyond_it_naming_the_rule() {
    let (rule, problem) = too_large(&format!("{HEADER}{}", regex_rule("wide.10", r"\w{10}")));
    assert_eq!(rule, "wide.10");
    assert!(problem.contains("at most 512 KiB per regex"), "{problem}");
    assert_eq!(MAX_REGEX_BYTES, 512 * 1024);

    let (rule, problem) = too_large(&format!("{HEADER}{}", repeated(9, r"\w{9}")));
    assert_eq!(rule, "wide.9");
    assert!(problem.contains("at most 4.0 MiB together"), "{problem}");
    assert_eq!(MAX_POLICY_REGEX_BYTES, 4 * 1024 * 1024);

    let long = "x".repeat(MAX_REGEX_CHARS + 1);
    let (rule, problem) = too_large(&format!("{HEADER}{}", regex_rule("long", &long)));
    assert_eq!(rule, "long");
    assert!(
        problem.contains(&format!(
            "{} characters; at most {MAX_REGEX_CHARS}",
            MAX_REGEX_CHARS + 1
        )),
        "{problem}"
    );

    let many: String = (0..=MAX_RULES)
        .map(|i| terms_rule(&format!("t{i}")))
        .collect();
    let error = RiskPolicy::parse(&format!("{HEADER}{many}")).expect_err("too many rules");
    assert!(
        matches!(&error, PolicyError::BadSetting { section: "rules", problem }
            if problem.contains(&format!("{} rules; at most {MAX_RULES}", MAX_RULES + 1))),
        "{error:?}"
    );
}
