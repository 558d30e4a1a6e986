//! The words a case shows people: what a waiting state waits for and what comes next. Kept
//! in one place so every workflow type phrases the same things the same way.

use chrono::{DateTime, Utc};

use crate::model::{Case, CaseState, ChecklistItem, Party};

use super::Profile;

/// Clean a list of names as people type them: trimmed, blanks and repeats dropped, order kept.
pub(super) fn names<'s>(raw: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let kept = raw.into_iter().map(str::trim).filter(|n| !n.is_empty());
    crate::bounds::unique(kept)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

pub(super) fn checklist(names: Vec<String>) -> Vec<ChecklistItem> {
    names
        .into_iter()
        .map(|name| ChecklistItem { name, done: false })
        .collect()
}

/// The checklist's names for a refusal: the first ten, then how many more, so that the
/// message stays small however long the list.
pub(super) fn joined(checklist: &[ChecklistItem]) -> String {
    const SHOWN: usize = 10;
    let names: Vec<&str> = checklist
        .iter()
        .take(SHOWN)
        .map(|i| i.name.as_str())
        .collect();
    match checklist.len().saturating_sub(SHOWN) {
        0 => names.join(", "),
        more => format!("{}, … and {more} more", names.join(", ")),
    }
}

/// "send: ID card, contract" for the items still missing; `None` when nothing is missing.
pub(super) fn missing(checklist: &[ChecklistItem]) -> Option<String> {
    let missing: Vec<&str> = checklist
        .iter()
        .filter(|i| !i.done)
        .map(|i| i.name.as_str())
        .collect();
    (!missing.is_empty()).then(|| format!("send: {}", missing.join(", ")))
}

pub(super) fn party(party: Party) -> &'static str {
    match party {
        Party::Customer => "the customer",
        Party::Executor => "the executor",
        Party::Review => "a reviewer",
        Party::Partner => "the partner",
    }
}

/// A moment as cases show it to people: `2025-03-03 09:00 UTC`.
pub(super) fn moment(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Derived from the state and what it waits for; `entered` keeps `waiting` set in exactly
/// the waiting states, so the last arm only ever sees `completed` and `cancelled`.
pub(super) fn next_step(case: &Case, profile: &Profile) -> String {
    match (&case.waiting, case.state) {
        (Some(waiting), _) => format!("wait for {} to {}", party(waiting.party), waiting.what),
        (None, CaseState::Received) => profile.received.to_owned(),
        (None, state) => format!("nothing: the case is {state}"),
    }
}
