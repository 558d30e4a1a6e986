use aijia_workflows::{CaseState, Event, Refusal, WorkflowType, activity, evidence as kind};
use serde_json::json;

use crate::support::{apply, at, cancels, effects, enqueue, evidence, refuse, started, starts, t0};

const PC: WorkflowType = WorkflowType::PartnerCooperationRequest;

fn waits_for_customer() -> Event {
    Event::PartnerWaitsForCustomer {
        what: "sign the consent form".into(),
    }
}

#[test]
fn start_waits_for_the_partner_with_partner_timers() {
    let decision = aijia_workflows::start(
        &crate::support::new_case(PC, &[]),
        t0(),
        &aijia_workflows::TimerPolicy::default(),
    );
    assert_eq!(decision.case.state, CaseState::WaitingForPartner);
    assert_eq!(
        decision.case.next_step,
        "wait for the partner to handle the request order 42"
    );
    assert_eq!(
        decision.effects,
        starts(PC, CaseState::WaitingForPartner, t0())
    );
}

#[test]
fn partner_waiting_for_the_customer_parks_the_case_on_the_customer() {
    let case = started(PC, &[]);
    let decision = apply(&case, waits_for_customer(), at(10));
    assert_eq!(decision.case.state, CaseState::WaitingForCustomer);
    assert_eq!(
        decision.case.next_step,
        "wait for the customer to sign the consent form"
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForPartner),
            starts(PC, CaseState::WaitingForCustomer, at(10)),
        ])
    );
    let blank = Event::PartnerWaitsForCustomer { what: " ".into() };
    assert_eq!(
        refuse(&case, blank),
        Refusal::Invalid("say what the partner needs from the customer".into())
    );
}

#[test]
fn customer_reply_goes_to_the_partner_and_the_case_waits_for_them_again() {
    let case = apply(&started(PC, &[]), waits_for_customer(), at(10)).case;
    let reply = Event::CustomerReplied {
        text: "signed".into(),
    };
    let decision = apply(&case, reply, at(20));
    assert_eq!(decision.case.state, CaseState::WaitingForPartner);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(PC, CaseState::WaitingForPartner, at(20)),
            vec![
                evidence(kind::CUSTOMER_REPLY, "signed"),
                enqueue(
                    activity::SEND_MESSAGE,
                    json!({ "to": "partner", "text": "signed", "items": [] })
                ),
            ],
        ])
    );
}

#[test]
fn material_provided_goes_to_the_partner_and_the_case_waits_for_them_again() {
    let case = apply(&started(PC, &[]), waits_for_customer(), at(10)).case;
    let provided = Event::MaterialProvided {
        items: vec!["consent form".into()],
        note: "scanned".into(),
    };
    let decision = apply(&case, provided, at(20));
    assert_eq!(decision.case.state, CaseState::WaitingForPartner);
    assert!(decision.effects.contains(&enqueue(
        activity::SEND_MESSAGE,
        json!({ "to": "partner", "text": "scanned", "items": ["consent form"] })
    )));
}

#[test]
fn partner_done_then_complete_writes_the_result_back() {
    let case = started(PC, &[]);
    let decision = apply(
        &case,
        Event::PartnerDone {
            note: "done".into(),
        },
        at(50),
    );
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(decision.effects, cancels(CaseState::WaitingForPartner));
    let decision = apply(
        &decision.case,
        Event::Complete {
            note: "closed".into(),
        },
        at(60),
    );
    assert_eq!(decision.case.state, CaseState::Completed);
    assert_eq!(
        decision.effects,
        vec![
            evidence(kind::COMPLETION, "closed"),
            enqueue(
                activity::WRITEBACK_COMPLETION_FEEDBACK,
                json!({ "text": "closed" })
            ),
        ]
    );
}
