//! The rules every workflow type shares. Each machine's `open` superstate (the parent of every
//! non-terminal state) hands the events its own state did not take to [`open`]; an event that
//! reaches no rule is refused there, so nothing falls through to statig's silent top state.
//! Waiting-state timers fire here too: no machine's own table mentions them.

use chrono::{DateTime, Utc};
use serde_json::json;
use statig::Outcome::{self, Handled, Transition};

use crate::effect::{EscalateTo, ExpireOutcome, TimerAction, TimerKey, activity, evidence};
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
        Event::TimerFired {
            key,
            action,
            fire_at,
        } => timer_fired(step, *key, *action, *fire_at),
        Event::SendReminder { reason } => sweep_reminder(step, reason),
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

/// A timer of the current waiting state came due. A timer of another state, or one due before
/// the state was (re-)entered, belongs to a wait that is over: it is not accepted, and the
/// engine just drops it. What the timer does comes from its stored `action` alone.
fn timer_fired(
    step: &mut Step<'_>,
    key: TimerKey,
    action: TimerAction,
    fire_at: DateTime<Utc>,
) -> Outcome<CaseState> {
    let state = step.state();
    let Some(waiting) = step.case.waiting.as_ref() else {
        return step.not_accepted();
    };
    if key.state != state || fire_at < waiting.since {
        return step.not_accepted();
    }
    if key.kind != action.kind() {
        return step.invalid(format!(
            "timer {} carries an action for kind {}",
            key.name(),
            action.kind()
        ));
    }
    let waited = format!(
        "waited for {} since {}",
        text::party(waiting.party),
        text::moment(waiting.since)
    );
    match action {
        TimerAction::Remind { .. } => remind(step, key, action, fire_at),
        // A review is already what escalating to review asks for: its owner hears instead.
        TimerAction::Escalate {
            to: EscalateTo::Review,
        } if state != CaseState::WaitingForReview => {
            let since = text::moment(waiting.since);
            let reason = format!("waited too long: {state} since {since}");
            step.evidence(
                evidence::ESCALATION,
                format!("escalated to review: {reason}"),
            );
            request_review(step, &reason)
        }
        TimerAction::Escalate { .. } => {
            let owner = step.case.owner.clone();
            let what = waiting.what.clone();
            let text = format!(
                "{} has {waited} to {what}; please follow up",
                step.case.subject
            );
            step.enqueue(
                activity::SEND_MESSAGE,
                json!({ "to": "owner", "owner": owner, "text": text }),
            );
            step.evidence(
                evidence::ESCALATION,
                format!("escalated to owner {owner}: {waited}"),
            );
            Handled
        }
        TimerAction::Expire { outcome } => {
            let detail = format!("expired: {waited}");
            match outcome {
                ExpireOutcome::Cancel => {
                    step.evidence(evidence::CANCELLATION, detail);
                    Transition(CaseState::Cancelled)
                }
                ExpireOutcome::Complete => {
                    step.evidence(evidence::COMPLETION, detail);
                    Transition(CaseState::Completed)
                }
            }
        }
    }
}

/// Send the next reminder and, while the action allows more, start the one after it. The next
/// one is due `every` after this one was due; after downtime, the first such time still ahead
/// (reminders missed meanwhile are not sent in a burst).
fn remind(
    step: &mut Step<'_>,
    key: TimerKey,
    action: TimerAction,
    fire_at: DateTime<Utc>,
) -> Outcome<CaseState> {
    send_reminder(step, None);
    if let TimerAction::Remind {
        every_secs: Some(every),
        remaining,
    } = action
        && remaining > 0
        && let Some(next) = next_reminder(fire_at, every, step.now())
    {
        let next_action = TimerAction::Remind {
            every_secs: Some(every),
            remaining: remaining - 1,
        };
        step.start_timer(key, next, next_action);
    }
    Handled
}

/// A reminder asked for outside the timers (a schedule's reminder sweep): the same reminder,
/// no timer moves.
fn sweep_reminder(step: &mut Step<'_>, reason: &str) -> Outcome<CaseState> {
    if step.case.waiting.is_none() {
        return step.not_accepted();
    }
    let reason = reason.trim();
    send_reminder(step, (!reason.is_empty()).then_some(reason));
    Handled
}

/// Count the reminder on the case's waiting, enqueue it, and keep it as evidence.
fn send_reminder(step: &mut Step<'_>, reason: Option<&str>) {
    let subject = step.case.subject.clone();
    let Some(waiting) = step.case.waiting.as_mut() else {
        return;
    };
    waiting.reminders_sent = waiting.reminders_sent.saturating_add(1);
    let number = waiting.reminders_sent;
    let (party, what) = (waiting.party, waiting.what.clone());
    step.enqueue(
        activity::SEND_PROGRESS_REMINDER,
        json!({ "party": party, "what": what, "subject": subject, "reminder": number }),
    );
    let mut detail = format!("reminder {number} to {}: {what}", text::party(party));
    if let Some(reason) = reason {
        detail.push_str(&format!(" ({reason})"));
    }
    step.evidence(evidence::REMINDER, detail);
}

/// `fire_at + k * every` for the smallest `k >= 1` that is after `now`; `None` for a zero
/// interval or a time out of range.
fn next_reminder(
    fire_at: DateTime<Utc>,
    every_secs: u64,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let every = i64::try_from(every_secs).ok().filter(|e| *e > 0)?;
    let behind = (now - fire_at).num_seconds();
    let steps = (behind / every + 1).max(1);
    let delay = chrono::Duration::try_seconds(steps.checked_mul(every)?)?;
    fire_at.checked_add_signed(delay)
}
