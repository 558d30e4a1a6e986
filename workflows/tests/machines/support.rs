//! Builders and expected effects shared by the tests. Timer expectations restate the default
//! policy (remind/escalate: 24h/48h, partner 48h/96h, review 4h/8h) on purpose, so a change
//! to the defaults shows up here.

use std::collections::BTreeMap;

use aijia_workflows::{
    Case, CaseState, Decision, Effect, Event, NewCase, Refusal, TimerKey, TimerKind, TimerPolicy,
    Waiting, WorkflowType, decide, start,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0)
        .single()
        .expect("a valid fixed time")
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn new_case(workflow_type: WorkflowType, attributes: &[(&str, &str)]) -> NewCase {
    NewCase {
        workflow_type,
        business_key: "order-42".into(),
        customer_id: "cust-7".into(),
        customer_display_name: "Li Wei".into(),
        subject: "order 42".into(),
        owner: "agent-1".into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// A freshly started case, opened at [`t0`] with the default policy.
pub fn started(workflow_type: WorkflowType, attributes: &[(&str, &str)]) -> Case {
    start(
        &new_case(workflow_type, attributes),
        t0(),
        &TimerPolicy::default(),
    )
    .case
}

/// Apply an event that must be accepted, with the default policy.
pub fn apply(case: &Case, event: Event, now: DateTime<Utc>) -> Decision {
    decide(case, &event, now, &TimerPolicy::default())
        .unwrap_or_else(|refusal| panic!("{} should be accepted: {refusal}", event.kind()))
}

/// Apply an event that must be refused.
pub fn refuse(case: &Case, event: Event) -> Refusal {
    match decide(case, &event, at(1), &TimerPolicy::default()) {
        Ok(decision) => panic!(
            "{} should be refused, got {:?}",
            event.kind(),
            decision.case.state
        ),
        Err(refusal) => refusal,
    }
}

fn default_hours(state: CaseState) -> (i64, i64) {
    match state {
        CaseState::WaitingForReview => (4, 8),
        CaseState::WaitingForPartner => (48, 96),
        _ => (24, 48),
    }
}

/// The timers the default policy starts on entering `state` at `now`.
pub fn starts(state: CaseState, now: DateTime<Utc>) -> Vec<Effect> {
    let (remind, escalate) = default_hours(state);
    vec![
        Effect::StartTimer {
            key: TimerKey {
                state,
                kind: TimerKind::Remind,
            },
            fire_at: now + Duration::hours(remind),
        },
        Effect::StartTimer {
            key: TimerKey {
                state,
                kind: TimerKind::Escalate,
            },
            fire_at: now + Duration::hours(escalate),
        },
    ]
}

/// Every timer of `state`, cancelled on leaving it.
pub fn cancels(state: CaseState) -> Vec<Effect> {
    TimerKind::ALL
        .iter()
        .map(|&kind| Effect::CancelTimer {
            key: TimerKey { state, kind },
        })
        .collect()
}

pub fn enqueue(activity: &str, input: serde_json::Value) -> Effect {
    Effect::EnqueueActivity {
        activity: activity.to_owned(),
        input,
    }
}

pub fn evidence(kind: &str, detail: &str) -> Effect {
    Effect::RecordEvidence {
        kind: kind.to_owned(),
        detail: detail.to_owned(),
    }
}

pub fn effects(parts: impl IntoIterator<Item = Vec<Effect>>) -> Vec<Effect> {
    parts.into_iter().flatten().collect()
}

/// The states a case of each type can be in.
pub fn states_of(workflow_type: WorkflowType) -> &'static [CaseState] {
    use CaseState::*;
    match workflow_type {
        WorkflowType::MaterialCollection | WorkflowType::AppointmentConfirmation => &[
            WaitingForCustomer,
            WaitingForExecutor,
            WaitingForReview,
            Received,
            Completed,
            Cancelled,
        ],
        WorkflowType::ProgressInquiry | WorkflowType::PartnerCooperationRequest => CaseState::ALL,
        WorkflowType::CompletionFeedback => &[
            WaitingForCustomer,
            WaitingForReview,
            Received,
            Completed,
            Cancelled,
        ],
    }
}

/// A consistent case of `workflow_type` standing in `state` (a review resumes to `received`;
/// a material collection's customer waits on "ID card, contract").
pub fn case_in(workflow_type: WorkflowType, state: CaseState) -> Case {
    let mut case = started(workflow_type, &[("materials", "ID card, contract")]);
    case.state = state;
    case.waiting = state.waiting_for().map(|party| Waiting {
        party,
        what: "something".into(),
        checklist: if party == aijia_workflows::Party::Customer {
            case.waiting
                .as_ref()
                .map(|w| w.checklist.clone())
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        since: t0(),
    });
    case.review_needed = state == CaseState::WaitingForReview;
    case.resume_state = case.review_needed.then_some(CaseState::Received);
    case
}
