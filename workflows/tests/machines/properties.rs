//! Random event sequences, valid and not, from every workflow type's start (timers firing
//! among them): the case never reaches an impossible shape, timers always belong to the state
//! the case is in, refusals name the current state, and replaying what was accepted
//! reproduces every stored step.

use std::collections::BTreeSet;

use aijia_workflows::review::DraftOrigin;
use aijia_workflows::{
    Case, CaseState, Effect, EscalateTo, Event, ExpireOutcome, Mismatch, Party, Recorded, Refusal,
    ReplayOutcome, TimerAction, TimerKey, TimerKind, TimerPolicy, WorkflowType, decide, replay,
    start,
};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::sample::select;

use crate::support::{at, new_case, t0};

fn text() -> impl Strategy<Value = String> {
    select(vec!["", "  ", "ok", "ID card", "很好"]).prop_map(str::to_owned)
}

fn items() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(select(vec!["ID card", "contract", "passport", " "]), 0..3)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn timer_action() -> impl Strategy<Value = TimerAction> {
    prop_oneof![
        (prop::option::of(select(vec![60u64, 3600, 86_400])), 0u32..3).prop_map(
            |(every_secs, remaining)| TimerAction::Remind {
                every_secs,
                remaining
            }
        ),
        select(EscalateTo::ALL).prop_map(|to| TimerAction::Escalate { to }),
        select(ExpireOutcome::ALL).prop_map(|outcome| TimerAction::Expire { outcome }),
    ]
}

/// A timer firing; its state and `fire_at` are aimed at the case when the step is applied.
fn timer_fired() -> impl Strategy<Value = Event> {
    (select(CaseState::ALL), timer_action(), 0u8..10).prop_map(|(state, action, odd)| {
        // Now and then the key's kind does not match the action.
        let kind = if odd == 0 {
            TimerKind::Escalate
        } else {
            action.kind()
        };
        Event::TimerFired {
            key: TimerKey { state, kind },
            action,
            fire_at: t0(),
        }
    })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => timer_fired(),
        1 => text().prop_map(|reason| Event::SendReminder { reason }),
        1 => select(WorkflowType::ALL).prop_map(|t| Event::Started(new_case(t, &[]))),
        1 => text().prop_map(|text| Event::CustomerReplied { text }),
        1 => (items(), text()).prop_map(|(items, note)| Event::MaterialProvided { items, note }),
        1 => text().prop_map(|note| Event::ExecutorDone { note }),
        1 => text().prop_map(|note| Event::PartnerDone { note }),
        1 => text().prop_map(|what| Event::PartnerWaitsForCustomer { what }),
        1 => items().prop_map(|items| Event::MaterialReceived { items }),
        1 => text().prop_map(|reason| Event::RequestReview { reason }),
        1 => (any::<bool>(), text())
            .prop_map(|(approved, note)| Event::ReviewDecided { approved, note }),
        1 => (select(Party::ALL), text(), items()).prop_map(|(party, what, checklist)| Event::WaitFor {
            party,
            what,
            checklist
        }),
        1 => text().prop_map(|note| Event::Complete { note }),
        1 => text().prop_map(|owner| Event::ReassignOwner { owner }),
        1 => text().prop_map(|reason| Event::Cancel { reason }),
        1 => drafted(),
        1 => identity_recorded(),
    ]
}

/// A draft routed as the engine routes it (its number is aimed at the case when applied).
fn drafted() -> impl Strategy<Value = Event> {
    use aijia_workflows::automation::{ActionType, Mode, route};
    use aijia_workflows::review::DraftSubmitted;
    use aijia_workflows::risk::{Audience, Draft, DraftFlags, RiskPolicy, assess};
    static RISK: std::sync::LazyLock<RiskPolicy> = std::sync::LazyLock::new(RiskPolicy::builtin);
    (
        select(vec![
            "Thanks, we've received your documents.",
            "We will refund 2000 yuan to your card.",
        ]),
        select(Mode::ALL),
        any::<bool>(),
    )
        .prop_map(|(text, mode, paused)| {
            let draft = Draft::new(
                text,
                Audience::CustomerPrivate,
                "standard_faq",
                DraftFlags::default(),
            )
            .expect("a non-empty draft");
            let identity = aijia_workflows::IdentityStatus::Unknown;
            let assessment = assess(&draft, identity, &RISK);
            let routing = route(assessment.verdict, mode, paused, false);
            Event::DraftSubmitted(Box::new(DraftSubmitted {
                draft: 1,
                text: text.to_owned(),
                audience: Audience::CustomerPrivate,
                action_type: ActionType::StandardFaq,
                flags: DraftFlags::default(),
                author: aijia_workflows::Actor {
                    role: aijia_workflows::ActorRole::Reception,
                    id: "agent".into(),
                },
                identity,
                assessment,
                mode,
                paused,
                taken_over: false,
                automation_policy_version: 1,
                routing,
            }))
        })
}

