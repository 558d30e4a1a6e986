use aijia_workflows::{CaseState, Event, Party, WorkflowType, activity, evidence as kind};
use serde_json::json;

use crate::support::{apply, at, cancels, effects, enqueue, evidence, started, starts};

const PI: WorkflowType = WorkflowType::ProgressInquiry;

fn wait_for(party: Party, what: &str) -> Event {
    Event::WaitFor {
        party,
        what: what.into(),
        checklist: vec![],
    }
}

#[test]
fn start_waits_for_the_executor_to_report_progress() {
    let case = started(PI, &[]);
    assert_eq!(case.state, CaseState::WaitingForExecutor);
    assert_eq!(
        case.next_step,
        "wait for the executor to report progress on order 42"
    );
}

#[test]
fn executor_done_moves_to_received_and_sends_the_progress_reminder() {
    let case = started(PI, &[]);
    let done = Event::ExecutorDone {
        note: "shipped on Monday".into(),
    };
    let decision = apply(&case, done, at(60));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForExecutor),
            vec![enqueue(
                activity::SEND_PROGRESS_REMINDER,
                json!({ "note": "shipped on Monday" })
            )],
        ])
    );
}

#[test]
fn partner_done_moves_to_received_and_sends_the_progress_reminder() {
    let case = started(PI, &[]);
    let decision = apply(
        &case,
        wait_for(Party::Partner, "report the repair status"),
        at(5),
    );
    assert_eq!(decision.case.state, CaseState::WaitingForPartner);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForExecutor),
            starts(PI, CaseState::WaitingForPartner, at(5)),
        ])
    );
    let done = Event::PartnerDone {
        note: "repaired".into(),
    };
    let decision = apply(&decision.case, done, at(90));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForPartner),
            vec![enqueue(
                activity::SEND_PROGRESS_REMINDER,
                json!({ "note": "repaired" })
            )],
        ])
    );
}

#[test]
fn customer_answering_a_question_hands_the_case_back_to_the_executor() {
    let case = started(PI, &[]);
    let case = apply(&case, wait_for(Party::Customer, "say which order"), at(5)).case;
    assert_eq!(case.next_step, "wait for the customer to say which order");
    let reply = Event::CustomerReplied {
        text: "order 42".into(),
    };
    let decision = apply(&case, reply, at(20));
    assert_eq!(decision.case.state, CaseState::WaitingForExecutor);
    assert_eq!(
        decision.case.waiting.as_ref().map(|w| w.what.as_str()),
        Some("report progress on order 42")
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(PI, CaseState::WaitingForExecutor, at(20)),
            vec![evidence(kind::CUSTOMER_REPLY, "order 42")],
        ])
    );
}

#[test]
fn complete_from_received_completes_the_inquiry() {
    let case = started(PI, &[]);
    let case = apply(
        &case,
        Event::ExecutorDone {
            note: "soon".into(),
        },
        at(5),
    )
    .case;
    assert_eq!(
        case.next_step,
        "complete the case once the customer has the progress"
    );
    let decision = apply(
        &case,
        Event::Complete {
            note: String::new(),
        },
        at(6),
    );
    assert_eq!(decision.case.state, CaseState::Completed);
    assert_eq!(decision.effects, vec![evidence(kind::COMPLETION, "")]);
}
