//! The review decisions on drafts: approve, edit, reject, transfer; what each sends, when the
//! case resumes, and that a decided draft cannot be decided again.

use aijia_workflows::automation::{ActionType, Mode};
use aijia_workflows::review::{
    Assignee, DecisionRefusal, DraftStatus, ReviewDecision, check_decision,
};
use aijia_workflows::{Case, CaseState, Effect, Event, Refusal, WorkflowType, activity, evidence};

use crate::support::*;

/// A material collection case waiting for review of draft 1 (a high-risk reply).
fn in_review() -> Case {
    let case = started(WorkflowType::MaterialCollection);
    apply(
        &case,
        submitted(&case, HIGH_RISK, ActionType::StandardFaq, Mode::Auto),
        at(10),
    )
    .case
}

fn sent_texts(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::EnqueueActivity { activity: a, input } if a == activity::SEND_MESSAGE => {
                input["text"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn approving_the_last_pending_draft_sends_it_and_resumes_the_case() {
    let case = in_review();
    let decision = apply(&case, decided(&case, 1, "rev-1", approve()), at(20));
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Approved);
    let record = draft.decision.as_ref().expect("decision kept");
    assert_eq!((record.by.as_str(), record.at), ("rev-1", at(20)));
    assert_eq!(sent_texts(&decision.effects), vec![HIGH_RISK.to_owned()]);
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
    assert!(!decision.case.review_needed);
    assert_eq!(decision.case.resume_state, None);
    assert!(!decision.case.rails.review_is_for_drafts);
    assert_eq!(
        decision.case.waiting.as_ref().map(|w| w.checklist.len()),
        Some(2),
        "the checklist comes back"
    );
    assert!(decision.effects.iter().any(|e| matches!(
        e,
        Effect::RecordEvidence { kind, detail } if kind == evidence::REVIEW_DECISION && detail.contains("approved by rev-1")
    )));
}

#[test]
fn editing_keeps_both_texts_and_sends_the_edited_one() {
    let case = in_review();
    let softer = "We are checking your refund request and will reply within one working day.";
    let decision = apply(&case, decided(&case, 1, "rev-1", edit(softer)), at(20));
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Edited);
    assert_eq!(draft.text, HIGH_RISK, "the drafted text is kept");
    assert_eq!(draft.final_text(), softer);
    assert_eq!(sent_texts(&decision.effects), vec![softer.to_owned()]);
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
}

#[test]
fn rejecting_sends_nothing_and_resumes_the_case() {
    let case = in_review();
    let decision = apply(
        &case,
        decided(&case, 1, "rev-1", reject("promises a refund")),
        at(20),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Rejected);
    assert_eq!(
        draft.decision.as_ref().map(|d| d.note.as_str()),
        Some("promises a refund")
    );
    assert!(sent_texts(&decision.effects).is_empty());
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
}

#[test]
fn transferring_assigns_the_draft_and_the_case_keeps_waiting_for_review() {
    let case = in_review();
    let decision = apply(
        &case,
        decided(&case, 1, "rev-1", transfer_to_team("billing")),
        at(20),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::PendingReview);
    assert_eq!(draft.assigned_to, Some(Assignee::Team("billing".into())));
    assert!(draft.decision.is_none());
    assert!(sent_texts(&decision.effects).is_empty());
    assert_eq!(decision.case.state, CaseState::WaitingForReview);
    // Transferring again to the same team says so.
    let again = decided(&decision.case, 1, "rev-2", transfer_to_team("billing"));
    assert!(
        matches!(refuse(&decision.case, again), Refusal::Invalid(m) if m.contains("already assigned"))
    );
}

#[test]
fn a_decided_draft_cannot_be_decided_again() {
    let case = in_review();
    let approved = apply(&case, decided(&case, 1, "rev-1", approve()), at(20)).case;
    for decision in [
        approve(),
        edit("other"),
        reject("no"),
        transfer_to_team("billing"),
    ] {
        let refusal = check_decision(&approved, 1, &decision).expect_err("already decided");
        assert!(
            matches!(refusal, DecisionRefusal::AlreadyDecided { number: 1, status: DraftStatus::Approved, ref by } if by.contains("rev-1")),
            "{refusal:?}"
        );
        assert!(
            refusal.to_string().contains("already approved by rev-1"),
            "{refusal}"
        );
        assert!(matches!(
            refuse(&approved, decided(&approved, 1, "rev-2", decision)),
            Refusal::NotAccepted { .. }
        ));
    }
}

#[test]
fn unusable_decisions_are_invalid() {
    let case = in_review();
    assert!(matches!(
        check_decision(&case, 7, &approve()),
        Err(DecisionRefusal::NoSuchDraft(7))
    ));
    assert!(matches!(
        check_decision(&case, 1, &reject("  ")),
        Err(DecisionRefusal::Invalid(m)) if m.contains("reason")
    ));
    assert!(matches!(
        check_decision(&case, 1, &edit(HIGH_RISK)),
        Err(DecisionRefusal::Invalid(m)) if m.contains("approve it instead")
    ));
    let nobody = Event::DraftDecided {
        draft: 1,
        reviewer: " ".into(),
        action_type: ActionType::StandardFaq,
        templated: false,
        decision: Box::new(approve()),
    };
    assert!(matches!(refuse(&case, nobody), Refusal::Invalid(_)));
    let wrong_type = Event::DraftDecided {
        draft: 1,
        reviewer: "rev-1".into(),
        action_type: ActionType::StateUpdate,
        templated: false,
        decision: Box::new(approve()),
    };
    assert!(matches!(refuse(&case, wrong_type), Refusal::Invalid(_)));
}

#[test]
fn the_case_resumes_only_when_its_last_pending_draft_is_decided() {
    let case = in_review();
    let two = apply(
        &case,
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Review),
        at(11),
    )
    .case;
    let one_left = apply(&two, decided(&two, 2, "rev-1", approve()), at(12)).case;
    assert_eq!(one_left.state, CaseState::WaitingForReview);
    let none_left = apply(
        &one_left,
        decided(&one_left, 1, "rev-1", reject("no")),
        at(13),
    )
    .case;
    assert_eq!(none_left.state, CaseState::WaitingForCustomer);
}

