//! Policy files: the shipped one, a round trip through TOML, an operator's own policy, and
//! malformed files, each refused with a message that says what to fix.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{
    Assessment, Audience, BUILTIN_POLICY, Category, Draft, DraftFlags, PolicyError, RiskPolicy,
    Verdict, assess,
};

use crate::corpus;

const HEADER: &str = r#"
version = "ops-7"
[limits]
max_chars = 500
max_unsupported_script_share = 0.2
[high_value]
CNY = 1000
"#;

fn policy(rules: &str) -> Result<RiskPolicy, PolicyError> {
    RiskPolicy::parse(&format!("{HEADER}\n{rules}"))
}

fn refused(toml: &str) -> (PolicyError, String) {
    let error = RiskPolicy::parse(toml).expect_err("a malformed policy must be refused");
    let message = error.to_string();
    (error, message)
}

#[test]
fn the_shipped_policy_parses_and_names_its_version() {
    let builtin = RiskPolicy::builtin();
    assert_eq!(builtin.version(), "2026-06-01.4");
    assert_eq!(RiskPolicy::parse(BUILTIN_POLICY).expect("valid"), builtin);
    assert!(builtin.rule_ids().count() > 40);
}

#[test]
fn serializing_and_parsing_again_gives_the_same_policy_and_the_same_decisions() {
    let builtin = RiskPolicy::builtin();
    let written = builtin.to_toml();
    let again = RiskPolicy::parse(&written).expect("a serialized policy parses");
    assert_eq!(again, builtin);
    assert_eq!(again.version(), builtin.version());
    assert_eq!(again.to_toml(), written, "serialization is stable");
    for item in corpus::load() {
        assert_eq!(
            assess(&item.draft, item.identity, &again),
            assess(&item.draft, item.identity, &builtin),
            "line {}",
            item.line
        );
    }
}

#[test]
fn an_operator_policy_applies_its_own_rules_and_records_its_version() {
    let custom = policy(
        r#"
[[rules]]
id = "custom.rush_fee"
category = "payment"
terms = ["加急费", "rush fee*"]
"#,
    )
    .expect("valid");
    let draft = Draft::new(
        "加急费另算，rush fees apply.",
        Audience::CustomerPrivate,
        "reply",
        DraftFlags::default(),
    )
    .expect("draft");
    let a = assess(&draft, IdentityStatus::Confirmed, &custom);
    assert_eq!(a.policy_version, "ops-7");
    let rules: Vec<&str> = a.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, vec!["custom.rush_fee", "custom.rush_fee"]);
    assert_eq!(a.verdict, Verdict::Review);
}

#[test]
fn an_amount_the_gate_cannot_read_counts_as_high_value() {
    let custom = policy(
        r#"
[[rules]]
id = "money.words"
category = "high_value_rights"
currency = "CNY"
regex = '(?P<amount>[a-z]+)\s*元'
"#,
    )
    .expect("valid");
    let draft = Draft::new(
        "lots 元",
        Audience::CustomerPrivate,
        "reply",
        DraftFlags::default(),
    )
    .expect("draft");
    assert!(
        assess(&draft, IdentityStatus::Confirmed, &custom)
            .categories()
            .contains(&Category::HighValueRights)
    );
}

