//! Random histories mixing workflow events with drafts, decisions, take-overs, identity
//! checks and automation versions: the rails never let a draft out that the rules do not
//! allow, drafts and review stay consistent, and replaying what was accepted reproduces every
//! stored step.

use aijia_workflows::automation::{
    ActionType, AutomationPolicy, AutomationStamp, Mode, Route, RouteReason,
};
use aijia_workflows::review::{Assignee, DraftStatus, IdentityMethod, ReviewDecision};
use aijia_workflows::risk::{Audience, Verdict};
use aijia_workflows::{
    Case, CaseState, Effect, Event, IdentityStatus, Recorded, ReplayOutcome, TimerPolicy,
    WorkflowType, decide, replay, start,
};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::sample::select;

use crate::support::{new_case, submitted_under, t0};

/// What to do next; drafts and decisions are aimed at the case when the step is applied.
#[derive(Debug, Clone)]
enum Step {
    Machine(Event),
    Submit {
        text: &'static str,
        audience: Audience,
        action: ActionType,
        policy: AutomationPolicy,
    },
    Decide {
        pick: usize,
        decision: ReviewDecision,
    },
    TakeOver,
    HandBack,
    Identity(IdentityStatus),
    Refused,
    Granted,
    Stamp(AutomationPolicy),
}

const TEXTS: &[&str] = &[
    crate::support::LOW_RISK,
    crate::support::LOW_RISK_ZH,
    crate::support::HIGH_RISK,
    crate::support::CUSTOMER_SPECIFIC,
    crate::support::ASKS_FOR_IDENTITY,
];

fn policy() -> impl Strategy<Value = AutomationPolicy> {
    (
        prop::collection::vec((select(ActionType::ALL), select(Mode::ALL)), 0..4),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(changes, paused)| {
            changes
                .into_iter()
                .fold(AutomationPolicy::initial(), |p, (a, m)| p.with_mode(a, m))
                .with_paused(paused)
        })
}

fn decision() -> impl Strategy<Value = ReviewDecision> {
    prop_oneof![
        Just(ReviewDecision::Approve { note: "ok".into() }),
        Just(ReviewDecision::Edit {
            text: "An edited, calmer reply.".into(),
            note: String::new()
        }),
        Just(ReviewDecision::Reject {
            reason: "not accurate".into()
        }),
        select(vec!["billing", "rev-2"]).prop_map(|to| ReviewDecision::Transfer {
            to: if to == "billing" {
                Assignee::Team(to.into())
            } else {
                Assignee::Reviewer(to.into())
            },
            note: String::new()
        }),
    ]
}

fn machine_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::MaterialProvided {
            items: vec!["ID card".into(), "contract".into()],
            note: String::new()
        }),
        Just(Event::ExecutorDone {
            note: "done".into()
        }),
        Just(Event::PartnerDone {
            note: "done".into()
        }),
        Just(Event::CustomerReplied {
            text: "thanks".into()
        }),
        Just(Event::SendReminder {
            reason: "sweep".into()
        }),
        Just(Event::RequestReview {
            reason: "check".into()
        }),
        any::<bool>().prop_map(|approved| Event::ReviewDecided {
            approved,
            note: String::new()
        }),
        Just(Event::Complete {
            note: "closed".into()
        }),
        Just(Event::Cancel {
            reason: "gone".into()
        }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => machine_event().prop_map(Step::Machine),
        4 => (select(TEXTS), select(Audience::ALL), select(ActionType::ALL), policy())
            .prop_map(|(text, audience, action, policy)| Step::Submit { text, audience, action, policy }),
        4 => (0usize..4, decision()).prop_map(|(pick, decision)| Step::Decide { pick, decision }),
        1 => Just(Step::TakeOver),
        1 => Just(Step::HandBack),
        1 => select(vec![IdentityStatus::Claimed, IdentityStatus::Confirmed, IdentityStatus::Failed])
            .prop_map(Step::Identity),
        1 => Just(Step::Refused),
        1 => Just(Step::Granted),
        1 => policy().prop_map(Step::Stamp),
    ]
}

fn event_for(step: Step, case: &Case, version: &mut i64) -> Event {
    match step {
        Step::Machine(event) => event,
        Step::Submit {
            text,
            audience,
            action,
            policy,
        } => submitted_under(case, text, audience, action, &policy),
        Step::Decide { pick, decision } => {
            let number = case
                .rails
                .drafts
                .get(pick.min(case.rails.drafts.len().saturating_sub(1)))
                .map_or(1, |d| d.number);
            let draft = case.rails.draft(number);
            Event::DraftDecided {
                draft: number,
                reviewer: "rev-1".into(),
                action_type: draft.map_or(ActionType::StandardFaq, |d| d.action_type),
                templated: draft.is_some_and(|d| d.is_templated()),
                decision: Box::new(decision),
            }
        }
        Step::TakeOver => Event::CaseTakenOver {
            by: "rev-9".into(),
            reason: "escalated".into(),
        },
        Step::HandBack => Event::CaseHandedBack {
            by: "rev-9".into(),
            note: String::new(),
        },
        Step::Identity(status) => Event::IdentityRecorded {
            status,
            method: (status == IdentityStatus::Confirmed)
                .then_some(IdentityMethod::BackOfficeMatch),
            evidence: "back office".into(),
        },
        Step::Refused => Event::ContextAccessRefused {
            identity: case.customer.identity,
            purpose: String::new(),
            task_id: None,
        },
        Step::Granted => Event::ContextAccessGranted {
            purpose: "progress".into(),
            task_id: Some(7),
        },
        Step::Stamp(policy) => {
            *version += 1;
            Event::AutomationPolicyApplied(AutomationStamp {
                version: *version,
                policy,
            })
        }
    }
}

