//! Rules every workflow type shares: cancel, reassign, customer replies, review, wait for,
//! and how timers follow the state.

use aijia_workflows::{
    CaseState, ChecklistItem, Effect, Event, ExpireOutcome, Party, Refusal, TimerAction, TimerKey,
    TimerKind, TimerPolicy, WorkflowType, decide, evidence as kind,
};
use chrono::Duration;

use crate::support::{
    apply, at, cancels, case_in, effects, evidence, refuse, started, starts, states_of, t0,
};

fn wait_for(party: Party, what: &str, checklist: &[&str]) -> Event {
    Event::WaitFor {
        party,
        what: what.into(),
        checklist: checklist.iter().map(|c| (*c).to_owned()).collect(),
    }
}

#[test]
fn cancel_from_every_open_state_cancels_the_case_and_its_timers() {
    for &workflow_type in WorkflowType::ALL {
        for &state in states_of(workflow_type).iter().filter(|s| !s.is_terminal()) {
            let case = case_in(workflow_type, state);
            let cancel = Event::Cancel {
                reason: " duplicate ".into(),
            };
            let decision = apply(&case, cancel, at(7));
            let next = &decision.case;
            assert_eq!(next.state, CaseState::Cancelled, "{workflow_type} {state}");
            assert_eq!(next.waiting, None);
            assert!(!next.review_needed && next.resume_state.is_none());
            assert_eq!(next.next_step, "nothing: the case is cancelled");
            let timers = if state.waiting_for().is_some() {
                cancels(state)
            } else {
                vec![]
            };
            assert_eq!(
                decision.effects,
                effects([timers, vec![evidence(kind::CANCELLATION, "duplicate")]])
            );
        }
    }
}

#[test]
fn reassign_owner_changes_only_the_owner() {
    let case = started(WorkflowType::ProgressInquiry, &[]);
    let decision = apply(
        &case,
        Event::ReassignOwner {
            owner: " agent-9 ".into(),
        },
        at(3),
    );
    let mut expected = case.clone();
    expected.owner = "agent-9".into();
    expected.updated_at = at(3);
    assert_eq!(decision.case, expected);
    assert_eq!(decision.effects, vec![]);
    assert_eq!(
        refuse(&case, Event::ReassignOwner { owner: "  ".into() }),
        Refusal::Invalid("owner must not be empty".into())
    );
}

#[test]
fn customer_reply_where_the_table_does_not_move_keeps_the_text_as_evidence() {
    let case = started(
        WorkflowType::MaterialCollection,
        &[("materials", "ID card")],
    );
    let reply = Event::CustomerReplied {
        text: "sending it tonight".into(),
    };
    let decision = apply(&case, reply, at(4));
    let mut expected = case.clone();
    expected.updated_at = at(4);
    assert_eq!(decision.case, expected);
    assert_eq!(
        decision.effects,
        vec![evidence(kind::CUSTOMER_REPLY, "sending it tonight")]
    );
}

#[test]
fn request_review_parks_the_case_and_a_decision_resumes_it_with_its_checklist() {
    let case = started(
        WorkflowType::MaterialCollection,
        &[("materials", "ID card, contract")],
    );
    let case = apply(
        &case,
        Event::MaterialProvided {
            items: vec!["ID card".into()],
            note: String::new(),
        },
        at(1),
    )
    .case;
    let ask = Event::RequestReview {
        reason: " customer asks for a refund ".into(),
    };
    let decision = apply(&case, ask, at(10));
    let review = &decision.case;
    assert_eq!(review.state, CaseState::WaitingForReview);
    assert!(review.review_needed);
    assert_eq!(review.resume_state, Some(CaseState::WaitingForCustomer));
    let waiting = review.waiting.as_ref().expect("waits for the reviewer");
    assert_eq!(waiting.party, Party::Review);
    assert_eq!(
        review.next_step,
        "wait for a reviewer to decide: customer asks for a refund"
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(
                WorkflowType::MaterialCollection,
                CaseState::WaitingForReview,
                at(10)
            ),
            vec![Effect::RequestReview {
                reason: "customer asks for a refund".into()
            }],
        ])
    );

    let decided = Event::ReviewDecided {
        approved: false,
        note: "no refund".into(),
    };
    let decision = apply(review, decided, at(30));
    let resumed = &decision.case;
    assert_eq!(resumed.state, CaseState::WaitingForCustomer);
    assert!(!resumed.review_needed && resumed.resume_state.is_none());
    let waiting = resumed
        .waiting
        .as_ref()
        .expect("waits for the customer again");
    assert_eq!(
        waiting.checklist,
        vec![
            ChecklistItem {
                name: "ID card".into(),
                done: true
            },
            ChecklistItem {
                name: "contract".into(),
                done: false
            },
        ]
    );
    assert_eq!(waiting.what, "send: contract");
    assert_eq!(waiting.since, at(30));
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForReview),
            starts(
                WorkflowType::MaterialCollection,
                CaseState::WaitingForCustomer,
                at(30)
            ),
            vec![evidence(kind::REVIEW_DECISION, "rejected: no refund")],
        ])
    );
}

