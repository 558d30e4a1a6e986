//! Builders and expected effects shared by the tests. Timer expectations restate the shipped
//! `workflows/policy/timers.toml` on purpose, so a change to the defaults shows up here.

use std::collections::BTreeMap;

use aijia_workflows::automation::{ActionType, AutomationPolicy, AutomationStamp, Mode};
use aijia_workflows::{
    Case, CaseState, Decision, Effect, EscalateTo, Event, ExpireOutcome, NewCase, Refusal,
    TimerAction, TimerKey, TimerKind, TimerPolicy, Waiting, WorkflowType, decide, start,
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

/// A freshly started case, opened at [`t0`] with the default policy, under an automation
/// policy with every action type in `auto`: these tests are about what the machines emit, so
/// no templated activity is diverted to review (tests/rails covers that).
pub fn started(workflow_type: WorkflowType, attributes: &[(&str, &str)]) -> Case {
    let opened = start(
        &new_case(workflow_type, attributes),
        t0(),
        &TimerPolicy::default(),
    );
    automated(&opened.case)
}

/// `case` under an automation policy with every action type in `auto`.
pub fn automated(case: &Case) -> Case {
    apply(case, all_auto(), case.updated_at).case
}

/// The event that puts a case under an automation policy with every action type in `auto`.
pub fn all_auto() -> Event {
    let policy = ActionType::ALL
        .iter()
        .fold(AutomationPolicy::initial(), |p, &a| {
            p.with_mode(a, Mode::Auto)
        });
    Event::AutomationPolicyApplied(AutomationStamp { version: 2, policy })
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

/// The shipped timers of one waiting state, restated: (reminder after, every, in all),
/// (escalation after, to), (expiry after, outcome); hours throughout.
pub type Shipped = (
    Option<(i64, Option<i64>, u32)>,
    Option<(i64, EscalateTo)>,
    Option<(i64, ExpireOutcome)>,
);

pub fn shipped(workflow_type: WorkflowType, state: CaseState) -> Shipped {
    use CaseState::*;
    use EscalateTo::{Owner, Review};
    use ExpireOutcome::{Cancel, Complete};
    use WorkflowType::*;
    match (workflow_type, state) {
        (MaterialCollection, WaitingForCustomer) => (
            Some((48, Some(48), 3)),
            Some((7 * 24, Owner)),
            Some((21 * 24, Cancel)),
        ),
        (ProgressInquiry, WaitingForExecutor) => (Some((4, Some(4), 3)), Some((24, Review)), None),
        (ProgressInquiry, WaitingForPartner) => (Some((24, Some(24), 3)), Some((72, Review)), None),
        (ProgressInquiry, WaitingForCustomer) => {
            (Some((24, None, 1)), None, Some((7 * 24, Complete)))
        }
        (AppointmentConfirmation, WaitingForCustomer) => (
            Some((12, Some(12), 2)),
            Some((48, Owner)),
            Some((5 * 24, Cancel)),
        ),
        (AppointmentConfirmation, WaitingForExecutor) => {
            (Some((4, Some(4), 3)), Some((12, Owner)), None)
        }
        (PartnerCooperationRequest, WaitingForPartner) => {
            (Some((48, Some(48), 3)), Some((5 * 24, Review)), None)
        }
        (PartnerCooperationRequest, WaitingForCustomer) => (
            Some((24, Some(24), 3)),
            Some((4 * 24, Owner)),
            Some((10 * 24, Cancel)),
        ),
        (CompletionFeedback, WaitingForCustomer) => {
            (Some((48, None, 1)), None, Some((7 * 24, Complete)))
        }
        (_, WaitingForExecutor) => (Some((8, Some(8), 3)), Some((24, Owner)), None),
        (_, WaitingForPartner) => (Some((48, Some(24), 3)), Some((96, Owner)), None),
        (_, WaitingForReview) => (Some((4, Some(4), 2)), Some((8, Owner)), None),
        _ => (None, None, None),
    }
}

/// The timers the shipped policy starts on entering `state` at `now`.
pub fn starts(workflow_type: WorkflowType, state: CaseState, now: DateTime<Utc>) -> Vec<Effect> {
    let (remind, escalate, expire) = shipped(workflow_type, state);
    let timer = |kind, hours: i64, action| Effect::StartTimer {
        key: TimerKey { state, kind },
        fire_at: now + Duration::hours(hours),
        action,
    };
    let mut effects = Vec::new();
    if let Some((after, every, times)) = remind {
        let action = TimerAction::Remind {
            every_secs: every.map(|h| (h * 3600) as u64),
            remaining: times - 1,
        };
        effects.push(timer(TimerKind::Remind, after, action));
    }
    if let Some((after, to)) = escalate {
        effects.push(timer(
            TimerKind::Escalate,
            after,
            TimerAction::Escalate { to },
        ));
    }
    if let Some((after, outcome)) = expire {
        effects.push(timer(
            TimerKind::Expire,
            after,
            TimerAction::Expire { outcome },
        ));
    }
    effects
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
        reminders_sent: 0,
    });
    case.review_needed = state == CaseState::WaitingForReview;
    case.resume_state = case.review_needed.then_some(CaseState::Received);
    case
}
