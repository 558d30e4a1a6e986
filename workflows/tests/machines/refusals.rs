//! Which events each state of each workflow type accepts; everything else is refused naming
//! the state the case stands in.

use aijia_workflows::{
    CaseState, Event, Party, Refusal, TimerAction, TimerKey, TimerKind, WorkflowType, decide,
};

use crate::support::{at, case_in, new_case, states_of};

/// One event of every kind, with content a state that takes the kind would accept (a timer
/// fires for the state the case stands in).
fn one_of_each(workflow_type: WorkflowType, state: CaseState) -> Vec<Event> {
    vec![
        Event::Started(new_case(workflow_type, &[])),
        Event::CustomerReplied {
            text: "hello".into(),
        },
        Event::MaterialProvided {
            items: vec!["ID card".into()],
            note: String::new(),
        },
        Event::ExecutorDone {
            note: "done".into(),
        },
        Event::PartnerDone {
            note: "done".into(),
        },
        Event::PartnerWaitsForCustomer {
            what: "sign".into(),
        },
        Event::MaterialReceived {
            items: vec!["ID card".into()],
        },
        Event::RequestReview {
            reason: "refund".into(),
        },
        Event::ReviewDecided {
            approved: true,
            note: String::new(),
        },
        Event::WaitFor {
            party: Party::Customer,
            what: "call".into(),
            checklist: vec![],
        },
        Event::Complete {
            note: String::new(),
        },
        Event::ReassignOwner {
            owner: "agent-2".into(),
        },
        Event::Cancel {
            reason: String::new(),
        },
        Event::SendReminder {
            reason: "sweep".into(),
        },
        Event::TimerFired {
            key: TimerKey {
                state,
                kind: TimerKind::Remind,
            },
            action: TimerAction::Remind {
                every_secs: None,
                remaining: 0,
            },
            fire_at: at(1),
        },
    ]
}

/// The transition tables, restated as the event kinds each state accepts.
fn accepted(workflow_type: WorkflowType, state: CaseState) -> Vec<&'static str> {
    use CaseState::*;
    use WorkflowType::*;
    if state.is_terminal() {
        return vec![];
    }
    let mut kinds = vec!["customer_replied", "reassign_owner", "cancel"];
    // A review is left only by its decision (or a cancel): never by parking the case elsewhere.
    kinds.extend(if state == WaitingForReview {
        &["review_decided"][..]
    } else {
        &["request_review", "wait_for"][..]
    });
    let own: &[&str] = match (workflow_type, state) {
        (MaterialCollection, WaitingForCustomer) => &["material_provided", "material_received"],
        (MaterialCollection, Received) => &["material_received", "complete"],
        (PartnerCooperationRequest, WaitingForPartner) => {
            &["partner_done", "partner_waits_for_customer"]
        }
        (PartnerCooperationRequest, WaitingForCustomer) => &["material_provided"],
        (ProgressInquiry, WaitingForPartner) => &["partner_done"],
        (_, WaitingForExecutor) => &["executor_done"],
        (_, Received) => &["complete"],
        _ => &[],
    };
    kinds.extend(own);
    if state.waiting_for().is_some() {
        kinds.extend(["send_reminder", "timer_fired"]);
    }
    kinds
}

#[test]
fn every_state_accepts_exactly_its_table_and_refuses_the_rest_naming_the_state() {
    for &workflow_type in WorkflowType::ALL {
        for &state in states_of(workflow_type) {
            let case = case_in(workflow_type, state);
            let expected = accepted(workflow_type, state);
            for event in one_of_each(workflow_type, state) {
                let kind = event.kind();
                let result = decide(&case, &event, at(1), &Default::default());
                if expected.contains(&kind) {
                    assert!(
                        result.is_ok(),
                        "{workflow_type} {state} should accept {kind}: {result:?}"
                    );
                } else {
                    assert_eq!(
                        result,
                        Err(Refusal::NotAccepted {
                            workflow_type,
                            state,
                            event: kind
                        }),
                        "{workflow_type} {state} should refuse {kind}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_case_stored_in_a_state_its_type_never_enters_refuses_everything() {
    for &workflow_type in WorkflowType::ALL {
        for &state in CaseState::ALL
            .iter()
            .filter(|s| !states_of(workflow_type).contains(s))
        {
            let case = case_in(workflow_type, state);
            for event in one_of_each(workflow_type, state) {
                let kind = event.kind();
                assert_eq!(
                    decide(&case, &event, at(1), &Default::default()),
                    Err(Refusal::NotAccepted {
                        workflow_type,
                        state,
                        event: kind
                    })
                );
            }
        }
    }
}
