//! The safety rails' events, taken before any workflow type's machine sees the event (every
//! type shares them): drafts and their review decisions, take-over and hand-back, identity
//! checks, refused context reads, and the automation policy a case runs under. And
//! [`settle`], run after a machine's own transition: it turns the templated activities that
//! automation does not let run now into drafts (held, or queued for review), and withdraws
//! drafts a case left behind.
//!
//! | event | accepted in | effect on the case | effects |
//! | --- | --- | --- | --- |
//! | `draft_submitted` (route send) | open states | draft `sent` | `send_message`, `risk_gate` + `draft_sent` evidence |
//! | `draft_submitted` (route review) | open states | draft `pending_review`; → `waiting_for_review` (unless there) | `request_review`, `risk_gate` evidence |
//! | `draft_submitted` (route hold) | open states | draft `held` | `risk_gate` + `draft_held` evidence |
//! | `draft_decided` approve / edit | every state, an open draft | `approved` / `edited`; the last pending one resumes the case | `send_message` (or the held activity), `review_decision` evidence |
//! | `draft_decided` reject | every state, an open draft | `rejected`; the last pending one resumes the case | `review_decision` evidence |
//! | `draft_decided` transfer | every state, an open draft | assigned to the reviewer or team | `review_decision` evidence |
//! | `case_taken_over` | open states, not taken over | owner = the human; pending drafts assigned to them | `take_over` evidence |
//! | `case_handed_back` | open states, taken over | owner restored | `hand_back` evidence |
//! | `identity_recorded` | open states | customer identity set | `identity` evidence |
//! | `context_access_refused` | every state | — | `context_refused` evidence |
//! | `context_access_granted` | every state, identity confirmed | — | `context_read` evidence |
//! | `automation_policy_applied` | every state | the case's automation stamp | `automation_policy` evidence |
//! | `review_decided` while drafts are pending | `waiting_for_review` | stays until the drafts are decided | `review_decision` evidence |
//! | (settle) a governed templated activity, mode `review` | any (a completion writeback comes with the end) | draft `pending_review`; the case goes on | `activity_for_review` evidence, no task |
//! | (settle) the same on a taken-over case, paused, or mode `off` | any | draft `held` | `activity_held` evidence, no task |

use serde_json::json;

use crate::automation::{self, ActionType, Route, RouteReason};
use crate::effect::{Effect, evidence as case_evidence};
use crate::event::{Actor, ActorRole, Event};
use crate::model::{CaseState, IdentityStatus};
use crate::review::{
    Assignee, CaseDraft, DecisionRecord, DraftOrigin, DraftStatus, DraftSubmitted, IdentityCheck,
    IdentityMethod, ReviewDecision, TakeOver, check_decision, check_hand_back, check_take_over,
    evidence,
};
use crate::risk::{Audience, DraftFlags, Verdict};
use crate::{Decision, automation::AutomationStamp};

use super::step::Step;

/// Applies a rails event; false for any other event (the machine decides those).
pub(super) fn handle(step: &mut Step<'_>, event: &Event) -> bool {
    match event {
        Event::DraftSubmitted(submitted) => draft_submitted(step, submitted),
        Event::DraftDecided {
            draft,
            reviewer,
            action_type,
            decision,
            ..
        } => draft_decided(step, *draft, reviewer, *action_type, decision),
        Event::CaseTakenOver { by, reason } => taken_over(step, by, reason),
        Event::CaseHandedBack { by, note } => handed_back(step, by, note),
        Event::IdentityRecorded {
            status,
            method,
            evidence,
        } => identity_recorded(step, *status, *method, evidence),
        Event::ContextAccessRefused {
            identity,
            purpose,
            task_id,
        } => {
            let detail = context_detail(
                format!("private customer context refused: identity is {identity}"),
                purpose,
                *task_id,
            );
            step.evidence(evidence::CONTEXT_REFUSED, detail);
        }
        Event::ContextAccessGranted { purpose, task_id } => {
            let identity = step.case.customer.identity;
            if identity != IdentityStatus::Confirmed {
                step.not_accepted::<()>();
                return true;
            }
            let detail = context_detail(
                "private customer context read (identity confirmed)".to_owned(),
                purpose,
                *task_id,
            );
            step.evidence(evidence::CONTEXT_READ, detail);
        }
        Event::AutomationPolicyApplied(stamp) => policy_applied(step, stamp),
        Event::ReviewDecided { approved, note }
            if step.state() == CaseState::WaitingForReview
                && step.case.rails.has_pending_review() =>
        {
            // A generic review decided while drafts still wait: the case stays in review until
            // the last of them is decided, and then resumes.
            let verdict = if *approved { "approved" } else { "rejected" };
            let note = note.trim();
            let mut detail = verdict.to_owned();
            if !note.is_empty() {
                detail.push_str(&format!(": {note}"));
            }
            detail.push_str("; drafts still await review");
            step.evidence(case_evidence::REVIEW_DECISION, detail);
            step.case.rails.review_is_for_drafts = true;
        }
        _ => return false,
    }
    true
}

