//! The risk policy: a versioned TOML file of lexicons, patterns and thresholds
//! (`workflows/policy/risk.toml` is the one shipped). [`RiskPolicy::parse`] checks everything
//! and compiles every matcher once; a policy that fails any check is never built, so a
//! malformed file can never be the one in use.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::category::Category;
use super::draft::Audience;
use super::matcher::{Matcher, RegexSource, TermSource};
use super::size::MAX_RULES;

/// The policy shipped with this version of Aijia.
pub const BUILTIN_POLICY: &str = include_str!("../../policy/risk.toml");

/// Why a policy file was refused. Each message names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the risk policy is not valid TOML: {0}")]
    Toml(String),
    #[error(
        "the risk policy has no version; add a non-empty top-level line such as \
         `version = \"2026-06-01.1\"`, so every gate decision can name the policy it used"
    )]
    MissingVersion,
    #[error(
        "the risk policy's {what} {} must be at most {MAX_NAME} characters with no control \
         characters (it is stored and recorded with every gate decision)",
        crate::bounds::echo(given)
    )]
    BadName { what: &'static str, given: String },
    #[error("rule #{index} has an empty id; give every rule a unique id such as \"refund.zh\"")]
    EmptyRuleId { index: usize },
    #[error("rule id {rule:?} is used more than once; rule ids must be unique")]
    DuplicateRule { rule: String },
    #[error("rule {rule:?} names unknown category {given:?}; expected one of: {expected}")]
    UnknownCategory {
        rule: String,
        given: String,
        expected: String,
    },
    #[error("rule {rule:?} names unknown audience {given:?}; expected one of: {expected}")]
    UnknownAudience {
        rule: String,
        given: String,
        expected: String,
    },
    #[error(
        "rule {rule:?} has an empty lexicon; list at least one term in `terms`, or remove the rule"
    )]
    EmptyLexicon { rule: String },
    #[error("rule {rule:?} has a regex that does not compile: {message}")]
    BadRegex { rule: String, message: String },
    #[error("rule {rule:?}: {problem}")]
    BadRule { rule: String, problem: String },
    #[error("[{section}] {problem}")]
    BadSetting {
        section: &'static str,
        problem: String,
    },
}

/// The file as written: what [`RiskPolicy::to_toml`] writes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) limits: Limits,
    /// Currency code → the amount from which a money mention is a high-value right.
    #[serde(default)]
    pub(crate) high_value: BTreeMap<String, f64>,
    #[serde(default)]
    pub(crate) addressing: Addressing,
    #[serde(default)]
    pub(crate) rules: Vec<RuleSpec>,
}

/// When in doubt, review: drafts beyond these limits go to a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    /// Longest draft (in characters) the gate judges on its own.
    pub(crate) max_chars: usize,
    /// Largest share of letters outside Latin and Han that the gate judges on its own.
    pub(crate) max_unsupported_script_share: f64,
}

/// Words that address the reader ("您", "your"); rules marked
/// `customer_specific = "when_addressed"` count only in a sentence that has one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Addressing {
    #[serde(default)]
    pub(crate) terms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exceptions: Vec<String>,
}

/// Whether a rule's matches state something about this customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Specificity {
    /// Every match is customer-specific (an order number, a phone number, "您的订单").
    Always,
    /// Only a match in a sentence that addresses the reader ("您需支付 80 元", not "满99元包邮").
    WhenAddressed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) customer_specific: Option<Specificity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) audiences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) terms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) regex: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exceptions: Vec<String>,
}

/// One rule, checked: what its matches mean.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) category: Option<Category>,
    pub(crate) customer_specific: Option<Specificity>,
    /// `None`: every audience.
    pub(crate) audiences: Option<Vec<Audience>>,
    /// For money rules: the category applies only from this amount up.
    pub(crate) high_value_from: Option<f64>,
}

/// A checked, compiled risk policy. Only [`RiskPolicy::parse`] (and [`RiskPolicy::builtin`])
/// build one.
#[derive(Debug, Clone)]
pub struct RiskPolicy {
    spec: PolicySpec,
    version: String,
    pub(crate) rules: Vec<Rule>,
    pub(crate) limits: Limits,
    pub(crate) matcher: Matcher,
}