fn identity_recorded() -> impl Strategy<Value = Event> {
    use aijia_workflows::IdentityStatus;
    use aijia_workflows::review::IdentityMethod;
    (
        select(IdentityStatus::ALL),
        prop::option::of(select(IdentityMethod::ALL)),
        text(),
    )
        .prop_map(|(status, method, evidence)| Event::IdentityRecorded {
            status,
            method,
            evidence,
        })
}

fn attributes() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    select(vec![
        vec![],
        vec![("materials", "ID card, contract")],
        vec![("slot", "Tue 10:00")],
        vec![
            ("timers.waiting_for_customer.remind_after", "30m"),
            ("timers.waiting_for_executor.expire_after", "2h"),
            ("timers.waiting_for_executor.expire_action", "cancel"),
        ],
    ])
}

fn assert_shape(case: &Case) -> Result<(), TestCaseError> {
    match (&case.waiting, case.state.waiting_for()) {
        (Some(waiting), Some(party)) => {
            prop_assert_eq!(waiting.party, party);
            prop_assert!(waiting.since <= case.updated_at);
            prop_assert!(!waiting.what.trim().is_empty());
        }
        (None, None) => {}
        (waiting, _) => prop_assert!(false, "{} with waiting {:?}", case.state, waiting),
    }
    let in_review = case.state == CaseState::WaitingForReview;
    prop_assert_eq!(case.review_needed, in_review);
    prop_assert_eq!(case.resume_state.is_some(), in_review);
    if let Some(resume) = case.resume_state {
        prop_assert!(!resume.is_terminal() && resume != CaseState::WaitingForReview);
    }
    prop_assert!(!case.next_step.is_empty());
    prop_assert!(!case.owner.trim().is_empty());
    Ok(())
}

/// Apply timer effects to the set of open timers, as the engine's timer table would.
fn apply_timers(open: &mut BTreeSet<TimerKey>, effects: &[Effect]) {
    for effect in effects {
        match effect {
            Effect::StartTimer { key, .. } => {
                open.insert(*key);
            }
            Effect::CancelTimer { key } => {
                open.remove(key);
            }
            _ => {}
        }
    }
}

/// The timers the case's policy (its own overrides included) starts in its state.
fn expected_timers(case: &Case, policy: &TimerPolicy) -> BTreeSet<TimerKey> {
    policy
        .for_case(&case.attributes)
        .timers_for(case.workflow_type, case.state)
        .into_iter()
        .filter(|_| case.state.waiting_for().is_some())
        .map(|t| TimerKey {
            state: case.state,
            kind: t.kind,
        })
        .collect()
}

/// Point a generated timer at the case: its `fire_at` `lag` minutes ago, and (when `aim`) its
/// key at the case's state.
fn aimed(event: Event, case: &Case, now: DateTime<Utc>, lag: i64, aim: bool) -> Event {
    match event {
        Event::TimerFired { key, action, .. } => Event::TimerFired {
            key: TimerKey {
                state: if aim { case.state } else { key.state },
                kind: key.kind,
            },
            action,
            fire_at: now - Duration::minutes(lag),
        },
        Event::DraftSubmitted(mut draft) => {
            draft.draft = case.rails.next_number();
            Event::DraftSubmitted(draft)
        }
        other => other,
    }
}

struct Stored {
    event: Event,
    at: DateTime<Utc>,
    case_after: Case,
}

fn recorded(history: &[Stored]) -> Vec<Recorded<'_>> {
    history
        .iter()
        .zip(1..)
        .map(|(s, seq)| Recorded {
            seq,
            event: &s.event,
            at: s.at,
            case_after: &s.case_after,
        })
        .collect()
}

