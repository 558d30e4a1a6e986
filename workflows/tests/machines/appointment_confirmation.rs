use aijia_workflows::{CaseState, Event, WorkflowType, evidence as kind};

use crate::support::{apply, at, cancels, effects, evidence, started, starts};

const AC: WorkflowType = WorkflowType::AppointmentConfirmation;

#[test]
fn start_asks_the_customer_to_confirm_the_slot() {
    let case = started(AC, &[("slot", " Tue 10:00 ")]);
    assert_eq!(case.state, CaseState::WaitingForCustomer);
    assert_eq!(
        case.next_step,
        "wait for the customer to confirm the appointment at Tue 10:00"
    );
    let without_slot = started(AC, &[]);
    assert_eq!(
        without_slot.next_step,
        "wait for the customer to confirm the appointment for order 42"
    );
}

#[test]
fn customer_reply_moves_on_to_the_executor_confirming() {
    let case = started(AC, &[("slot", "Tue 10:00")]);
    let reply = Event::CustomerReplied {
        text: "Tuesday is fine".into(),
    };
    let decision = apply(&case, reply, at(30));
    assert_eq!(decision.case.state, CaseState::WaitingForExecutor);
    assert_eq!(
        decision.case.next_step,
        "wait for the executor to confirm the appointment at Tue 10:00"
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(AC, CaseState::WaitingForExecutor, at(30)),
            vec![evidence(kind::CUSTOMER_REPLY, "Tuesday is fine")],
        ])
    );
}

#[test]
fn executor_done_moves_to_received_and_complete_ends_the_case() {
    let case = started(AC, &[]);
    let case = apply(&case, Event::CustomerReplied { text: "ok".into() }, at(1)).case;
    let decision = apply(
        &case,
        Event::ExecutorDone {
            note: "booked".into(),
        },
        at(2),
    );
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(decision.effects, cancels(CaseState::WaitingForExecutor));
    assert_eq!(
        decision.case.next_step,
        "complete the case: the appointment is confirmed"
    );
    let decision = apply(
        &decision.case,
        Event::Complete {
            note: "seen".into(),
        },
        at(3),
    );
    assert_eq!(decision.case.state, CaseState::Completed);
    assert_eq!(decision.effects, vec![evidence(kind::COMPLETION, "seen")]);
}