/// `<what> (asked for: <purpose>; by task <id>)`, leaving out what is not known.
fn context_detail(mut detail: String, purpose: &str, task_id: Option<i64>) -> String {
    let mut why = Vec::new();
    let purpose = purpose.trim();
    if !purpose.is_empty() {
        why.push(format!("asked for: {purpose}"));
    }
    if let Some(task) = task_id {
        why.push(format!("by task {task}"));
    }
    if !why.is_empty() {
        detail.push_str(&format!(" ({})", why.join("; ")));
    }
    detail
}

fn recipient(audience: Audience) -> &'static str {
    match audience {
        Audience::CustomerPrivate | Audience::PublicGroup => "customer",
        Audience::Executor => "executor",
        Audience::Partner => "partner",
    }
}

fn draft_submitted(step: &mut Step<'_>, d: &DraftSubmitted) {
    let state = step.state();
    if state.is_terminal() {
        step.not_accepted::<()>();
        return;
    }
    let next = step.case.rails.next_number();
    if d.draft != next {
        step.invalid::<()>(format!(
            "draft number {} is not the case's next draft number {next}",
            d.draft
        ));
        return;
    }
    if d.text.trim().is_empty() {
        step.invalid::<()>("the draft has no text");
        return;
    }
    let verdict_agrees =
        (d.assessment.verdict == Verdict::Review) != d.assessment.findings.is_empty();
    if !verdict_agrees {
        step.invalid::<()>("the assessment's verdict does not match its findings");
        return;
    }
    let taken_over = step.case.rails.taken_over.clone();
    if d.taken_over != taken_over.is_some() {
        step.invalid::<()>("the draft was routed for a case taken over, or not, unlike this one");
        return;
    }
    // The route must follow from the recorded inputs: a high-risk draft can never be sent.
    let expected = automation::route(d.assessment.verdict, d.mode, d.paused, d.taken_over);
    if expected != d.routing {
        step.invalid::<()>(format!(
            "route {} ({}) does not follow from verdict {}, mode {}, paused {}: expected {} ({})",
            d.routing.route,
            d.routing.reason,
            d.assessment.verdict,
            d.mode,
            d.paused,
            expected.route,
            expected.reason
        ));
        return;
    }
    let status = match d.routing.route {
        Route::Send => DraftStatus::Sent,
        Route::Review => DraftStatus::PendingReview,
        Route::Hold => DraftStatus::Held,
    };
    step.case.rails.drafts.push(CaseDraft {
        number: d.draft,
        origin: DraftOrigin::Submitted,
        text: d.text.clone(),
        audience: Some(d.audience),
        action_type: d.action_type,
        flags: d.flags,
        author: d.author.clone(),
        assessment: Some(d.assessment.clone()),
        routing: d.routing,
        automation_policy_version: d.automation_policy_version,
        status,
        submitted_at: step.now(),
        assigned_to: taken_over.map(|t| Assignee::Reviewer(t.by)),
        decision: None,
    });
    let categories: Vec<&str> = d
        .assessment
        .categories()
        .into_iter()
        .map(|c| c.as_str())
        .collect();
    let found = if categories.is_empty() {
        "nothing found".to_owned()
    } else {
        format!("found {}", categories.join(", "))
    };
    step.evidence(
        evidence::RISK_GATE,
        format!(
            "draft {} ({}): risk gate {} ({found}) under risk policy {}; routed to {} ({}) under \
             automation policy v{}",
            d.draft,
            d.action_type,
            d.assessment.verdict,
            d.assessment.policy_version,
            d.routing.route,
            d.routing.reason,
            d.automation_policy_version
        ),
    );
    match d.routing.route {
        Route::Send => {
            send_message(step, d.draft, d.audience, d.action_type, &d.text);
            step.evidence(
                evidence::DRAFT_SENT,
                format!("draft {} sent to the {}", d.draft, recipient(d.audience)),
            );
        }
        Route::Hold => {
            step.evidence(
                evidence::DRAFT_HELD,
                format!("draft {} held: {}", d.draft, d.routing.reason),
            );
        }
        Route::Review => {
            let why = if categories.is_empty() {
                d.routing.reason.to_string()
            } else {
                format!("{}: {}", d.routing.reason, categories.join(", "))
            };
            let reason = format!("draft {} ({}) {why}", d.draft, d.action_type);
            step.request_review(&reason);
            if state != CaseState::WaitingForReview {
                let carried = step.checklist().to_vec();
                step.wait(Some(format!("decide {reason}")), carried);
                step.entered(Some(state), CaseState::WaitingForReview);
                step.case.rails.review_is_for_drafts = true;
            }
        }
    }
}

