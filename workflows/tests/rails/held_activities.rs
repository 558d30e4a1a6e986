//! Take-over and hand-back, and the templated activities the state machines emit: held (as
//! drafts a reviewer may release) on a taken-over case, while paused, and in mode off; queued
//! for review in mode review (AI drafts, a human sends); run on their own only in auto.

use aijia_workflows::automation::{
    ActionType, AutomationPolicy, AutomationStamp, Mode, Route, RouteReason,
};
use aijia_workflows::review::{Assignee, DraftOrigin, DraftStatus, evidence};
use aijia_workflows::{Case, CaseState, Effect, Event, Refusal, WorkflowType, activity};

use crate::support::*;

fn take_over(case: &Case, by: &str) -> Case {
    apply(
        case,
        Event::CaseTakenOver {
            by: by.into(),
            reason: "VIP customer".into(),
        },
        at(1),
    )
    .case
}

fn all_materials() -> Event {
    Event::MaterialProvided {
        items: vec!["ID card".into(), "contract".into()],
        note: String::new(),
    }
}

fn enqueued(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::EnqueueActivity { activity, .. } => Some(activity.as_str()),
            _ => None,
        })
        .collect()
}

fn under(case: &Case, policy: AutomationPolicy) -> Case {
    apply(
        case,
        Event::AutomationPolicyApplied(AutomationStamp { version: 3, policy }),
        at(1),
    )
    .case
}

