//! The compiled matchers of a policy and the scan of one text: every lexicon term, rule
//! exception and addressing word sits in one Aho-Corasick automaton (ASCII case-insensitive,
//! overlapping matches); every pattern is a `Regex` compiled once. The regexes run one by one
//! so that each uses its own literal prefilter ("您的", "@", "¥"): on the corpus that is about
//! 14 times faster than a `RegexSet` picking which regexes to run (measured with the
//! `risk_gate` bench). Each regex is measured against the size limits (`size`) before it is
//! compiled. Built once by [`RiskPolicy::parse`](super::RiskPolicy::parse); scanning
//! never fails.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};

use super::amount::parse_amount;
use super::policy::{Addressing, PolicyError, Rule};
use super::size::{
    self, MAX_POLICY_REGEX_BYTES, MAX_REGEX_BYTES, MAX_REGEX_CHARS, REGEX_DFA_SIZE_LIMIT,
    REGEX_SIZE_LIMIT,
};
use super::text::fold_str;

/// A rule's lexicon, before compilation.
pub(crate) struct TermSource {
    pub(crate) rule: usize,
    pub(crate) terms: Vec<String>,
    pub(crate) exceptions: Vec<String>,
}

/// A rule's pattern, before compilation.
pub(crate) struct RegexSource {
    pub(crate) rule: usize,
    pub(crate) pattern: String,
    pub(crate) exceptions: Vec<String>,
}

/// What a match of one automaton pattern means. `left`/`right`: the match must not touch an
/// ASCII letter or digit on that side (so "sue" does not fire inside "issue").
#[derive(Debug, Clone, Copy)]
struct Role {
    what: RoleKind,
    left: bool,
    right: bool,
}

#[derive(Debug, Clone, Copy)]
enum RoleKind {
    Term(usize),
    Exception(usize),
    Address,
    AddressException,
}

#[derive(Debug, Clone)]
struct CompiledRegex {
    rule: usize,
    regex: Regex,
    /// Index of the capture group named `amount`, if any.
    amount: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern, every role it plays.
    roles: Vec<Vec<Role>>,
    regexes: Vec<CompiledRegex>,
}

/// One match of one rule, in byte offsets of the normalized text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub(crate) rule: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The amount read from the `amount` group (`None`: no such group, or unreadable).
    pub(crate) amount: Option<f64>,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) hits: Vec<Hit>,
    /// Where the text addresses its reader (addressing words not inside an exception).
    pub(crate) addressing: Vec<(usize, usize)>,
}

#[derive(Default)]
struct AutomatonBuilder {
    index: BTreeMap<String, usize>,
    patterns: Vec<String>,
    roles: Vec<Vec<Role>>,
}

impl AutomatonBuilder {
    fn add(&mut self, written: &str, what: RoleKind) {
        let folded = fold_str(written);
        let (text, prefix) = match folded.strip_suffix('*') {
            Some(stem) => (stem.to_owned(), true),
            None => (folded, false),
        };
        let key = text.to_ascii_lowercase();
        let role = Role {
            what,
            left: text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric()),
            right: !prefix
                && text
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric()),
        };
        let at = *self.index.entry(key.clone()).or_insert_with(|| {
            self.patterns.push(key);
            self.roles.push(Vec::new());
            self.patterns.len() - 1
        });
        self.roles[at].push(role);
    }
}