fn send_message(
    step: &mut Step<'_>,
    number: u32,
    audience: Audience,
    action: ActionType,
    text: &str,
) {
    step.enqueue(
        crate::effect::activity::SEND_MESSAGE,
        json!({
            "to": recipient(audience),
            "text": text,
            "items": [],
            "draft": number,
            "audience": audience,
            "action_type": action,
        }),
    );
}

fn draft_decided(
    step: &mut Step<'_>,
    number: u32,
    reviewer: &str,
    action_type: ActionType,
    decision: &ReviewDecision,
) {
    let reviewer = reviewer.trim();
    if reviewer.is_empty() {
        step.invalid::<()>("a decision needs the reviewer who made it");
        return;
    }
    let draft = match check_decision(&step.case, number, decision) {
        Ok(draft) => draft.clone(),
        Err(crate::review::DecisionRefusal::Invalid(message)) => {
            step.invalid::<()>(message);
            return;
        }
        Err(_) => {
            step.not_accepted::<()>();
            return;
        }
    };
    if draft.action_type != action_type {
        step.invalid::<()>(format!(
            "draft {number} is a {} draft, not {action_type}",
            draft.action_type
        ));
        return;
    }
    let now = step.now();
    let record = |outcome: DraftStatus, note: &str, edited_text: Option<String>| DecisionRecord {
        by: reviewer.to_owned(),
        at: now,
        outcome,
        note: note.trim().to_owned(),
        edited_text,
    };
    let (status, record, detail, send) = match decision {
        ReviewDecision::Approve { note } => (
            DraftStatus::Approved,
            Some(record(DraftStatus::Approved, note, None)),
            with_note(format!("draft {number} approved by {reviewer}"), note),
            Some(draft.text.clone()),
        ),
        ReviewDecision::Edit { text, note } => (
            DraftStatus::Edited,
            Some(record(DraftStatus::Edited, note, Some(text.clone()))),
            with_note(
                format!("draft {number} edited and approved by {reviewer}"),
                note,
            ),
            Some(text.clone()),
        ),
        ReviewDecision::Reject { reason } => (
            DraftStatus::Rejected,
            Some(record(DraftStatus::Rejected, reason, None)),
            with_note(format!("draft {number} rejected by {reviewer}"), reason),
            None,
        ),
        ReviewDecision::Transfer { to, note } => (
            draft.status,
            None,
            with_note(
                format!("draft {number} transferred to {to} by {reviewer}"),
                note,
            ),
            None,
        ),
    };
    if let Some(entry) = step
        .case
        .rails
        .drafts
        .iter_mut()
        .find(|d| d.number == number)
    {
        entry.status = status;
        if let ReviewDecision::Transfer { to, .. } = decision {
            entry.assigned_to = Some(to.clone());
        }
        if record.is_some() {
            entry.decision = record;
        }
    }
    step.evidence(case_evidence::REVIEW_DECISION, detail);
    if let Some(text) = send {
        match &draft.origin {
            DraftOrigin::Submitted => {
                let audience = draft.audience.unwrap_or(Audience::CustomerPrivate);
                send_message(step, number, audience, draft.action_type, &text);
                step.evidence(
                    evidence::DRAFT_SENT,
                    format!("draft {number} sent to the {}", recipient(audience)),
                );
            }
            DraftOrigin::Activity { activity, input } => {
                step.enqueue(activity, input.clone());
                step.evidence(
                    evidence::DRAFT_SENT,
                    format!("held {activity} (draft {number}) released"),
                );
            }
        }
    }
    resume_if_reviewed(step);
}