proptest! {
    #[test]
    fn random_events_keep_cases_possible_and_replay_to_the_stored_case(
        workflow_type in select(WorkflowType::ALL),
        attributes in attributes(),
        steps in prop::collection::vec((event(), 0i64..600, 0i64..300, any::<bool>()), 0..40),
    ) {
        let policy = TimerPolicy::default();
        let new = new_case(workflow_type, &attributes);
        let opened = start(&new, t0(), &policy);
        assert_shape(&opened.case)?;
        let mut timers = BTreeSet::new();
        apply_timers(&mut timers, &opened.effects);
        prop_assert_eq!(&timers, &expected_timers(&opened.case, &policy));
        let mut history = vec![Stored { event: Event::Started(new), at: t0(), case_after: opened.case.clone() }];
        let mut case = opened.case;
        let mut now = t0();
        for (event, minutes, lag, aim) in steps {
            now += Duration::minutes(minutes);
            let event = aimed(event, &case, now, lag, aim);
            // The engine removes a timer as it fires it, whatever the case then says.
            if let Event::TimerFired { key, .. } = &event {
                timers.remove(key);
            }
            match decide(&case, &event, now, &policy) {
                Ok(decision) => {
                    prop_assert!(!case.state.is_terminal(), "{} accepted {}", case.state, event.kind());
                    prop_assert!(!matches!(event, Event::Started(_)));
                    let next = decision.case;
                    assert_shape(&next)?;
                    prop_assert_eq!(next.updated_at, now);
                    prop_assert_eq!(next.created_at, t0());
                    let moved = next.state != case.state || matches!(event, Event::WaitFor { .. });
                    let timer_effects: Vec<&Effect> = decision.effects.iter().filter(|e| {
                        matches!(e, Effect::StartTimer { .. } | Effect::CancelTimer { .. })
                    }).collect();
                    // Sent, or (under the default automation policy) queued for review.
                    let reminded = decision.effects.iter().any(|e| matches!(
                        e, Effect::EnqueueActivity { activity, .. } if activity == "send_progress_reminder"
                    )) || decision.drafts_changed.iter().any(|&n| case.rails.draft(n).is_none() && matches!(
                        next.rails.draft(n).map(|d| &d.origin),
                        Some(DraftOrigin::Activity { activity, .. }) if activity == "send_progress_reminder"
                    ));
                    if !moved {
                        // Only a reminder moves a timer in place: its own next reminder.
                        for effect in &timer_effects {
                            let is_next_reminder = matches!(
                                effect,
                                Effect::StartTimer { key, fire_at, .. }
                                    if key.state == case.state && key.kind == TimerKind::Remind && *fire_at > now
                            );
                            prop_assert!(is_next_reminder, "{} moved {:?}", event.kind(), effect);
                        }
                        prop_assert_eq!(
                            next.waiting.as_ref().map(|w| w.since),
                            case.waiting.as_ref().map(|w| w.since)
                        );
                        let sent = |c: &Case| c.waiting.as_ref().map_or(0, |w| w.reminders_sent);
                        prop_assert_eq!(sent(&next), sent(&case) + u32::from(reminded));
                    } else if let Some(waiting) = &next.waiting {
                        prop_assert_eq!(waiting.since, now);
                        prop_assert_eq!(waiting.reminders_sent, 0);
                    }
                    apply_timers(&mut timers, &decision.effects);
                    let expected = expected_timers(&next, &policy);
                    if moved {
                        prop_assert_eq!(&timers, &expected);
                    } else {
                        prop_assert!(timers.is_subset(&expected), "{:?} not within {:?}", timers, expected);
                    }
                    history.push(Stored { event, at: now, case_after: next.clone() });
                    case = next;
                }
                Err(Refusal::NotAccepted { workflow_type: t, state, event: kind }) => {
                    prop_assert_eq!((t, state, kind), (case.workflow_type, case.state, event.kind()));
                }
                Err(Refusal::Invalid(message)) => {
                    prop_assert!(!case.state.is_terminal(), "terminal states only refuse as not accepted");
                    prop_assert!(!message.is_empty());
                }
            }
        }
        let events = history.len() as u64;
        prop_assert_eq!(replay(&recorded(&history), &case), ReplayOutcome::Match { events });
    }
}

fn sample_history() -> Vec<Stored> {
    let policy = TimerPolicy::default();
    let new = new_case(
        WorkflowType::MaterialCollection,
        &[("materials", "ID card, contract")],
    );
    let mut case = start(&new, t0(), &policy).case;
    let mut history = vec![Stored {
        event: Event::Started(new),
        at: t0(),
        case_after: case.clone(),
    }];
    let events = [
        Event::MaterialProvided {
            items: vec!["ID card".into()],
            note: String::new(),
        },
        Event::ReassignOwner {
            owner: "agent-2".into(),
        },
        Event::MaterialProvided {
            items: vec!["contract".into()],
            note: String::new(),
        },
        Event::Complete {
            note: "filed".into(),
        },
    ];
    for (minutes, event) in (1..).zip(events) {
        case = decide(&case, &event, at(minutes), &policy)
            .expect("accepted")
            .case;
        history.push(Stored {
            event,
            at: at(minutes),
            case_after: case.clone(),
        });
    }
    history
}

#[test]
fn replay_of_an_untouched_history_matches() {
    let history = sample_history();
    let stored = history.last().expect("has events").case_after.clone();
    assert_eq!(
        replay(&recorded(&history), &stored),
        ReplayOutcome::Match { events: 5 }
    );
}

#[test]
fn tampering_with_a_stored_step_is_a_mismatch_at_that_seq_naming_the_field() {
    let mut history = sample_history();
    history[2].case_after.owner = "mallory".into();
    let stored = history.last().expect("has events").case_after.clone();
    assert_eq!(
        replay(&recorded(&history), &stored),
        ReplayOutcome::Mismatch(Mismatch {
            seq: Some(3),
            field: "owner".into(),
            stored: "\"mallory\"".into(),
            replayed: "\"agent-2\"".into(),
        })
    );
}

#[test]
fn tampering_with_the_final_case_is_a_mismatch_without_a_seq() {
    let history = sample_history();
    let mut stored = history.last().expect("has events").case_after.clone();
    stored.state = CaseState::Cancelled;
    let ReplayOutcome::Mismatch(mismatch) = replay(&recorded(&history), &stored) else {
        panic!("a tampered final case must not match");
    };
    assert_eq!((mismatch.seq, mismatch.field.as_str()), (None, "state"));
}