#[test]
fn a_take_over_makes_the_human_the_owner_and_stops_automation() {
    let case = started(WorkflowType::MaterialCollection);
    let taken = apply(
        &case,
        Event::CaseTakenOver {
            by: "rev-9".into(),
            reason: "VIP customer".into(),
        },
        at(1),
    );
    assert_eq!(taken.case.owner, "rev-9");
    let t = taken.case.rails.taken_over.as_ref().expect("taken over");
    assert_eq!(
        (t.by.as_str(), t.previous_owner.as_str()),
        ("rev-9", "agent-1")
    );
    assert_eq!(taken.case.state, case.state, "a take-over moves no state");

    // A low-risk draft in auto mode on a taken-over case goes to the human, not out.
    let decision = apply(
        &taken.case,
        submitted(&taken.case, LOW_RISK, ActionType::StandardFaq, Mode::Auto),
        at(2),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(
        (draft.status, draft.routing.reason),
        (DraftStatus::PendingReview, RouteReason::TakenOver)
    );
    assert_eq!(draft.assigned_to, Some(Assignee::Reviewer("rev-9".into())));
    assert!(enqueued(&decision.effects).is_empty());
}

#[test]
fn a_taken_over_case_holds_its_templated_activities_for_a_human_to_release() {
    let case = take_over(&started(WorkflowType::MaterialCollection), "rev-9");
    let decision = apply(&case, all_materials(), at(5));
    assert_eq!(
        decision.case.state,
        CaseState::Received,
        "the machine still moves"
    );
    assert!(
        !enqueued(&decision.effects).contains(&activity::CONFIRM_MATERIAL_RECEIVED),
        "{:?}",
        decision.effects
    );
    let held = decision.case.rails.draft(1).expect("held as draft 1");
    assert_eq!(held.status, DraftStatus::Held);
    assert_eq!(held.routing.route, Route::Hold);
    assert_eq!(held.routing.reason, RouteReason::TakenOver);
    assert_eq!(held.action_type, ActionType::MaterialReceivedConfirmation);
    assert!(held.is_templated());
    assert!(decision.effects.iter().any(|e| matches!(
        e,
        Effect::RecordEvidence { kind, .. } if kind == evidence::ACTIVITY_HELD
    )));

    // The human releases it: the very activity, with its input, is enqueued.
    let released = apply(
        &decision.case,
        decided(&decision.case, 1, "rev-9", approve()),
        at(6),
    );
    let DraftOrigin::Activity { input, .. } = &held.origin else {
        panic!("a templated draft")
    };
    assert!(released.effects.iter().any(|e| matches!(
        e,
        Effect::EnqueueActivity { activity: a, input: i } if a == activity::CONFIRM_MATERIAL_RECEIVED && i == input
    )));
    // It cannot be edited.
    let refusal = refuse(
        &decision.case,
        decided(&decision.case, 1, "rev-9", edit("hi")),
    );
    assert!(matches!(refusal, Refusal::Invalid(m) if m.contains("templated")));
}

#[test]
fn a_hand_back_restores_the_owner_and_automation() {
    let case = take_over(&started(WorkflowType::MaterialCollection), "rev-9");
    let back = apply(
        &case,
        Event::CaseHandedBack {
            by: "rev-9".into(),
            note: "sorted".into(),
        },
        at(2),
    )
    .case;
    assert_eq!(back.owner, "agent-1");
    assert!(back.rails.taken_over.is_none());
    let back = under(
        &back,
        AutomationPolicy::initial().with_mode(ActionType::MaterialReceivedConfirmation, Mode::Auto),
    );
    let decision = apply(&back, all_materials(), at(3));
    assert_eq!(
        enqueued(&decision.effects),
        vec![activity::CONFIRM_MATERIAL_RECEIVED]
    );
    let sent = apply(
        &back,
        submitted(&back, LOW_RISK, ActionType::StandardFaq, Mode::Auto),
        at(4),
    );
    assert_eq!(
        sent.case.rails.draft(1).map(|d| d.status),
        Some(DraftStatus::Sent)
    );
}

#[test]
fn take_over_and_hand_back_are_refused_out_of_turn() {
    let case = started(WorkflowType::ProgressInquiry);
    let hand_back = Event::CaseHandedBack {
        by: "rev-1".into(),
        note: String::new(),
    };
    assert!(matches!(
        refuse(&case, hand_back),
        Refusal::NotAccepted { .. }
    ));
    let taken = take_over(&case, "rev-1");
    let again = Event::CaseTakenOver {
        by: "rev-2".into(),
        reason: "me too".into(),
    };
    assert!(matches!(refuse(&taken, again), Refusal::NotAccepted { .. }));
    let no_reason = Event::CaseTakenOver {
        by: "rev-2".into(),
        reason: " ".into(),
    };
    assert!(matches!(refuse(&case, no_reason), Refusal::Invalid(_)));
}

#[test]
fn review_mode_queues_reminders_for_a_human_and_only_auto_lets_them_run() {
    let case = started(WorkflowType::ProgressInquiry);
    let remind = Event::SendReminder {
        reason: "sweep".into(),
    };
    // Version 1 (no stamp): every type in review. The reminder waits in the review queue; the
    // case does not: it goes on waiting for its executor.
    let decision = apply(&case, remind.clone(), at(2));
    assert!(
        enqueued(&decision.effects).is_empty(),
        "{:?}",
        decision.effects
    );
    let queued = decision.case.rails.draft(1).expect("queued as draft 1");
    assert_eq!(
        (queued.status, queued.routing.route, queued.routing.reason),
        (
            DraftStatus::PendingReview,
            Route::Review,
            RouteReason::ModeReview
        )
    );
    assert_eq!(queued.action_type, ActionType::ProgressReminder);
    assert!(queued.is_templated());
    assert_eq!(decision.case.state, case.state, "the case goes on");
    assert!(!decision.case.review_needed);
    assert!(decision.effects.iter().any(|e| matches!(
        e,
        Effect::RecordEvidence { kind, .. } if kind == evidence::ACTIVITY_FOR_REVIEW
    )));
    assert_eq!(decision.drafts_changed, vec![1]);
    // A reviewer's approval sends it; a rejection drops it.
    let approved = apply(
        &decision.case,
        decided(&decision.case, 1, "rev-1", approve()),
        at(3),
    );
    assert_eq!(
        enqueued(&approved.effects),
        vec![activity::SEND_PROGRESS_REMINDER]
    );
    assert_eq!(approved.case.state, case.state);
    assert_eq!(approved.drafts_changed, vec![1]);
    let rejected = apply(
        &decision.case,
        decided(&decision.case, 1, "rev-1", reject("too early")),
        at(3),
    );
    assert!(enqueued(&rejected.effects).is_empty());
    assert_eq!(
        rejected.case.rails.draft(1).map(|d| d.status),
        Some(DraftStatus::Rejected)
    );

    let paused = under(&case, AutomationPolicy::initial().with_paused(true));
    let decision = apply(&paused, remind.clone(), at(2));
    assert!(enqueued(&decision.effects).is_empty());
    let held = decision.case.rails.draft(1).expect("held");
    assert_eq!(
        (
            held.status,
            held.routing.reason,
            held.automation_policy_version
        ),
        (DraftStatus::Held, RouteReason::Paused, 3)
    );
    assert_eq!(
        decision.case.waiting.as_ref().map(|w| w.reminders_sent),
        Some(1),
        "the reminder is counted as issued"
    );

    let off = under(
        &case,
        AutomationPolicy::initial().with_mode(ActionType::ProgressReminder, Mode::Off),
    );
    let decision = apply(&off, remind.clone(), at(2));
    assert!(enqueued(&decision.effects).is_empty());
    assert_eq!(
        decision.case.rails.draft(1).map(|d| d.routing.reason),
        Some(RouteReason::ModeOff)
    );

    let auto = under(
        &case,
        AutomationPolicy::initial().with_mode(ActionType::ProgressReminder, Mode::Auto),
    );
    let decision = apply(&auto, remind, at(2));
    assert_eq!(
        enqueued(&decision.effects),
        vec![activity::SEND_PROGRESS_REMINDER]
    );
    assert!(decision.case.rails.drafts.is_empty());
    assert!(decision.drafts_changed.is_empty());
}

#[test]
fn a_completion_writeback_queued_for_review_outlives_the_end_while_older_drafts_are_withdrawn() {
    let case = started(WorkflowType::PartnerCooperationRequest);
    let reminded = apply(
        &case,
        Event::SendReminder {
            reason: "sweep".into(),
        },
        at(1),
    )
    .case;
    assert_eq!(
        reminded.rails.draft(1).map(|d| d.status),
        Some(DraftStatus::PendingReview)
    );
    let received = apply(
        &reminded,
        Event::PartnerDone {
            note: "done".into(),
        },
        at(2),
    )
    .case;
    assert_eq!(received.state, CaseState::Received);
    let before = received.rails.drafts.len();
    let done = apply(
        &received,
        Event::Complete {
            note: "resolved".into(),
        },
        at(3),
    );
    assert_eq!(done.case.state, CaseState::Completed);
    let drafts = &done.case.rails.drafts;
    assert_eq!(drafts.len(), before + 1);
    assert!(
        drafts[..before]
            .iter()
            .all(|d| d.status == DraftStatus::Withdrawn),
        "{drafts:?}"
    );
    let writeback = drafts.last().expect("the writeback");
    assert_eq!(
        (writeback.action_type, writeback.status),
        (
            ActionType::CompletionFeedbackWriteback,
            DraftStatus::PendingReview
        )
    );
    assert_eq!(
        done.drafts_changed,
        drafts.iter().map(|d| d.number).collect::<Vec<_>>()
    );
    // Approving it on the completed case writes the result back.
    let released = apply(
        &done.case,
        decided(&done.case, writeback.number, "rev-1", approve()),
        at(4),
    );
    assert_eq!(
        enqueued(&released.effects),
        vec![activity::WRITEBACK_COMPLETION_FEEDBACK]
    );
}

#[test]
fn messages_to_owners_and_partners_are_not_governed_by_modes() {
    // The partner case relays the customer's reply with send_message, paused or not.
    let case = started(WorkflowType::PartnerCooperationRequest);
    let waiting = apply(
        &case,
        Event::PartnerWaitsForCustomer {
            what: "a photo".into(),
        },
        at(1),
    )
    .case;
    let paused = under(&waiting, AutomationPolicy::initial().with_paused(true));
    let decision = apply(
        &paused,
        Event::CustomerReplied {
            text: "here it is".into(),
        },
        at(2),
    );
    assert_eq!(enqueued(&decision.effects), vec![activity::SEND_MESSAGE]);
}

#[test]
fn the_automation_stamp_is_recorded_in_every_state() {
    let case = started(WorkflowType::ProgressInquiry);
    let cancelled = apply(
        &case,
        Event::Cancel {
            reason: "gone".into(),
        },
        at(1),
    )
    .case;
    let stamped = under(&cancelled, AutomationPolicy::initial().with_paused(true));
    assert_eq!(stamped.rails.automation_stamp().version, 3);
    assert_eq!(stamped.state, CaseState::Cancelled);
}
