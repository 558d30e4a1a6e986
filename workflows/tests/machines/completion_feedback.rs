use aijia_workflows::{CaseState, Event, Party, Refusal, WorkflowType, activity, evidence as kind};
use serde_json::json;

use crate::support::{apply, at, cancels, effects, enqueue, evidence, refuse, started};

const CF: WorkflowType = WorkflowType::CompletionFeedback;

#[test]
fn start_asks_the_customer_for_feedback() {
    let case = started(CF, &[]);
    assert_eq!(case.state, CaseState::WaitingForCustomer);
    assert_eq!(
        case.next_step,
        "wait for the customer to give feedback on order 42"
    );
}

#[test]
fn customer_reply_moves_to_received_and_writes_the_feedback_back() {
    let case = started(CF, &[]);
    let reply = Event::CustomerReplied {
        text: "很满意, thanks".into(),
    };
    let decision = apply(&case, reply, at(15));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            vec![
                evidence(kind::CUSTOMER_REPLY, "很满意, thanks"),
                enqueue(
                    activity::WRITEBACK_COMPLETION_FEEDBACK,
                    json!({ "text": "很满意, thanks" })
                ),
            ],
        ])
    );
    let decision = apply(
        &decision.case,
        Event::Complete {
            note: String::new(),
        },
        at(16),
    );
    assert_eq!(decision.case.state, CaseState::Completed);
}

#[test]
fn waiting_for_anyone_but_the_customer_is_invalid_and_names_the_allowed_party() {
    let case = started(CF, &[]);
    let wait = Event::WaitFor {
        party: Party::Executor,
        what: "check".into(),
        checklist: vec![],
    };
    assert_eq!(
        refuse(&case, wait),
        Refusal::Invalid(
            "a completion_feedback case cannot wait for executor; it can wait for: customer".into()
        )
    );
}
