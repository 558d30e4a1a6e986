//! The risk gate: decides, deterministically and in Chinese and English alike, whether a draft
//! reply may go out or must wait for a human decision, and says why.
//!
//! - `draft`: the [`Draft`] being judged, its [`Audience`] and caller [`DraftFlags`]; empty
//!   drafts are refused here, at the edge ([`DraftError`]).
//! - `category`: the high-risk [`Category`]s and the [`Verdict`].
//! - `policy`: the versioned TOML policy (lexicons, patterns, thresholds) that
//!   [`RiskPolicy::parse`] checks and compiles once; the shipped one is `policy/risk.toml`
//!   ([`BUILTIN_POLICY`]).
//! - `assess`: one draft, one identity status, one policy → [`assess()`] gives an
//!   [`Assessment`] of [`Finding`]s, each naming its category, rule and matched span.
//! - `size`: what a policy may cost to compile ([`MAX_RULES`] and the regex limits).
//! - internals: `matcher` (one Aho-Corasick automaton, precompiled regexes), `text`
//!   (normalization with a byte map back to the original, sentences, scripts) and `amount`
//!   (reading "1.5万", "两千五").

mod amount;
mod assess;
mod category;
mod draft;
mod matcher;
mod policy;
mod size;
mod text;

pub use assess::{Assessment, Finding, assess};
pub use category::{Category, Verdict};
pub use draft::{Audience, Draft, DraftError, DraftFlags};
pub use policy::{BUILTIN_POLICY, PolicyError, RiskPolicy};
pub use size::{MAX_POLICY_REGEX_BYTES, MAX_REGEX_BYTES, MAX_REGEX_CHARS, MAX_RULES};
