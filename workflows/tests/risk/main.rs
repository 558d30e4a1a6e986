//! The risk gate's behaviour, through the crate's public API only: the labelled corpus
//! (recall and false positives), each rule family, identity before context, public groups,
//! flags and limits, policy files good and bad, and properties over random text.

#![allow(clippy::unwrap_used)]

mod compile_limits;
mod corpus;
mod corpus_score;
mod flags_and_limits;
mod identity;
mod policy_file;
mod properties;
mod public_group;
mod rules;
mod sized;
mod support;