#[test]
fn review_requested_from_received_returns_to_received_when_approved() {
    let case = case_in(WorkflowType::AppointmentConfirmation, CaseState::Received);
    let review = apply(
        &case,
        Event::RequestReview {
            reason: "odd slot".into(),
        },
        at(1),
    )
    .case;
    assert_eq!(review.resume_state, Some(CaseState::Received));
    let decided = Event::ReviewDecided {
        approved: true,
        note: String::new(),
    };
    let decision = apply(&review, decided, at(2));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(decision.case.waiting, None);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForReview),
            vec![evidence(kind::REVIEW_DECISION, "approved")],
        ])
    );
}

#[test]
fn review_needs_a_reason_and_is_asked_for_once() {
    let case = started(WorkflowType::ProgressInquiry, &[]);
    assert_eq!(
        refuse(&case, Event::RequestReview { reason: " ".into() }),
        Refusal::Invalid("a review needs a reason for the reviewer".into())
    );
    let review = apply(
        &case,
        Event::RequestReview {
            reason: "why".into(),
        },
        at(1),
    )
    .case;
    assert_eq!(
        refuse(
            &review,
            Event::RequestReview {
                reason: "again".into()
            }
        ),
        Refusal::NotAccepted {
            workflow_type: WorkflowType::ProgressInquiry,
            state: CaseState::WaitingForReview,
            event: "request_review",
        }
    );
}

#[test]
fn wait_for_the_same_party_again_restarts_its_timers() {
    let case = started(WorkflowType::CompletionFeedback, &[]);
    let decision = apply(
        &case,
        wait_for(Party::Customer, "call us back", &[]),
        at(90),
    );
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
    assert_eq!(
        decision.case.waiting.as_ref().map(|w| w.since),
        Some(at(90))
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(
                WorkflowType::CompletionFeedback,
                CaseState::WaitingForCustomer,
                at(90)
            ),
        ])
    );
}

#[test]
fn wait_for_with_only_a_checklist_asks_for_its_items() {
    let case = started(WorkflowType::PartnerCooperationRequest, &[]);
    let decision = apply(
        &case,
        wait_for(Party::Customer, " ", &["invoice", " ", "invoice"]),
        at(1),
    );
    let waiting = decision.case.waiting.expect("waits for the customer");
    assert_eq!(waiting.what, "send: invoice");
    assert_eq!(
        waiting.checklist,
        vec![ChecklistItem {
            name: "invoice".into(),
            done: false
        }]
    );
}

#[test]
fn wait_for_refuses_review_unknown_parties_and_saying_nothing() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    assert_eq!(
        refuse(&case, wait_for(Party::Review, "look", &[])),
        Refusal::Invalid("use request_review to ask for a review".into())
    );
    assert_eq!(
        refuse(&case, wait_for(Party::Partner, "look", &[])),
        Refusal::Invalid(
            "a material_collection case cannot wait for partner; it can wait for: customer, executor"
                .into()
        )
    );
    assert_eq!(
        refuse(&case, wait_for(Party::Executor, "", &[])),
        Refusal::Invalid("say what the case waits for: give what or a checklist".into())
    );
}

#[test]
fn timers_follow_a_policy_file_whose_type_sections_override_the_default() {
    let policy = TimerPolicy::parse(
        r#"
        [default.waiting_for_executor]
        remind_after = "1h"

        [progress_inquiry.waiting_for_executor]
        expire_after = "5d"
        expire_action = "complete"
        "#,
    )
    .expect("a valid policy");
    let case = started(WorkflowType::MaterialCollection, &[]);
    let wait = wait_for(Party::Executor, "check", &[]);
    let decision = decide(&case, &wait, at(0), &policy).expect("accepted");
    let started_timers: Vec<_> = decision
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::StartTimer { .. }))
        .cloned()
        .collect();
    let remind = TimerKey {
        state: CaseState::WaitingForExecutor,
        kind: TimerKind::Remind,
    };
    let once = TimerAction::Remind {
        every_secs: None,
        remaining: 0,
    };
    assert_eq!(
        started_timers,
        vec![Effect::StartTimer {
            key: remind,
            fire_at: t0() + Duration::hours(1),
            action: once,
        }]
    );

    let new = crate::support::new_case(WorkflowType::ProgressInquiry, &[]);
    let decision = aijia_workflows::start(&new, t0(), &policy);
    let expire = TimerKey {
        state: CaseState::WaitingForExecutor,
        kind: TimerKind::Expire,
    };
    assert_eq!(
        decision.effects,
        vec![
            Effect::StartTimer {
                key: remind,
                fire_at: t0() + Duration::hours(1),
                action: once,
            },
            Effect::StartTimer {
                key: expire,
                fire_at: t0() + Duration::days(5),
                action: TimerAction::Expire {
                    outcome: ExpireOutcome::Complete
                },
            },
        ]
    );
}
