//! What a policy may cost to compile. A policy is written by an operator but compiled inside
//! every node, so its size is bounded before anything is compiled: a rule count, a pattern
//! length, and each regex's compiled size, estimated from its syntax tree in microseconds
//! (a 13 KB file of 200 `\w{100}` rules once took 11 s and 1.2 GB to compile). The regex
//! crate's own limits stay as the hard bound behind the estimate.

use regex_syntax::hir::{Class, Hir, HirKind};
use regex_syntax::utf8::Utf8Sequences;

/// Most rules one policy may have (the shipped one has 54).
pub const MAX_RULES: usize = 300;
/// Longest regex, in characters (the shipped ones are under 400).
pub const MAX_REGEX_CHARS: usize = 1_000;
/// Largest estimated compiled size of one regex, in bytes (the shipped ones are under 160 KiB).
pub const MAX_REGEX_BYTES: u64 = 512 * 1024;
/// Largest estimated compiled size of all regexes of a policy together, in bytes (the shipped
/// policy is about 0.9 MiB).
pub const MAX_POLICY_REGEX_BYTES: u64 = 4 * 1024 * 1024;
/// The regex crate's hard limits per regex: its compiled program and its lazy DFA cache.
/// Above the estimate limit because the estimate is off by up to a factor of 3 either way.
pub(crate) const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
pub(crate) const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;

/// The estimated compiled size of a parsed pattern, in bytes: 16 per byte-range transition
/// and 128 per syntax node, counting each repetition's copies, which is how the regex crate's
/// compiler expands them (within a factor of 3 of its reported memory use on the shipped
/// policy and on repeated Unicode classes). Saturates instead of overflowing.
pub(crate) fn estimate(hir: &Hir) -> u64 {
    let (transitions, nodes) = cost(hir);
    transitions
        .saturating_mul(16)
        .saturating_add(nodes.saturating_mul(128))
}

/// (byte-range transitions, nodes) of one syntax node.
fn cost(hir: &Hir) -> (u64, u64) {
    let sum = |parts: &[Hir]| {
        parts
            .iter()
            .map(cost)
            .fold((0u64, 1u64), |(t, n), (pt, pn)| {
                (t.saturating_add(pt), n.saturating_add(pn))
            })
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => (1, 1),
        HirKind::Literal(literal) => (literal.0.len() as u64, 1),
        HirKind::Class(Class::Unicode(class)) => {
            let transitions = class
                .ranges()
                .iter()
                .flat_map(|r| Utf8Sequences::new(r.start(), r.end()))
                .map(|sequence| sequence.len() as u64)
                .sum();
            (transitions, 1)
        }
        HirKind::Class(Class::Bytes(class)) => (class.ranges().len() as u64, 1),
        HirKind::Repetition(repetition) => {
            // An unbounded repetition compiles its minimum copies plus one looping copy.
            let copies =
                u64::from(repetition.max.unwrap_or(repetition.min.saturating_add(1))).max(1);
            let (t, n) = cost(&repetition.sub);
            (
                t.saturating_mul(copies),
                n.saturating_mul(copies).saturating_add(1),
            )
        }
        HirKind::Capture(capture) => {
            let (t, n) = cost(&capture.sub);
            (t, n.saturating_add(2))
        }
        HirKind::Concat(parts) | HirKind::Alternation(parts) => sum(parts),
    }
}

/// A size in KiB or MiB, for messages.
pub(crate) fn human(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}