impl Matcher {
    pub(crate) fn build(
        rules: &[Rule],
        terms: &[TermSource],
        regexes: &[RegexSource],
        addressing: &Addressing,
    ) -> Result<Matcher, PolicyError> {
        let mut builder = AutomatonBuilder::default();
        for source in terms {
            for term in &source.terms {
                builder.add(term, RoleKind::Term(source.rule));
            }
            for term in &source.exceptions {
                builder.add(term, RoleKind::Exception(source.rule));
            }
        }
        for source in regexes {
            for term in &source.exceptions {
                builder.add(term, RoleKind::Exception(source.rule));
            }
        }
        for term in &addressing.terms {
            builder.add(term, RoleKind::Address);
        }
        for term in &addressing.exceptions {
            builder.add(term, RoleKind::AddressException);
        }
        let automaton = if builder.patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .build(&builder.patterns)
                    .map_err(|e| PolicyError::BadSetting {
                        section: "rules",
                        problem: format!("the lexicons could not be compiled: {e}"),
                    })?,
            )
        };

        let mut compiled = Vec::with_capacity(regexes.len());
        // The estimated compiled size of the regexes so far.
        let mut total = 0u64;
        for source in regexes {
            let rule = &rules[source.rule];
            let bad = |message: String| PolicyError::BadRegex {
                rule: rule.id.clone(),
                message,
            };
            let too_large = |problem: String| PolicyError::BadRule {
                rule: rule.id.clone(),
                problem,
            };
            let chars = source.pattern.chars().count();
            if chars > MAX_REGEX_CHARS {
                return Err(too_large(format!(
                    "its regex is {chars} characters; at most {MAX_REGEX_CHARS}"
                )));
            }
            let syntax = regex_syntax::ParserBuilder::new()
                .case_insensitive(true)
                .build()
                .parse(&source.pattern)
                .map_err(|e| bad(e.to_string()))?;
            let estimate = size::estimate(&syntax);
            if estimate > MAX_REGEX_BYTES {
                return Err(too_large(format!(
                    "its regex would compile to about {}; at most {} per regex. Lower counted \
                     repetitions such as {{100}}, or use narrower classes than \\w, \\d or . \
                     (e.g. (?-u:\\w) or [a-z0-9_] for ASCII only)",
                    size::human(estimate),
                    size::human(MAX_REGEX_BYTES)
                )));
            }
            total = total.saturating_add(estimate);
            if total > MAX_POLICY_REGEX_BYTES {
                return Err(too_large(format!(
                    "its regex brings the policy's regexes to about {} compiled; at most {} \
                     together. Simplify regexes or turn fixed phrases into `terms`",
                    size::human(total),
                    size::human(MAX_POLICY_REGEX_BYTES)
                )));
            }
            let regex = RegexBuilder::new(&source.pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                .build()
                .map_err(|e| match e {
                    regex::Error::CompiledTooBig(limit) => too_large(format!(
                        "its regex compiles to more than {}; simplify it",
                        size::human(limit as u64)
                    )),
                    e => bad(e.to_string()),
                })?;
            if regex.is_match("") {
                return Err(bad(
                    "it matches empty text, so it would fire on every draft".to_owned(),
                ));
            }
            let amount = regex
                .capture_names()
                .position(|name| name == Some("amount"));
            if rule.high_value_from.is_some() && amount.is_none() {
                return Err(bad(
                    "a money rule (with `currency`) needs a capture group named `amount`, e.g. (?P<amount>\\d[\\d,]*)"
                        .to_owned(),
                ));
            }
            compiled.push(CompiledRegex {
                rule: source.rule,
                regex,
                amount,
            });
        }
        Ok(Matcher {
            automaton,
            roles: builder.roles,
            regexes: compiled,
        })
    }

    /// All rule matches in `text` (normalized), and where the text addresses its reader. A
    /// match is dropped when one of its rule's exceptions covers it or starts where it starts
    /// ("您的材料" cancels "您的材料我们已经").
    pub(crate) fn scan(&self, text: &str) -> Scan {
        let bytes = text.as_bytes();
        let touches = |at: Option<&u8>| at.is_some_and(u8::is_ascii_alphanumeric);
        let mut scan = Scan::default();
        let mut exceptions: Vec<(usize, usize, usize)> = Vec::new();
        let mut address_exceptions: Vec<(usize, usize)> = Vec::new();
        if let Some(automaton) = &self.automaton {
            for m in automaton.find_overlapping_iter(text) {
                let (start, end) = (m.start(), m.end());
                for role in &self.roles[m.pattern().as_usize()] {
                    if (role.left && start > 0 && touches(bytes.get(start - 1)))
                        || (role.right && touches(bytes.get(end)))
                    {
                        continue;
                    }
                    match role.what {
                        RoleKind::Term(rule) => scan.hits.push(Hit {
                            rule,
                            start,
                            end,
                            amount: None,
                        }),
                        RoleKind::Exception(rule) => exceptions.push((rule, start, end)),
                        RoleKind::Address => scan.addressing.push((start, end)),
                        RoleKind::AddressException => address_exceptions.push((start, end)),
                    }
                }
            }
        }
        for compiled in &self.regexes {
            if compiled.amount.is_none() {
                for m in compiled.regex.find_iter(text).filter(|m| !m.is_empty()) {
                    scan.hits.push(Hit {
                        rule: compiled.rule,
                        start: m.start(),
                        end: m.end(),
                        amount: None,
                    });
                }
            } else {
                for caps in compiled.regex.captures_iter(text) {
                    let Some(whole) = caps.get(0) else { continue };
                    if whole.is_empty() {
                        continue;
                    }
                    let amount = compiled
                        .amount
                        .and_then(|g| caps.get(g))
                        .and_then(|m| parse_amount(m.as_str()));
                    scan.hits.push(Hit {
                        rule: compiled.rule,
                        start: whole.start(),
                        end: whole.end(),
                        amount,
                    });
                }
            }
        }
        if !exceptions.is_empty() {
            scan.hits.retain(|h| {
                !exceptions.iter().any(|&(rule, s, e)| {
                    rule == h.rule && s <= h.start && (h.end <= e || s == h.start)
                })
            });
        }
        if !address_exceptions.is_empty() {
            scan.addressing.retain(|&(s, e)| {
                !address_exceptions
                    .iter()
                    .any(|&(xs, xe)| xs <= s && e <= xe)
            });
        }
        scan
    }
}