fn with_note(mut detail: String, note: &str) -> String {
    let note = note.trim();
    if !note.is_empty() {
        detail.push_str(": ");
        detail.push_str(note);
    }
    detail
}

/// The last pending draft of a case that waits for review because of its drafts is decided:
/// the case resumes the state it left, as a generic review decision resumes it.
fn resume_if_reviewed(step: &mut Step<'_>) {
    let rails = &step.case.rails;
    if step.state() != CaseState::WaitingForReview
        || rails.has_pending_review()
        || !rails.review_is_for_drafts
    {
        return;
    }
    let Some(resume) = step.case.resume_state else {
        step.invalid::<()>("the case is in review but records no state to resume");
        return;
    };
    let carried = step.checklist().to_vec();
    step.wait(None, carried);
    step.entered(Some(CaseState::WaitingForReview), resume);
    step.case.rails.review_is_for_drafts = false;
}

fn taken_over(step: &mut Step<'_>, by: &str, reason: &str) {
    if check_take_over(&step.case).is_err() {
        step.not_accepted::<()>();
        return;
    }
    let (by, reason) = (by.trim(), reason.trim());
    if by.is_empty() {
        step.invalid::<()>("a take-over needs the human who takes the case over");
        return;
    }
    if reason.is_empty() {
        step.invalid::<()>("a take-over needs a reason");
        return;
    }
    let previous_owner = std::mem::replace(&mut step.case.owner, by.to_owned());
    step.case.rails.taken_over = Some(TakeOver {
        by: by.to_owned(),
        since: step.now(),
        reason: reason.to_owned(),
        previous_owner: previous_owner.clone(),
    });
    for draft in step
        .case
        .rails
        .drafts
        .iter_mut()
        .filter(|d| d.status.is_open())
    {
        draft.assigned_to = Some(Assignee::Reviewer(by.to_owned()));
    }
    step.evidence(
        evidence::TAKE_OVER,
        format!("taken over by {by} (owner was {previous_owner}): {reason}; automation stopped"),
    );
}

fn handed_back(step: &mut Step<'_>, by: &str, note: &str) {
    if check_hand_back(&step.case).is_err() {
        step.not_accepted::<()>();
        return;
    }
    let by = by.trim();
    if by.is_empty() {
        step.invalid::<()>("a hand-back needs the human who hands the case back");
        return;
    }
    let Some(taken) = step.case.rails.taken_over.take() else {
        return;
    };
    step.case.owner = taken.previous_owner.clone();
    step.evidence(
        evidence::HAND_BACK,
        with_note(
            format!(
                "handed back by {by} (taken over by {} since {}); owner {} again, automation resumes",
                taken.by,
                taken.since.format("%Y-%m-%d %H:%M UTC"),
                taken.previous_owner
            ),
            note,
        ),
    );
}

fn identity_recorded(
    step: &mut Step<'_>,
    status: IdentityStatus,
    method: Option<IdentityMethod>,
    proof: &str,
) {
    if step.state().is_terminal() {
        step.not_accepted::<()>();
        return;
    }
    let proof = proof.trim();
    match status {
        IdentityStatus::Unknown => {
            step.invalid::<()>("record an identity as claimed, confirmed or failed");
            return;
        }
        IdentityStatus::Confirmed if method.is_none() => {
            step.invalid::<()>(
                "a confirmed identity needs the method that confirmed it: order_number_match, \
                 phone_match, email_code or back_office_match",
            );
            return;
        }
        IdentityStatus::Confirmed if proof.is_empty() => {
            step.invalid::<()>("a confirmed identity needs evidence of the match");
            return;
        }
        _ => {}
    }
    step.case.customer.identity = status;
    step.case.rails.identity = Some(IdentityCheck {
        status,
        method,
        at: step.now(),
    });
    let mut detail = format!("identity {status}");
    if let Some(method) = method {
        detail.push_str(&format!(" by {method}"));
    }
    step.evidence(evidence::IDENTITY, with_note(detail, proof));
}

