use aijia_workflows::{
    CaseState, ChecklistItem, Event, IdentityStatus, Party, Refusal, TimerPolicy, Waiting,
    WorkflowType, activity, evidence as kind, start,
};
use serde_json::json;

use crate::support::{
    apply, at, cancels, effects, enqueue, evidence, new_case, refuse, started, starts, t0,
};

const MC: WorkflowType = WorkflowType::MaterialCollection;
const MATERIALS: (&str, &str) = ("materials", "ID card, , contract ,ID card");

fn item(name: &str, done: bool) -> ChecklistItem {
    ChecklistItem {
        name: name.into(),
        done,
    }
}

fn provided(items: &[&str]) -> Event {
    Event::MaterialProvided {
        items: items.iter().map(|i| (*i).to_owned()).collect(),
        note: String::new(),
    }
}

#[test]
fn start_waits_for_the_customer_with_the_materials_checklist() {
    let decision = start(&new_case(MC, &[MATERIALS]), t0(), &TimerPolicy::default());
    let case = &decision.case;
    assert_eq!(case.state, CaseState::WaitingForCustomer);
    assert_eq!(
        case.waiting,
        Some(Waiting {
            party: Party::Customer,
            what: "send: ID card, contract".into(),
            checklist: vec![item("ID card", false), item("contract", false)],
            since: t0(),
            reminders_sent: 0,
        })
    );
    assert_eq!(
        case.next_step,
        "wait for the customer to send: ID card, contract"
    );
    assert_eq!(case.customer.identity, IdentityStatus::Unknown);
    assert_eq!((case.created_at, case.updated_at), (t0(), t0()));
    assert!(!case.review_needed && case.resume_state.is_none());
    assert_eq!(
        decision.effects,
        starts(MC, CaseState::WaitingForCustomer, t0())
    );
}

#[test]
fn start_without_materials_waits_on_an_open_checklist() {
    let case = started(MC, &[]);
    let waiting = case.waiting.expect("waits for the customer");
    assert_eq!(waiting.what, "send the materials for order 42");
    assert!(waiting.checklist.is_empty());
}

#[test]
fn material_provided_for_part_of_the_checklist_stays_and_lists_what_is_missing() {
    let case = started(MC, &[MATERIALS]);
    let decision = apply(&case, provided(&[" ID card "]), at(5));
    let next = &decision.case;
    assert_eq!(next.state, CaseState::WaitingForCustomer);
    let waiting = next.waiting.as_ref().expect("still waits");
    assert_eq!(
        waiting.checklist,
        vec![item("ID card", true), item("contract", false)]
    );
    assert_eq!(waiting.what, "send: contract");
    assert_eq!(waiting.since, t0(), "still the same wait");
    assert_eq!(next.next_step, "wait for the customer to send: contract");
    assert_eq!(next.updated_at, at(5));
    assert_eq!(
        decision.effects,
        vec![],
        "no timer moves while the state stays"
    );
}

#[test]
fn material_provided_completing_checklist_moves_to_received_and_confirms() {
    let case = started(MC, &[MATERIALS]);
    let case = apply(&case, provided(&["contract"]), at(5)).case;
    let decision = apply(&case, provided(&["ID card"]), at(9));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(decision.case.waiting, None);
    assert_eq!(
        decision.case.next_step,
        "check the received materials and complete the case"
    );
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            vec![enqueue(
                activity::CONFIRM_MATERIAL_RECEIVED,
                json!({ "items": ["ID card", "contract"] })
            )],
        ])
    );
}

#[test]
fn material_received_by_staff_ticks_items_off_like_the_customer_sending_them() {
    let case = started(MC, &[MATERIALS]);
    let received = Event::MaterialReceived {
        items: vec!["ID card".into(), "contract".into()],
    };
    let decision = apply(&case, received, at(5));
    assert_eq!(decision.case.state, CaseState::Received);
    assert!(decision.effects.contains(&enqueue(
        activity::CONFIRM_MATERIAL_RECEIVED,
        json!({ "items": ["ID card", "contract"] })
    )));
}