#[test]
fn assessments_serialize_for_the_case_history() {
    let draft = Draft::new(
        "退款已提交",
        Audience::CustomerPrivate,
        "reply",
        DraftFlags::default(),
    )
    .expect("draft");
    let a = assess(&draft, IdentityStatus::Unknown, &RiskPolicy::builtin());
    let json = serde_json::to_string(&a).expect("serialize");
    assert!(json.contains(r#""verdict":"review""#), "{json}");
    assert!(json.contains(r#""category":"refund""#), "{json}");
    let back: Assessment = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, a);
}

#[test]
fn a_file_that_is_not_toml_is_refused_with_its_line() {
    let (error, message) = refused("version = \"1\"\n[limits\nmax_chars = 3");
    assert!(matches!(error, PolicyError::Toml(_)));
    assert!(
        message.contains("not valid TOML") && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn a_policy_without_a_version_is_refused() {
    let no_version = "[limits]\nmax_chars = 5\nmax_unsupported_script_share = 0.2\n";
    let (error, message) = refused(no_version);
    assert_eq!(error, PolicyError::MissingVersion);
    assert!(message.contains("version = "), "{message}");
    let (blank, _) = refused(&format!("version = \"  \"\n{no_version}"));
    assert_eq!(blank, PolicyError::MissingVersion);
}

#[test]
fn a_version_or_rule_id_with_control_characters_or_too_long_is_refused() {
    let builtin = include_str!("../../policy/risk.toml");
    let version_line = builtin
        .lines()
        .find(|l| l.starts_with("version"))
        .expect("the shipped policy has a version line");
    for bad in ["v1\\u0000", "v1\\n2", &"v".repeat(101)] {
        let policy = builtin.replace(version_line, &format!("version = \"{bad}\""));
        let (error, message) = refused(&policy);
        assert!(
            matches!(
                error,
                PolicyError::BadName {
                    what: "version",
                    ..
                }
            ),
            "{bad}: {error:?}"
        );
        assert!(message.contains("control"), "{message}");
    }
    let first_id = builtin
        .lines()
        .find(|l| l.trim_start().starts_with("id ="))
        .expect("the shipped policy has rules");
    let policy = builtin.replacen(first_id, "id = \"refund\\u0000\"", 1);
    let (error, _) = refused(&policy);
    assert!(
        matches!(
            error,
            PolicyError::BadName {
                what: "rule id",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_regex_that_does_not_compile_names_its_rule() {
    let (error, message) = refused(&format!(
        "{HEADER}\n[[rules]]\nid = \"refund.broken\"\ncategory = \"refund\"\nregex = '(退款'\n"
    ));
    assert!(
        matches!(&error, PolicyError::BadRegex { rule, .. } if rule == "refund.broken"),
        "{error:?}"
    );
    assert!(
        message.contains("refund.broken") && message.contains("does not compile"),
        "{message}"
    );
}

#[test]
fn an_unknown_category_is_refused_with_the_known_ones() {
    let error = policy("[[rules]]\nid = \"r1\"\ncategory = \"refunds\"\nterms = [\"退款\"]\n")
        .expect_err("refused");
    let message = error.to_string();
    assert!(matches!(&error, PolicyError::UnknownCategory { given, .. } if given == "refunds"));
    assert!(
        message.contains("r1")
            && message.contains("expected one of")
            && message.contains("refund,"),
        "{message}"
    );
}

#[test]
fn an_empty_lexicon_is_refused() {
    let error = policy("[[rules]]\nid = \"empty.one\"\ncategory = \"refund\"\nterms = []\n")
        .expect_err("refused");
    assert_eq!(
        error,
        PolicyError::EmptyLexicon {
            rule: "empty.one".to_owned()
        }
    );
    assert!(error.to_string().contains("at least one term"));
}

#[test]
fn other_malformed_rules_are_refused_with_what_to_fix() {
    let cases: &[(&str, &str)] = &[
        (
            "[[rules]]\nid = \"a\"\ncategory = \"refund\"\nterms = [\"x\"]\n[[rules]]\nid = \"a\"\ncategory = \"refund\"\nterms = [\"y\"]\n",
            "used more than once",
        ),
        (
            "[[rules]]\nid = \"\"\ncategory = \"refund\"\nterms = [\"x\"]\n",
            "empty id",
        ),
        (
            "[[rules]]\nid = \"both\"\ncategory = \"refund\"\nterms = [\"x\"]\nregex = 'y'\n",
            "both `terms` and `regex`",
        ),
        (
            "[[rules]]\nid = \"neither\"\ncategory = \"refund\"\n",
            "neither `terms` nor `regex`",
        ),
        (
            "[[rules]]\nid = \"blank\"\ncategory = \"refund\"\nterms = [\" \"]\n",
            "is empty",
        ),
        (
            "[[rules]]\nid = \"star\"\ncategory = \"refund\"\nterms = [\"re*fund\"]\n",
            "only at the end",
        ),
        (
            "[[rules]]\nid = \"typo\"\ncategory = \"refund\"\nterm = [\"x\"]\n",
            "unknown field `term`",
        ),
        (
            "[[rules]]\nid = \"idle\"\nterms = [\"x\"]\n",
            "neither a `category` nor `customer_specific`",
        ),
        (
            "[[rules]]\nid = \"derived\"\ncategory = \"uncertain_identity\"\nterms = [\"x\"]\n",
            "customer_specific",
        ),
        (
            "[[rules]]\nid = \"aud\"\ncategory = \"refund\"\naudiences = [\"group\"]\nterms = [\"x\"]\n",
            "unknown audience \"group\"",
        ),
        (
            "[[rules]]\nid = \"usd\"\ncategory = \"high_value_rights\"\ncurrency = \"USD\"\nregex = '(?P<amount>\\d+)\\$'\n",
            "add `USD = <amount>` under [high_value]",
        ),
        (
            "[[rules]]\nid = \"noamount\"\ncategory = \"high_value_rights\"\ncurrency = \"CNY\"\nregex = '\\d+元'\n",
            "capture group named `amount`",
        ),
        (
            "[[rules]]\nid = \"empty.match\"\ncategory = \"refund\"\nregex = 'x*'\n",
            "matches empty text",
        ),
        (
            "[[rules]]\nid = \"spec\"\ncustomer_specific = \"sometimes\"\nterms = [\"x\"]\n",
            "unknown variant `sometimes`",
        ),
        (
            "[[rules]]\nid = \"addr\"\ncustomer_specific = \"when_addressed\"\nterms = [\"x\"]\n",
            "[addressing]",
        ),
    ];
    for (rules, expected) in cases {
        let error = policy(rules).expect_err("a malformed rule must be refused");
        let message = error.to_string();
        assert!(message.contains(expected), "for {rules:?}: {message}");
    }
}

#[test]
fn bad_limits_are_refused() {
    let (_, zero) =
        refused("version = \"1\"\n[limits]\nmax_chars = 0\nmax_unsupported_script_share = 0.2\n");
    assert!(
        zero.contains("[limits]") && zero.contains("max_chars"),
        "{zero}"
    );
    let (_, share) =
        refused("version = \"1\"\n[limits]\nmax_chars = 10\nmax_unsupported_script_share = 1.5\n");
    assert!(share.contains("max_unsupported_script_share"), "{share}");
    let (_, missing) = refused("version = \"1\"\n");
    assert!(missing.contains("limits"), "{missing}");
    let (_, threshold) = refused(
        "version = \"1\"\n[limits]\nmax_chars = 10\nmax_unsupported_script_share = 0.5\n[high_value]\nCNY = -5\n",
    );
    assert!(
        threshold.contains("[high_value]") && threshold.contains("positive"),
        "{threshold}"
    );
}
