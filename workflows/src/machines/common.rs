//! The rules every workflow type shares. Each machine's `open` superstate (the parent of every
//! non-terminal state) hands the events its own state did not take to [`open`]; an event that
//! reaches no rule is refused there, so nothing falls through to statig's silent top state.

use statig::Outcome::{self, Handled, Transition};

use crate::effect::evidence;
use crate::event::Event;
use crate::model::{CaseState, Party};

use super::step::Step;
use super::text;

pub(super) fn open(step: &mut Step<'_>, event: &Event) -> Outcome<CaseState> {
    match event {
        Event::Cancel { reason } => {
            step.evidence(evidence::CANCELLATION, reason.trim());
            Transition(CaseState::Cancelled)
        }
        Event::ReassignOwner { owner } => reassign(step, owner),
        Event::CustomerReplied { text } => {
            keep_reply(step, text);
            Handled
        }
        Event::RequestReview { reason } => request_review(step, reason),
        Event::ReviewDecided { approved, note } => review_decided(step, *approved, note),
        Event::WaitFor {
            party,
            what,
            checklist,
        } => wait_for(step, *party, what, checklist),
        _ => step.not_accepted(),
    }
}

/// Turn a shared rule's target into the machine's own state. A target the machine lacks can
/// only come from a stored `resume_state` its type never enters, so it is refused.
pub(super) fn into_state<S>(
    step: &mut Step<'_>,
    outcome: Outcome<CaseState>,
    of: fn(CaseState) -> Option<S>,
) -> Outcome<S> {
    match outcome {
        Transition(target) => match of(target) {
            Some(state) => Transition(state),
            None => step.not_accepted(),
        },
        Handled => Handled,
        Outcome::Super => Outcome::Super,
    }
}

/// A customer message is never lost: whichever state takes it keeps its text as evidence.
pub(super) fn keep_reply(step: &mut Step<'_>, text: &str) {
    step.evidence(evidence::CUSTOMER_REPLY, text);
}

pub(super) fn complete(step: &mut Step<'_>, note: &str) {
    step.evidence(evidence::COMPLETION, note.trim());
}

fn reassign(step: &mut Step<'_>, owner: &str) -> Outcome<CaseState> {
    let owner = owner.trim();
    if owner.is_empty() {
        return step.invalid("owner must not be empty");
    }
    step.case.owner = owner.to_owned();
    Handled
}

fn request_review(step: &mut Step<'_>, reason: &str) -> Outcome<CaseState> {
    if step.state() == CaseState::WaitingForReview {
        return step.not_accepted();
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return step.invalid("a review needs a reason for the reviewer");
    }
    step.request_review(reason);
    // The parked state's checklist rides along so that nothing ticked off is lost.
    let carried = step.checklist().to_vec();
    step.wait(Some(format!("decide: {reason}")), carried);
    Transition(CaseState::WaitingForReview)
}

fn review_decided(step: &mut Step<'_>, approved: bool, note: &str) -> Outcome<CaseState> {
    if step.state() != CaseState::WaitingForReview {
        return step.not_accepted();
    }
    let Some(resume) = step.case.resume_state else {
        return step.invalid("the case is in review but records no state to resume");
    };
    let verdict = if approved { "approved" } else { "rejected" };
    let note = note.trim();
    let detail = if note.is_empty() {
        verdict.to_owned()
    } else {
        format!("{verdict}: {note}")
    };
    step.evidence(evidence::REVIEW_DECISION, detail);
    let carried = step.checklist().to_vec();
    step.wait(None, carried);
    Transition(resume)
}

fn wait_for(
    step: &mut Step<'_>,
    party: Party,
    what: &str,
    checklist: &[String],
) -> Outcome<CaseState> {
    // A pending review ends only with a human decision; parking the case elsewhere would let
    // whatever awaited review slip past it.
    if step.state() == CaseState::WaitingForReview {
        return step.not_accepted();
    }
    if party == Party::Review {
        return step.invalid("use request_review to ask for a review");
    }
    let allowed = step.profile.parties;
    if !allowed.contains(&party) {
        let names: Vec<&str> = allowed.iter().map(|p| p.as_str()).collect();
        return step.invalid(format!(
            "a {} case cannot wait for {party}; it can wait for: {}",
            step.case.workflow_type,
            names.join(", ")
        ));
    }
    let names = text::names(checklist.iter().map(String::as_str));
    let what = what.trim();
    if what.is_empty() && names.is_empty() {
        return step.invalid("say what the case waits for: give what or a checklist");
    }
    step.wait(
        (!what.is_empty()).then(|| what.to_owned()),
        text::checklist(names),
    );
    Transition(party.waiting_state())
}