#[test]
fn material_not_on_the_checklist_is_invalid_and_names_the_checklist() {
    let case = started(MC, &[MATERIALS]);
    assert_eq!(
        refuse(&case, provided(&["ID card", "passport"])),
        Refusal::Invalid("\"passport\" is not on the checklist: ID card, contract".into())
    );
    assert_eq!(
        refuse(&case, provided(&[" "])),
        Refusal::Invalid("name at least one item".into())
    );
}

#[test]
fn a_long_checklist_is_named_in_brief_and_a_long_item_cut_short() {
    let materials: Vec<String> = (1..=5_000).map(|i| format!("document {i}")).collect();
    let case = started(MC, &[("materials", &materials.join(","))]);
    let unknown = "x".repeat(5_000);
    let Refusal::Invalid(message) = refuse(&case, provided(&[unknown.as_str()])) else {
        panic!("refused as invalid");
    };
    assert!(
        message.ends_with("document 9, document 10, … and 4990 more"),
        "{message}"
    );
    assert!(message.len() < 400, "{} bytes", message.len());
}

#[test]
fn open_checklist_takes_what_the_customer_sends_and_moves_to_received() {
    let case = started(MC, &[]);
    let decision = apply(&case, provided(&["passport", "passport", "photo"]), at(3));
    assert_eq!(decision.case.state, CaseState::Received);
    assert!(decision.effects.contains(&enqueue(
        activity::CONFIRM_MATERIAL_RECEIVED,
        json!({ "items": ["passport", "photo"] })
    )));
}

#[test]
fn material_received_in_received_records_the_staff_confirmation() {
    let case = apply(&started(MC, &[]), provided(&["passport"]), at(3)).case;
    let confirm = Event::MaterialReceived {
        items: vec!["passport".into()],
    };
    let decision = apply(&case, confirm, at(8));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(
        decision.effects,
        vec![evidence(kind::MATERIAL_CONFIRMED, "passport")]
    );
}

#[test]
fn received_can_wait_for_the_executor_who_hands_back_to_received() {
    let case = apply(&started(MC, &[]), provided(&["passport"]), at(3)).case;
    let wait = Event::WaitFor {
        party: Party::Executor,
        what: "check the passport scan".into(),
        checklist: vec![],
    };
    let decision = apply(&case, wait, at(10));
    assert_eq!(decision.case.state, CaseState::WaitingForExecutor);
    assert_eq!(
        decision.case.next_step,
        "wait for the executor to check the passport scan"
    );
    assert_eq!(
        decision.effects,
        starts(MC, CaseState::WaitingForExecutor, at(10))
    );

    let done = Event::ExecutorDone {
        note: "scan is fine".into(),
    };
    let decision = apply(&decision.case, done, at(30));
    assert_eq!(decision.case.state, CaseState::Received);
    assert_eq!(decision.effects, cancels(CaseState::WaitingForExecutor));
}

#[test]
fn complete_from_received_completes_and_records_the_note() {
    let case = apply(&started(MC, &[]), provided(&["passport"]), at(3)).case;
    let decision = apply(
        &case,
        Event::Complete {
            note: " all filed ".into(),
        },
        at(40),
    );
    assert_eq!(decision.case.state, CaseState::Completed);
    assert!(decision.case.is_complete());
    assert_eq!(decision.case.next_step, "nothing: the case is completed");
    assert_eq!(
        decision.effects,
        vec![evidence(kind::COMPLETION, "all filed")]
    );
}

#[test]
fn complete_while_materials_are_missing_is_not_accepted() {
    let case = started(MC, &[MATERIALS]);
    assert_eq!(
        refuse(
            &case,
            Event::Complete {
                note: String::new()
            }
        ),
        Refusal::NotAccepted {
            workflow_type: MC,
            state: CaseState::WaitingForCustomer,
            event: "complete",
        }
    );
}