#[test]
fn a_generic_review_and_drafts_each_need_their_decision() {
    // A generic review first: the drafts submitted during it do not end it.
    let case = started(WorkflowType::MaterialCollection);
    let generic = apply(
        &case,
        Event::RequestReview {
            reason: "unusual request".into(),
        },
        at(1),
    )
    .case;
    let with_draft = apply(
        &generic,
        submitted(&generic, HIGH_RISK, ActionType::StandardFaq, Mode::Auto),
        at(2),
    )
    .case;
    assert!(!with_draft.rails.review_is_for_drafts);
    let draft_done = apply(
        &with_draft,
        decided(&with_draft, 1, "rev-1", approve()),
        at(3),
    )
    .case;
    assert_eq!(
        draft_done.state,
        CaseState::WaitingForReview,
        "the generic review is still open"
    );
    let resumed = apply(
        &draft_done,
        Event::ReviewDecided {
            approved: true,
            note: String::new(),
        },
        at(4),
    )
    .case;
    assert_eq!(resumed.state, CaseState::WaitingForCustomer);

    // A generic decision while drafts still wait: the case stays until they are decided.
    let drafts_first = in_review();
    let generic_done = apply(
        &drafts_first,
        Event::ReviewDecided {
            approved: true,
            note: "fine".into(),
        },
        at(20),
    )
    .case;
    assert_eq!(generic_done.state, CaseState::WaitingForReview);
    let resumed = apply(
        &generic_done,
        decided(&generic_done, 1, "rev-1", approve()),
        at(21),
    )
    .case;
    assert_eq!(resumed.state, CaseState::WaitingForCustomer);
}

#[test]
fn a_case_that_ends_withdraws_the_drafts_awaiting_review() {
    let case = in_review();
    let cancelled = apply(
        &case,
        Event::Cancel {
            reason: "customer left".into(),
        },
        at(30),
    );
    let draft = cancelled.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Withdrawn);
    assert!(cancelled.effects.iter().any(|e| matches!(
        e,
        Effect::RecordEvidence { kind, .. } if kind == aijia_workflows::review::evidence::DRAFT_WITHDRAWN
    )));
    assert!(matches!(
        check_decision(&cancelled.case, 1, &approve()),
        Err(DecisionRefusal::AlreadyDecided {
            status: DraftStatus::Withdrawn,
            ..
        })
    ));
}

#[test]
fn a_held_draft_can_still_be_approved_and_then_goes_out() {
    let case = started(WorkflowType::ProgressInquiry);
    let held = apply(
        &case,
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Off),
        at(1),
    )
    .case;
    let decision = apply(&held, decided(&held, 1, "rev-1", approve()), at(2));
    assert_eq!(sent_texts(&decision.effects), vec![LOW_RISK.to_owned()]);
    assert_eq!(
        decision.case.state, held.state,
        "a held draft never moved the case"
    );
}

#[test]
fn every_decision_kind_has_a_stable_name() {
    let names: Vec<&str> = [approve(), edit("x"), reject("y"), transfer_to_team("z")]
        .iter()
        .map(ReviewDecision::name)
        .collect();
    assert_eq!(names, vec!["approve", "edit", "reject", "transfer"]);
}
