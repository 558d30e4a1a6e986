//! Identity checks and refused context reads as case events.

use aijia_workflows::review::{IdentityMethod, evidence};
use aijia_workflows::{CaseState, Effect, Event, IdentityStatus, Refusal, WorkflowType};

use crate::support::*;

fn confirm(method: Option<IdentityMethod>, proof: &str) -> Event {
    Event::IdentityRecorded {
        status: IdentityStatus::Confirmed,
        method,
        evidence: proof.into(),
    }
}

#[test]
fn a_confirmed_identity_is_recorded_with_its_method() {
    let case = started(WorkflowType::ProgressInquiry);
    let decision = apply(
        &case,
        confirm(Some(IdentityMethod::PhoneMatch), "phone ending 5521"),
        at(3),
    );
    assert_eq!(decision.case.customer.identity, IdentityStatus::Confirmed);
    let check = decision.case.rails.identity.as_ref().expect("recorded");
    assert_eq!(
        (check.status, check.method, check.at),
        (
            IdentityStatus::Confirmed,
            Some(IdentityMethod::PhoneMatch),
            at(3)
        )
    );
    assert!(decision.effects.iter().any(|e| matches!(
        e,
        Effect::RecordEvidence { kind, detail } if kind == evidence::IDENTITY && detail.contains("phone_match")
    )));
    assert_eq!(decision.case.state, case.state);
}

#[test]
fn claimed_and_failed_are_recorded_without_a_method() {
    let case = started(WorkflowType::ProgressInquiry);
    for status in [IdentityStatus::Claimed, IdentityStatus::Failed] {
        let decision = apply(
            &case,
            Event::IdentityRecorded {
                status,
                method: None,
                evidence: String::new(),
            },
            at(1),
        );
        assert_eq!(decision.case.customer.identity, status);
    }
}

#[test]
fn a_confirmation_needs_a_method_and_evidence_and_an_open_case() {
    let case = started(WorkflowType::ProgressInquiry);
    assert!(
        matches!(refuse(&case, confirm(None, "x")), Refusal::Invalid(m) if m.contains("method"))
    );
    assert!(matches!(
        refuse(&case, confirm(Some(IdentityMethod::EmailCode), " ")),
        Refusal::Invalid(m) if m.contains("evidence")
    ));
    let unknown = Event::IdentityRecorded {
        status: IdentityStatus::Unknown,
        method: None,
        evidence: String::new(),
    };
    assert!(matches!(refuse(&case, unknown), Refusal::Invalid(_)));
    let cancelled = apply(
        &case,
        Event::Cancel {
            reason: "gone".into(),
        },
        at(1),
    )
    .case;
    assert!(matches!(
        refuse(
            &cancelled,
            confirm(Some(IdentityMethod::EmailCode), "code 1234")
        ),
        Refusal::NotAccepted { .. }
    ));
}

#[test]
fn a_refused_context_read_is_evidence_in_every_state_and_moves_nothing() {
    let case = started(WorkflowType::ProgressInquiry);
    let cancelled = apply(
        &case,
        Event::Cancel {
            reason: "gone".into(),
        },
        at(1),
    )
    .case;
    for case in [case, cancelled] {
        let decision = apply(
            &case,
            Event::ContextAccessRefused {
                identity: case.customer.identity,
                purpose: "draft a progress update".into(),
                task_id: None,
            },
            at(2),
        );
        assert_eq!(decision.case.state, case.state);
        assert_eq!(decision.case.rails, case.rails);
        assert_eq!(
            decision.effects,
            vec![Effect::RecordEvidence {
                kind: evidence::CONTEXT_REFUSED.into(),
                detail: "private customer context refused: identity is unknown (asked for: draft a progress update)".into(),
            }]
        );
        assert!(matches!(
            case.state,
            CaseState::WaitingForExecutor | CaseState::Cancelled
        ));
    }
}
