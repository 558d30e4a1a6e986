//! Policies sized against the compile limits, shared by the tests, the `risk_policy_limits`
//! bench and the e2e tests: the hostile one that once took a node down, and one right at the
//! documented limits.

use aijia_workflows::risk::{MAX_REGEX_CHARS, MAX_RULES};

pub const HEADER: &str =
    "version = \"limits-1\"\n[limits]\nmax_chars = 500\nmax_unsupported_script_share = 0.2\n";

pub fn regex_rule(id: &str, regex: &str) -> String {
    format!("[[rules]]\nid = \"{id}\"\ncategory = \"refund\"\nregex = '{regex}'\n")
}

pub fn terms_rule(id: &str) -> String {
    format!("[[rules]]\nid = \"{id}\"\ncategory = \"refund\"\nterms = [\"{id}\"]\n")
}

/// `count` rules `wide.1`… with the regex `regex`.
pub fn repeated(count: usize, regex: &str) -> String {
    (1..=count)
        .map(|i| regex_rule(&format!("wide.{i}"), regex))
        .collect()
}

/// The policy that once took a node 11 s and 1.2 GB to load: 13 KB of 200 `\w{100}` rules.
pub fn hostile(version: &str) -> String {
    let header = HEADER.replace("limits-1", version);
    format!("{header}{}", repeated(200, r"\w{100}"))
}

/// At every limit at once: `MAX_RULES` rules, eight regexes just under the per-regex limit
/// (`\w{9}`) and together just under the total, one regex of `MAX_REGEX_CHARS` characters.
pub fn at_limits(version: &str) -> String {
    let header = HEADER.replace("limits-1", version);
    let longest = format!("(?:{})", "ab|".repeat((MAX_REGEX_CHARS - 5) / 3));
    let longest = format!("{longest}{}", "c".repeat(MAX_REGEX_CHARS - longest.len()));
    let terms: String = (10..=MAX_RULES)
        .map(|i| terms_rule(&format!("term{i}")))
        .collect();
    format!(
        "{header}{}{}{terms}",
        repeated(8, r"\w{9}"),
        regex_rule("longest", &longest)
    )
}