impl PartialEq for RiskPolicy {
    /// Two policies are equal when their files say the same thing (comments aside).
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

impl RiskPolicy {
    /// Checks and compiles a policy file.
    pub fn parse(toml_text: &str) -> Result<RiskPolicy, PolicyError> {
        let spec: PolicySpec = toml::from_str(toml_text)
            .map_err(|e| PolicyError::Toml(e.to_string().trim_end().to_owned()))?;
        RiskPolicy::compile(spec)
    }

    /// The policy shipped in `workflows/policy/risk.toml`.
    pub fn builtin() -> RiskPolicy {
        RiskPolicy::parse(BUILTIN_POLICY)
            .expect("the shipped workflows/policy/risk.toml is valid (checked by the tests)")
    }

    /// The version every assessment under this policy records.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The policy as a TOML file (comments are not kept); parsing it gives an equal policy.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.spec).expect("a policy spec always serializes to TOML")
    }

    /// The ids of all rules, in file order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    fn compile(spec: PolicySpec) -> Result<RiskPolicy, PolicyError> {
        let version = spec
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(PolicyError::MissingVersion)?
            .to_owned();
        check_name("version", &version)?;
        check_limits(&spec.limits)?;
        for (currency, &from) in &spec.high_value {
            if currency.trim().is_empty() || !(from.is_finite() && from > 0.0) {
                return Err(PolicyError::BadSetting {
                    section: "high_value",
                    problem: format!(
                        "{currency:?} = {from}: each entry must be a currency code with a positive amount"
                    ),
                });
            }
        }
        let any_addressed = spec
            .rules
            .iter()
            .any(|r| r.customer_specific == Some(Specificity::WhenAddressed));
        if any_addressed && spec.addressing.terms.iter().all(|t| t.trim().is_empty()) {
            return Err(PolicyError::BadSetting {
                section: "addressing",
                problem: "some rules are customer_specific = \"when_addressed\" but `terms` lists no word \
                          that addresses the reader (e.g. \"您\", \"your\")"
                    .to_owned(),
            });
        }
        check_terms("addressing", "terms", &spec.addressing.terms)?;
        check_terms("addressing", "exceptions", &spec.addressing.exceptions)?;

        if spec.rules.len() > MAX_RULES {
            return Err(PolicyError::BadSetting {
                section: "rules",
                problem: format!(
                    "the policy has {} rules; at most {MAX_RULES}. Merge rules of one category \
                     into one lexicon or one regex",
                    spec.rules.len()
                ),
            });
        }
        let mut rules = Vec::with_capacity(spec.rules.len());
        let mut term_sources = Vec::new();
        let mut regex_sources = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, raw) in spec.rules.iter().enumerate() {
            let rule = check_rule(index + 1, raw, &spec.high_value, &mut seen)?;
            let at = rules.len();
            match (&raw.terms, &raw.regex) {
                (Some(terms), None) => term_sources.push(TermSource {
                    rule: at,
                    terms: terms.clone(),
                    exceptions: raw.exceptions.clone(),
                }),
                (None, Some(regex)) => regex_sources.push(RegexSource {
                    rule: at,
                    pattern: regex.clone(),
                    exceptions: raw.exceptions.clone(),
                }),
                _ => unreachable!("check_rule ensures exactly one of terms and regex"),
            }
            rules.push(rule);
        }
        let matcher = Matcher::build(&rules, &term_sources, &regex_sources, &spec.addressing)?;
        Ok(RiskPolicy {
            limits: spec.limits.clone(),
            spec,
            version,
            rules,
            matcher,
        })
    }
}

fn check_limits(limits: &Limits) -> Result<(), PolicyError> {
    if limits.max_chars == 0 {
        return Err(PolicyError::BadSetting {
            section: "limits",
            problem: "max_chars must be at least 1".to_owned(),
        });
    }
    let share = limits.max_unsupported_script_share;
    if !(share.is_finite() && share > 0.0 && share <= 1.0) {
        return Err(PolicyError::BadSetting {
            section: "limits",
            problem: format!(
                "max_unsupported_script_share = {share}: must be above 0 and at most 1"
            ),
        });
    }
    Ok(())
}

fn check_terms(section: &'static str, field: &str, terms: &[String]) -> Result<(), PolicyError> {
    match terms.iter().position(|t| t.trim().is_empty()) {
        Some(i) => Err(PolicyError::BadSetting {
            section,
            problem: format!("{field}[{i}] is empty; remove it"),
        }),
        None => Ok(()),
    }
}

