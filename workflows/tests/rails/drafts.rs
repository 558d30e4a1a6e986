//! Submitted drafts: the route the engine recorded becomes the draft's status, what the case
//! does, and what is sent; a route that does not follow from the gate is refused.

use aijia_workflows::automation::{ActionType, AutomationPolicy, Mode, Route, RouteReason};
use aijia_workflows::review::{DraftStatus, evidence};
use aijia_workflows::risk::{Audience, Verdict};
use aijia_workflows::{CaseState, Effect, Event, IdentityStatus, Refusal, WorkflowType, activity};

use crate::support::*;

fn sends(effects: &[Effect]) -> Vec<serde_json::Value> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::EnqueueActivity { activity: a, input } if a == activity::SEND_MESSAGE => {
                Some(input.clone())
            }
            _ => None,
        })
        .collect()
}

fn evidence_kinds(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RecordEvidence { kind, .. } => Some(kind.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_low_risk_draft_in_auto_mode_goes_out_at_once_and_the_case_stays() {
    let case = started(WorkflowType::MaterialCollection);
    let event = submitted(
        &case,
        LOW_RISK,
        ActionType::MaterialReceivedConfirmation,
        Mode::Auto,
    );
    let decision = apply(&case, event, at(5));
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Sent);
    assert_eq!(draft.routing.route, Route::Send);
    assert_eq!(draft.routing.reason, RouteReason::LowRisk);
    assert_eq!(draft.submitted_at, at(5));
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
    assert!(!decision.case.review_needed);
    let sent = sends(&decision.effects);
    assert_eq!(sent.len(), 1, "{:?}", decision.effects);
    assert_eq!(sent[0]["to"], "customer");
    assert_eq!(sent[0]["text"], LOW_RISK);
    assert_eq!(sent[0]["draft"], 1);
    assert_eq!(
        evidence_kinds(&decision.effects),
        vec![evidence::RISK_GATE, evidence::DRAFT_SENT]
    );
}

#[test]
fn a_high_risk_draft_in_auto_mode_waits_for_review_and_nothing_is_sent() {
    let case = started(WorkflowType::MaterialCollection);
    let event = submitted(
        &case,
        HIGH_RISK,
        ActionType::MaterialReceivedConfirmation,
        Mode::Auto,
    );
    let decision = apply(&case, event, at(5));
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::PendingReview);
    assert_eq!(draft.routing.reason, RouteReason::HighRisk);
    assert_eq!(
        draft.assessment.as_ref().map(|a| a.verdict),
        Some(Verdict::Review)
    );
    assert_eq!(decision.case.state, CaseState::WaitingForReview);
    assert_eq!(
        decision.case.resume_state,
        Some(CaseState::WaitingForCustomer)
    );
    assert!(decision.case.review_needed);
    assert!(decision.case.rails.review_is_for_drafts);
    assert!(sends(&decision.effects).is_empty());
    assert!(
        decision
            .effects
            .iter()
            .any(|e| matches!(e, Effect::RequestReview { reason } if reason.contains("draft 1"))),
        "{:?}",
        decision.effects
    );
    // The checklist of the state left rides along.
    let waiting = decision.case.waiting.as_ref().expect("waiting for review");
    assert_eq!(waiting.checklist.len(), 2);
    assert!(waiting.what.contains("draft 1"), "{}", waiting.what);
}

#[test]
fn review_mode_queues_even_a_draft_the_gate_finds_nothing_in() {
    let case = started(WorkflowType::ProgressInquiry);
    let decision = apply(
        &case,
        submitted(&case, LOW_RISK_ZH, ActionType::StandardFaq, Mode::Review),
        at(1),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::PendingReview);
    assert_eq!(draft.routing.reason, RouteReason::ModeReview);
    assert_eq!(decision.case.state, CaseState::WaitingForReview);
    assert!(sends(&decision.effects).is_empty());
}