fn policy_applied(step: &mut Step<'_>, stamp: &AutomationStamp) {
    if stamp.version < 1 {
        step.invalid::<()>("automation policy versions start at 1");
        return;
    }
    let modes: Vec<String> = stamp
        .policy
        .all_modes()
        .into_iter()
        .map(|(t, m)| format!("{t}={m}"))
        .collect();
    let paused = if stamp.policy.paused { "paused; " } else { "" };
    step.evidence(
        evidence::AUTOMATION_POLICY,
        format!(
            "runs under automation policy v{}: {paused}{}",
            stamp.version,
            modes.join(", ")
        ),
    );
    step.case.rails.automation = Some(stamp.clone());
}

/// After a machine's own transition: turn the templated activities of governed action types
/// that automation does not let run now into drafts (held on a taken-over case, while paused
/// or in mode `off`; queued for review in mode `review`) that a reviewer may release, withdraw
/// the drafts awaiting review of a case that ended, and forget that review was for drafts once
/// the case left it.
pub(super) fn settle(mut decision: Decision) -> Decision {
    let now = decision.case.updated_at;
    let rails = &mut decision.case.rails;
    if decision.case.state != CaseState::WaitingForReview {
        rails.review_is_for_drafts = false;
    }
    let mut effects = Vec::with_capacity(decision.effects.len());
    // Drafts that awaited review before the case ended are withdrawn; those the ending
    // transition queues (a completion writeback) are what the end asks for, and stay.
    if decision.case.state.is_terminal() {
        for draft in rails
            .drafts
            .iter_mut()
            .filter(|d| d.status == DraftStatus::PendingReview)
        {
            draft.status = DraftStatus::Withdrawn;
            draft.decision = Some(DecisionRecord {
                by: String::new(),
                at: now,
                outcome: DraftStatus::Withdrawn,
                note: format!("the case was {}", decision.case.state),
                edited_text: None,
            });
            effects.push(Effect::RecordEvidence {
                kind: evidence::DRAFT_WITHDRAWN.to_owned(),
                detail: format!(
                    "draft {} withdrawn: the case was {}",
                    draft.number, decision.case.state
                ),
            });
        }
    }
    let stamp = rails.automation_stamp();
    let taken_over = rails.taken_over.is_some();
    for effect in std::mem::take(&mut decision.effects) {
        let diverted = match &effect {
            Effect::EnqueueActivity { activity, input } => ActionType::of_activity(activity)
                .and_then(|action| {
                    automation::activity_route(action, &stamp.policy, taken_over)
                        .map(|routing| (action, routing, activity.clone(), input.clone()))
                }),
            _ => None,
        };
        let Some((action, routing, activity, input)) = diverted else {
            effects.push(effect);
            continue;
        };
        let number = rails.next_number();
        let (status, kind, what) = match routing.route {
            Route::Review => (
                DraftStatus::PendingReview,
                evidence::ACTIVITY_FOR_REVIEW,
                "awaits review",
            ),
            _ => (DraftStatus::Held, evidence::ACTIVITY_HELD, "held"),
        };
        rails.drafts.push(CaseDraft {
            number,
            origin: DraftOrigin::Activity {
                activity: activity.clone(),
                input: input.clone(),
            },
            text: format!("{activity} {input}"),
            audience: None,
            action_type: action,
            flags: DraftFlags::default(),
            author: Actor {
                role: ActorRole::Execution,
                id: "workflow".to_owned(),
            },
            assessment: None,
            routing,
            automation_policy_version: stamp.version,
            status,
            submitted_at: now,
            assigned_to: rails
                .taken_over
                .as_ref()
                .map(|t| Assignee::Reviewer(t.by.clone())),
            decision: None,
        });
        effects.push(Effect::RecordEvidence {
            kind: kind.to_owned(),
            detail: format!(
                "{activity} {what} as draft {number}: {} (automation policy v{}); it runs when a \
                 reviewer approves it",
                divert_words(routing.reason),
                stamp.version
            ),
        });
    }
    decision.effects = effects;
    decision
}

fn divert_words(reason: RouteReason) -> &'static str {
    match reason {
        RouteReason::TakenOver => "the case is taken over",
        RouteReason::Paused => "automation is paused",
        RouteReason::ModeOff => "its action type is off",
        RouteReason::ModeReview => "its action type is in review mode",
        _ => "automation does not run it now",
    }
}
