//! Activity task outcomes: taken in every state (terminal ones included), never moving the
//! state or a timer; a task that failed for good needs an operator until it is retried,
//! cancelled or completes.

use aijia_workflows::{Case, CaseState, Effect, Event, Recorded, Refusal, WorkflowType, replay};
use serde_json::json;

use crate::support::{apply, at, refuse, started, t0};

fn completed(task_id: i64) -> Event {
    Event::ActivityCompleted {
        task_id,
        activity: "send_message".into(),
        output: json!({"receipt": {"id": "r-1"}}),
    }
}

fn failed(task_id: i64, code: &str) -> Event {
    Event::ActivityFailed {
        task_id,
        activity: "send_message".into(),
        code: code.into(),
        message: "the partner answered 400".into(),
    }
}

/// One case in each state it can reach: waiting, received, completed and cancelled.
fn cases_in_every_state() -> Vec<Case> {
    let waiting = started(
        WorkflowType::MaterialCollection,
        &[("materials", "invoice")],
    );
    let received = apply(
        &waiting,
        Event::MaterialProvided {
            items: vec!["invoice".into()],
            note: String::new(),
        },
        at(1),
    )
    .case;
    let done = apply(&received, Event::Complete { note: "ok".into() }, at(2)).case;
    let cancelled = apply(
        &waiting,
        Event::Cancel {
            reason: "duplicate".into(),
        },
        at(3),
    )
    .case;
    let review = apply(
        &waiting,
        Event::RequestReview {
            reason: "check".into(),
        },
        at(4),
    )
    .case;
    vec![waiting, received, done, cancelled, review]
}

#[test]
fn activity_completed_is_evidence_in_every_state_and_moves_nothing() {
    for case in cases_in_every_state() {
        let decision = apply(&case, completed(7), at(10));
        assert_eq!(
            decision.case.state, case.state,
            "state moved from {}",
            case.state
        );
        assert_eq!(decision.case.waiting, case.waiting);
        assert_eq!(
            decision.effects,
            vec![Effect::RecordEvidence {
                kind: "activity_completed".into(),
                detail: "send_message (task 7) completed".into(),
            }],
            "in {}",
            case.state
        );
    }
}

#[test]
fn activity_failed_for_good_needs_an_operator_in_every_state() {
    for case in cases_in_every_state() {
        let decision = apply(&case, failed(7, "http_4xx"), at(10));
        let after = decision.case;
        assert_eq!(after.state, case.state);
        assert!(after.needs_operator(), "in {}", case.state);
        assert_eq!(after.attention.len(), 1);
        let attention = &after.attention[0];
        assert_eq!(attention.task_id, 7);
        assert_eq!(attention.code, "http_4xx");
        assert_eq!(attention.message, "the partner answered 400");
        assert_eq!(attention.since, at(10));
        assert!(
            decision
                .effects
                .iter()
                .all(|e| matches!(e, Effect::RecordEvidence { .. })),
            "a failure asks for nothing but evidence: {:?}",
            decision.effects
        );
    }
}

#[test]
fn each_failed_task_needs_the_operator_until_it_is_dealt_with() {
    let case = started(WorkflowType::ProgressInquiry, &[]);
    let case = apply(&case, failed(1, "timeout"), at(1)).case;
    let case = apply(&case, failed(2, "http_4xx"), at(2)).case;
    assert_eq!(case.attention.len(), 2);
    // The same task failing again (a new round) replaces its entry.
    let case = apply(&case, failed(2, "bad_input"), at(3)).case;
    assert_eq!(case.attention.len(), 2);
    assert_eq!(case.attention[1].code, "bad_input");
    // Retrying task 1 clears only task 1.
    let case = apply(&case, Event::TaskRetried { task_id: 1 }, at(4)).case;
    assert_eq!(
        case.attention.iter().map(|a| a.task_id).collect::<Vec<_>>(),
        vec![2]
    );
    // An outcome of another task changes nothing about task 2.
    let case = apply(&case, completed(3), at(5)).case;
    assert!(case.needs_operator());
    // Cancelling task 2 clears the rest.
    let cancel = Event::TaskCancelled {
        task_id: 2,
        reason: "sent by hand".into(),
    };
    let case = apply(&case, cancel, at(6)).case;
    assert!(!case.needs_operator());
}

#[test]
fn a_retried_task_that_completes_clears_its_attention() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    let case = apply(&case, failed(5, "http_5xx"), at(1)).case;
    let case = apply(&case, completed(5), at(2)).case;
    assert!(case.attention.is_empty());
}

#[test]
fn an_outcome_without_a_task_is_invalid() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    for event in [
        completed(0),
        failed(-1, "x"),
        Event::TaskRetried { task_id: 0 },
    ] {
        assert!(matches!(refuse(&case, event), Refusal::Invalid(m) if m.contains("task_id")),);
    }
}

#[test]
fn outcomes_replay_to_the_same_case() {
    let new = crate::support::new_case(
        WorkflowType::MaterialCollection,
        &[("materials", "invoice")],
    );
    let case0 = aijia_workflows::start(&new, t0(), &aijia_workflows::TimerPolicy::default()).case;
    let events = [
        Event::MaterialProvided {
            items: vec!["invoice".into()],
            note: String::new(),
        },
        failed(1, "http_5xx"),
        Event::TaskRetried { task_id: 1 },
        completed(1),
        Event::Complete {
            note: "done".into(),
        },
        completed(2),
        failed(3, "lease_expired"),
    ];
    let mut cases = vec![case0];
    for (i, event) in events.iter().enumerate() {
        let next = apply(
            cases.last().expect("a case"),
            event.clone(),
            at(i as i64 + 1),
        )
        .case;
        cases.push(next);
    }
    let started_event = Event::Started(new);
    let mut recorded = vec![Recorded {
        seq: 1,
        event: &started_event,
        at: t0(),
        case_after: &cases[0],
    }];
    for (i, event) in events.iter().enumerate() {
        recorded.push(Recorded {
            seq: i as u64 + 2,
            event,
            at: at(i as i64 + 1),
            case_after: &cases[i + 1],
        });
    }
    let last = cases.last().expect("a case");
    assert_eq!(last.state, CaseState::Completed);
    assert_eq!(last.attention.len(), 1);
    assert_eq!(
        replay(&recorded, last),
        aijia_workflows::ReplayOutcome::Match { events: 8 }
    );
}

#[test]
fn a_case_without_attention_serializes_as_before() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    let json = serde_json::to_value(&case).expect("a case serializes");
    assert!(json.get("attention").is_none(), "{json}");
    let back: Case = serde_json::from_value(json).expect("and reads back");
    assert_eq!(back, case);
}