#[test]
fn off_mode_records_the_draft_as_held_and_sends_nothing() {
    let case = started(WorkflowType::ProgressInquiry);
    let decision = apply(
        &case,
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Off),
        at(1),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::Held);
    assert_eq!(draft.routing.reason, RouteReason::ModeOff);
    assert_eq!(
        decision.case.state, case.state,
        "a held draft moves nothing"
    );
    assert!(sends(&decision.effects).is_empty());
    assert!(
        !decision
            .effects
            .iter()
            .any(|e| matches!(e, Effect::RequestReview { .. }))
    );
    assert_eq!(
        evidence_kinds(&decision.effects),
        vec![evidence::RISK_GATE, evidence::DRAFT_HELD]
    );
}

#[test]
fn a_paused_policy_sends_a_low_risk_auto_draft_to_review_instead() {
    let case = started(WorkflowType::ProgressInquiry);
    let policy = AutomationPolicy::initial()
        .with_mode(ActionType::StandardFaq, Mode::Auto)
        .with_paused(true);
    let event = submitted_under(
        &case,
        LOW_RISK,
        Audience::CustomerPrivate,
        ActionType::StandardFaq,
        &policy,
    );
    let decision = apply(&case, event, at(1));
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(
        (draft.status, draft.routing.reason),
        (DraftStatus::PendingReview, RouteReason::Paused)
    );
    assert!(sends(&decision.effects).is_empty());
}

#[test]
fn a_route_that_does_not_follow_from_the_gate_is_refused() {
    let case = started(WorkflowType::ProgressInquiry);
    let Event::DraftSubmitted(mut forged) =
        submitted(&case, HIGH_RISK, ActionType::StandardFaq, Mode::Auto)
    else {
        unreachable!()
    };
    forged.routing.route = Route::Send;
    forged.routing.reason = RouteReason::LowRisk;
    let refusal = refuse(&case, Event::DraftSubmitted(forged));
    let Refusal::Invalid(message) = refusal else {
        panic!("expected invalid, got {refusal:?}");
    };
    assert!(message.contains("does not follow"), "{message}");
}

#[test]
fn a_verdict_that_contradicts_the_findings_is_refused() {
    let case = started(WorkflowType::ProgressInquiry);
    let Event::DraftSubmitted(mut forged) =
        submitted(&case, HIGH_RISK, ActionType::StandardFaq, Mode::Auto)
    else {
        unreachable!()
    };
    forged.assessment.verdict = Verdict::Send;
    forged.routing.route = Route::Send;
    forged.routing.reason = RouteReason::LowRisk;
    assert!(matches!(
        refuse(&case, Event::DraftSubmitted(forged)),
        Refusal::Invalid(_)
    ));
}

#[test]
fn drafts_are_numbered_in_order_and_a_wrong_number_is_refused() {
    let case = started(WorkflowType::ProgressInquiry);
    let first = apply(
        &case,
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Off),
        at(1),
    )
    .case;
    let stale = submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Off);
    assert!(
        matches!(refuse(&first, stale), Refusal::Invalid(m) if m.contains("next draft number 2"))
    );
    let second = apply(
        &first,
        submitted(&first, LOW_RISK, ActionType::StandardFaq, Mode::Off),
        at(2),
    )
    .case;
    let numbers: Vec<u32> = second.rails.drafts.iter().map(|d| d.number).collect();
    assert_eq!(numbers, vec![1, 2]);
}

#[test]
fn a_closed_case_takes_no_draft() {
    let case = started(WorkflowType::ProgressInquiry);
    let cancelled = apply(
        &case,
        Event::Cancel {
            reason: "duplicate".into(),
        },
        at(1),
    )
    .case;
    let event = submitted(&cancelled, LOW_RISK, ActionType::StandardFaq, Mode::Auto);
    assert!(matches!(
        refuse(&cancelled, event),
        Refusal::NotAccepted {
            state: CaseState::Cancelled,
            ..
        }
    ));
}