fn is_rails_event(event: &Event) -> bool {
    matches!(
        event,
        Event::DraftSubmitted(_)
            | Event::DraftDecided { .. }
            | Event::CaseTakenOver { .. }
            | Event::CaseHandedBack { .. }
            | Event::IdentityRecorded { .. }
            | Event::ContextAccessRefused { .. }
            | Event::ContextAccessGranted { .. }
            | Event::AutomationPolicyApplied(_)
    )
}

/// The governed action types of the templated activities among `effects`.
fn governed_enqueued(effects: &[Effect]) -> Vec<ActionType> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::EnqueueActivity { activity, .. } => ActionType::of_activity(activity),
            _ => None,
        })
        .collect()
}

fn sends_a_message(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(e, Effect::EnqueueActivity { activity, .. } if activity == aijia_workflows::activity::SEND_MESSAGE)
    })
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let rails = &case.rails;
    let numbers: Vec<u32> = rails.drafts.iter().map(|d| d.number).collect();
    prop_assert_eq!(numbers, (1..=rails.drafts.len() as u32).collect::<Vec<_>>());
    if rails.has_pending_review() || rails.review_is_for_drafts {
        prop_assert_eq!(case.state, CaseState::WaitingForReview);
    }
    prop_assert_eq!(
        case.review_needed,
        case.state == CaseState::WaitingForReview
    );
    for draft in &rails.drafts {
        if draft.status == DraftStatus::Sent {
            prop_assert_eq!(draft.routing.route, Route::Send);
            prop_assert_eq!(draft.routing.reason, RouteReason::LowRisk);
            let verdict = draft.assessment.as_ref().map(|a| a.verdict);
            prop_assert_eq!(verdict, Some(Verdict::Send));
        }
        if draft.status.is_open() {
            prop_assert!(draft.decision.is_none());
        } else if draft.status != DraftStatus::Sent {
            prop_assert!(draft.decision.is_some());
        }
        if draft.status == DraftStatus::PendingReview
            && case.state.is_terminal()
            && !draft.is_templated()
        {
            prop_assert!(false, "a submitted draft pending on a closed case");
        }
    }
    if let Some(t) = &rails.taken_over {
        prop_assert_eq!(&case.owner, &t.by);
    }
    Ok(())
}

struct Stored {
    event: Event,
    at: DateTime<Utc>,
    case_after: Case,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_histories_keep_the_rails_and_replay_to_the_stored_case(
        workflow_type in select(WorkflowType::ALL),
        steps in prop::collection::vec((step(), 1i64..120), 0..40),
    ) {
        let policy = TimerPolicy::default();
        let new = new_case(workflow_type, &[("materials", "ID card, contract")]);
        let opened = start(&new, t0(), &policy);
        let mut history = vec![Stored { event: Event::Started(new), at: t0(), case_after: opened.case.clone() }];
        let mut case = opened.case;
        let mut now = t0();
        let mut version = 1;
        for (step, minutes) in steps {
            now += Duration::minutes(minutes);
            let event = event_for(step, &case, &mut version);
            let Ok(decision) = decide(&case, &event, now, &policy) else {
                continue;
            };
            check_case(&decision.case)?;
            // A governed templated activity runs on its own only in auto, on a case no human
            // took over, unpaused.
            if !is_rails_event(&event) {
                let stamp = case.rails.automation_stamp();
                for action in governed_enqueued(&decision.effects) {
                    prop_assert!(case.rails.taken_over.is_none(), "{} on a taken-over case", event.kind());
                    prop_assert!(!stamp.policy.paused, "{} while paused", event.kind());
                    prop_assert_eq!(stamp.policy.mode(action), Mode::Auto, "{} ran outside auto", action);
                }
            }
            // The store's review index follows the drafts this step changed.
            let changed: Vec<u32> = decision.case.rails.drafts.iter()
                .filter(|d| case.rails.draft(d.number) != Some(*d))
                .map(|d| d.number)
                .collect();
            prop_assert_eq!(&decision.drafts_changed, &changed);
            // A message leaves only as an allowed auto-send or a human's approval (or a
            // workflow's own relay/escalation).
            if let Event::DraftSubmitted(d) = &event
                && sends_a_message(&decision.effects)
            {
                prop_assert_eq!(d.assessment.verdict, Verdict::Send);
                prop_assert_eq!(d.mode, Mode::Auto);
                prop_assert!(!d.paused && !d.taken_over);
            }
            if let Event::DraftDecided { decision: what, .. } = &event
                && (sends_a_message(&decision.effects) || !governed_enqueued(&decision.effects).is_empty())
            {
                let releases = matches!(**what, ReviewDecision::Approve { .. } | ReviewDecision::Edit { .. });
                prop_assert!(releases, "only an approval or an edit sends");
            }
            history.push(Stored { event, at: now, case_after: decision.case.clone() });
            case = decision.case;
        }
        let recorded: Vec<Recorded<'_>> = history
            .iter()
            .zip(1..)
            .map(|(s, seq)| Recorded { seq, event: &s.event, at: s.at, case_after: &s.case_after })
            .collect();
        prop_assert_eq!(replay(&recorded, &case), ReplayOutcome::Match { events: history.len() as u64 });
    }
}