/// Longest version or rule id: both are names, kept with every decision that used them.
const MAX_NAME: usize = 100;

/// A version or rule id is a printable name: TOML escapes (`\u0000`) could otherwise put a
/// NUL or other control character into every record that names it.
fn check_name(what: &'static str, name: &str) -> Result<(), PolicyError> {
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(PolicyError::BadName {
            what,
            given: name.to_owned(),
        });
    }
    Ok(())
}

fn check_rule(
    index: usize,
    raw: &RuleSpec,
    high_value: &BTreeMap<String, f64>,
    seen: &mut BTreeSet<String>,
) -> Result<Rule, PolicyError> {
    let id = raw.id.trim();
    if id.is_empty() {
        return Err(PolicyError::EmptyRuleId { index });
    }
    check_name("rule id", id)?;
    if !seen.insert(id.to_owned()) {
        return Err(PolicyError::DuplicateRule {
            rule: id.to_owned(),
        });
    }
    let bad = |problem: String| PolicyError::BadRule {
        rule: id.to_owned(),
        problem,
    };
    let category = match &raw.category {
        None => None,
        Some(given) => {
            Some(
                given
                    .parse::<Category>()
                    .map_err(|e| PolicyError::UnknownCategory {
                        rule: id.to_owned(),
                        given: given.clone(),
                        expected: e.expected,
                    })?,
            )
        }
    };
    if category == Some(Category::UncertainIdentity) {
        return Err(bad(
            "category \"uncertain_identity\" is derived by the gate; mark the rule \
             customer_specific = \"always\" instead, and it will count while identity is not confirmed"
                .to_owned(),
        ));
    }
    if category.is_none() && raw.customer_specific.is_none() {
        return Err(bad(
            "it has neither a `category` nor `customer_specific`, so a match would mean nothing; add one".to_owned(),
        ));
    }
    let audiences = match &raw.audiences {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(bad("`audiences` is empty, so the rule could never fire; remove the key to apply it to every audience".to_owned()));
        }
        Some(list) => Some(
            list.iter()
                .map(|given| {
                    given
                        .parse::<Audience>()
                        .map_err(|e| PolicyError::UnknownAudience {
                            rule: id.to_owned(),
                            given: given.clone(),
                            expected: e.expected,
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    match (&raw.terms, &raw.regex) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "it has both `terms` and `regex`; split it into two rules".to_owned(),
            ));
        }
        (None, None) => {
            return Err(bad(
                "it has neither `terms` nor `regex`; give it one".to_owned()
            ));
        }
        (Some(terms), None) => {
            if terms.is_empty() {
                return Err(PolicyError::EmptyLexicon {
                    rule: id.to_owned(),
                });
            }
            for (i, term) in terms.iter().enumerate() {
                check_term(term).map_err(|why| bad(format!("terms[{i}] {term:?} {why}")))?;
            }
        }
        (None, Some(_)) => {}
    }
    for (i, term) in raw.exceptions.iter().enumerate() {
        if term.trim().is_empty() {
            return Err(bad(format!("exceptions[{i}] is empty; remove it")));
        }
    }
    let high_value_from = match &raw.currency {
        None => None,
        Some(currency) => {
            if category.is_none() {
                return Err(bad(format!(
                    "it names currency {currency:?} but no `category` to apply from the high-value amount up"
                )));
            }
            if raw.regex.is_none() {
                return Err(bad(
                    "a money rule (with `currency`) needs a `regex` with a group named `amount`"
                        .to_owned(),
                ));
            }
            let from = high_value.get(currency).ok_or_else(|| {
                bad(format!(
                    "currency {currency:?} has no threshold; add `{currency} = <amount>` under [high_value] \
                     (known: {})",
                    high_value.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?;
            Some(*from)
        }
    };
    Ok(Rule {
        id: id.to_owned(),
        category,
        customer_specific: raw.customer_specific,
        audiences,
        high_value_from,
    })
}

/// A lexicon term: not blank; `*` only as the last character of an ASCII word (a prefix).
fn check_term(term: &str) -> Result<(), &'static str> {
    if term.trim().is_empty() || term == "*" {
        return Err("is empty; remove it");
    }
    match term.find('*') {
        None => Ok(()),
        Some(at) if at + 1 == term.len() && term.is_ascii() => Ok(()),
        Some(_) => Err("may use `*` only at the end of an ASCII term (e.g. \"refund*\")"),
    }
}