#[test]
fn customer_specific_progress_before_identity_is_confirmed_waits_for_review() {
    let case = started(WorkflowType::ProgressInquiry);
    assert_eq!(case.customer.identity, IdentityStatus::Unknown);
    let decision = apply(
        &case,
        submitted(
            &case,
            CUSTOMER_SPECIFIC,
            ActionType::ProgressReminder,
            Mode::Auto,
        ),
        at(1),
    );
    let draft = decision.case.rails.draft(1).expect("draft 1");
    assert_eq!(draft.status, DraftStatus::PendingReview);
    let categories = draft.assessment.as_ref().expect("assessed").categories();
    assert!(
        categories.contains(&aijia_workflows::risk::Category::UncertainIdentity),
        "{categories:?}"
    );
    assert!(sends(&decision.effects).is_empty());
}

#[test]
fn a_request_for_identifying_information_may_go_out_before_confirmation() {
    let case = started(WorkflowType::ProgressInquiry);
    let decision = apply(
        &case,
        submitted(
            &case,
            ASKS_FOR_IDENTITY,
            ActionType::AuthorizedVerification,
            Mode::Auto,
        ),
        at(1),
    );
    assert_eq!(
        decision.case.rails.draft(1).map(|d| d.status),
        Some(DraftStatus::Sent)
    );
    assert_eq!(sends(&decision.effects).len(), 1);
}

#[test]
fn customer_specific_progress_goes_out_once_identity_is_confirmed() {
    let case = started(WorkflowType::ProgressInquiry);
    let confirmed = apply(
        &case,
        Event::IdentityRecorded {
            status: IdentityStatus::Confirmed,
            method: Some(aijia_workflows::review::IdentityMethod::OrderNumberMatch),
            evidence: "order 58213 and phone match".into(),
        },
        at(1),
    )
    .case;
    let decision = apply(
        &confirmed,
        submitted(
            &confirmed,
            CUSTOMER_SPECIFIC,
            ActionType::ProgressReminder,
            Mode::Auto,
        ),
        at(2),
    );
    assert_eq!(
        decision.case.rails.draft(1).map(|d| d.status),
        Some(DraftStatus::Sent)
    );
}

#[test]
fn a_second_draft_while_in_review_keeps_the_state_to_resume() {
    let case = started(WorkflowType::MaterialCollection);
    let first = apply(
        &case,
        submitted(&case, HIGH_RISK, ActionType::StandardFaq, Mode::Review),
        at(1),
    )
    .case;
    let second = apply(
        &first,
        submitted(&first, LOW_RISK, ActionType::StandardFaq, Mode::Review),
        at(2),
    );
    assert_eq!(second.case.state, CaseState::WaitingForReview);
    assert_eq!(
        second.case.resume_state,
        Some(CaseState::WaitingForCustomer)
    );
    assert_eq!(
        second.case.waiting.as_ref().map(|w| w.since),
        first.waiting.as_ref().map(|w| w.since),
        "the wait for review goes on"
    );
    assert!(
        !second
            .effects
            .iter()
            .any(|e| matches!(e, Effect::StartTimer { .. } | Effect::CancelTimer { .. })),
        "no timer moves: {:?}",
        second.effects
    );
}

#[test]
fn a_public_group_draft_goes_to_the_customer_channel_with_its_audience() {
    let case = started(WorkflowType::ProgressInquiry);
    let policy = AutomationPolicy::initial().with_mode(ActionType::StandardFaq, Mode::Auto);
    let event = submitted_under(
        &case,
        LOW_RISK_ZH,
        Audience::PublicGroup,
        ActionType::StandardFaq,
        &policy,
    );
    let decision = apply(&case, event, at(1));
    let sent = sends(&decision.effects);
    assert_eq!(sent.len(), 1, "{:?}", decision.case.rails.drafts);
    assert_eq!(sent[0]["audience"], "public_group");
}
