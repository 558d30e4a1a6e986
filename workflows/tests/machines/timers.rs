//! Waiting-state timers of every workflow type, as the shipped `workflows/policy/timers.toml`
//! sets them: reminders repeat up to their count, escalations reach a reviewer or the owner,
//! expiries cancel or complete, stale timers are refused, and leaving a state cancels them.

use aijia_workflows::{
    Case, CaseState, Decision, Effect, EscalateTo, Event, ExpireOutcome, Refusal, TimerAction,
    TimerKey, TimerKind, TimerPolicy, WorkflowType, activity, decide, evidence as kind, start,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::support::{
    apply, at, automated, cancels, case_in, effects, enqueue, evidence, new_case, refuse, shipped,
    started, starts, states_of, t0,
};

/// A case of `workflow_type` that entered the waiting `state` at [`t0`], with the decision that
/// put it there (and so the timers that state started).
fn entered(workflow_type: WorkflowType, state: CaseState) -> Decision {
    let opened = start(&new_case(workflow_type, &[]), t0(), &TimerPolicy::builtin());
    if opened.case.state == state {
        return opened;
    }
    let event = match state.waiting_for() {
        Some(aijia_workflows::Party::Review) => Event::RequestReview {
            reason: "check".into(),
        },
        Some(party) => Event::WaitFor {
            party,
            what: "help".into(),
            checklist: vec![],
        },
        None => panic!("{state} is not a waiting state"),
    };
    apply(&opened.case, event, t0())
}

fn waiting_states(workflow_type: WorkflowType) -> impl Iterator<Item = CaseState> {
    states_of(workflow_type)
        .iter()
        .copied()
        .filter(|s| s.waiting_for().is_some())
}

/// The `StartTimer` of `kind` among `effects`.
fn started_timer(effects: &[Effect], kind: TimerKind) -> Option<Effect> {
    effects
        .iter()
        .find(|e| matches!(e, Effect::StartTimer { key, .. } if key.kind == kind))
        .cloned()
}

/// The event the engine sends when the timer `StartTimer` asked for comes due.
fn fired(timer: &Effect) -> (Event, DateTime<Utc>) {
    let Effect::StartTimer {
        key,
        fire_at,
        action,
    } = timer
    else {
        panic!("not a timer: {timer:?}");
    };
    let event = Event::TimerFired {
        key: *key,
        action: *action,
        fire_at: *fire_at,
    };
    (event, *fire_at)
}

fn party_words(case: &Case) -> &'static str {
    match case.waiting.as_ref().map(|w| w.party) {
        Some(aijia_workflows::Party::Customer) => "the customer",
        Some(aijia_workflows::Party::Executor) => "the executor",
        Some(aijia_workflows::Party::Partner) => "the partner",
        Some(aijia_workflows::Party::Review) => "a reviewer",
        None => panic!("not waiting"),
    }
}

const SINCE: &str = "2025-03-03 09:00 UTC";

#[test]
fn reminders_repeat_every_interval_up_to_their_count_in_every_waiting_state() {
    for &workflow_type in WorkflowType::ALL {
        for state in waiting_states(workflow_type) {
            let (Some((after, every, times)), _, _) = shipped(workflow_type, state) else {
                continue;
            };
            let opened = entered(workflow_type, state);
            let mut case = automated(&opened.case);
            let mut timer = started_timer(&opened.effects, TimerKind::Remind);
            let mut due = t0() + Duration::hours(after);
            for number in 1..=times {
                let Some(current) = timer.take() else {
                    panic!("{workflow_type} {state}: reminder {number} of {times} was not started");
                };
                let (event, fire_at) = fired(&current);
                assert_eq!(fire_at, due, "{workflow_type} {state} reminder {number}");
                let decision = apply(&case, event, fire_at + Duration::minutes(1));
                let waiting = decision.case.waiting.clone().expect("still waits");
                assert_eq!(
                    decision.case.state, state,
                    "a reminder leaves the state as it is"
                );
                assert_eq!(waiting.reminders_sent, number);
                assert_eq!(waiting.since, t0());
                let reminder = enqueue(
                    activity::SEND_PROGRESS_REMINDER,
                    json!({
                        "party": waiting.party,
                        "what": waiting.what,
                        "subject": "order 42",
                        "reminder": number,
                    }),
                );
                let detail = format!(
                    "reminder {number} to {}: {}",
                    party_words(&decision.case),
                    waiting.what
                );
                let next = started_timer(&decision.effects, TimerKind::Remind);
                let mut expected = next.clone().into_iter().collect::<Vec<_>>();
                expected.extend([reminder, evidence(kind::REMINDER, &detail)]);
                assert_eq!(decision.effects, expected, "{workflow_type} {state}");
                if let Some(every) = every.filter(|_| number < times) {
                    due += Duration::hours(every);
                    let Some(Effect::StartTimer { key, .. }) = &next else {
                        panic!("{workflow_type} {state}: no reminder after {number}");
                    };
                    assert_eq!(
                        *key,
                        TimerKey {
                            state,
                            kind: TimerKind::Remind
                        }
                    );
                } else {
                    assert_eq!(
                        next, None,
                        "{workflow_type} {state}: {times} reminders at most"
                    );
                }
                timer = next;
                case = decision.case;
            }
        }
    }
}

#[test]
fn escalations_reach_a_reviewer_or_the_owner_as_each_type_is_configured() {
    let mut seen = (false, false);
    for &workflow_type in WorkflowType::ALL {
        for state in waiting_states(workflow_type) {
            let (_, Some((after, to)), _) = shipped(workflow_type, state) else {
                continue;
            };
            let opened = entered(workflow_type, state);
            let timer = started_timer(&opened.effects, TimerKind::Escalate).expect("escalation");
            let (event, fire_at) = fired(&timer);
            assert_eq!(fire_at, t0() + Duration::hours(after));
            let decision = apply(&opened.case, event, fire_at);
            let party = party_words(&opened.case);
            match to {
                EscalateTo::Owner => {
                    seen.0 = true;
                    let what = &opened.case.waiting.as_ref().expect("waits").what;
                    assert_eq!(decision.case.state, state, "{workflow_type} {state}");
                    assert_eq!(
                        decision.effects,
                        vec![
                            enqueue(
                                activity::SEND_MESSAGE,
                                json!({
                                    "to": "owner",
                                    "owner": "agent-1",
                                    "text": format!(
                                        "order 42 has waited for {party} since {SINCE} to {what}; \
                                         please follow up"
                                    ),
                                })
                            ),
                            evidence(
                                kind::ESCALATION,
                                &format!(
                                    "escalated to owner agent-1: waited for {party} since {SINCE}"
                                ),
                            ),
                        ],
                        "{workflow_type} {state}"
                    );
                }
                EscalateTo::Review => {
                    seen.1 = true;
                    let reason = format!("waited too long: {state} since {SINCE}");
                    assert_eq!(decision.case.state, CaseState::WaitingForReview);
                    assert_eq!(decision.case.resume_state, Some(state));
                    assert!(decision.case.review_needed);
                    assert_eq!(
                        decision.effects,
                        effects([
                            cancels(state),
                            starts(workflow_type, CaseState::WaitingForReview, fire_at),
                            vec![
                                evidence(
                                    kind::ESCALATION,
                                    &format!("escalated to review: {reason}")
                                ),
                                Effect::RequestReview { reason },
                            ],
                        ]),
                        "{workflow_type} {state}"
                    );
                }
            }
        }
    }
    assert_eq!(seen, (true, true), "the shipped file escalates to both");
}

#[test]
fn expiries_cancel_or_complete_as_each_type_is_configured() {
    let mut seen = (false, false);
    for &workflow_type in WorkflowType::ALL {
        for state in waiting_states(workflow_type) {
            let (_, _, Some((after, outcome))) = shipped(workflow_type, state) else {
                continue;
            };
            let opened = entered(workflow_type, state);
            let timer = started_timer(&opened.effects, TimerKind::Expire).expect("expiry");
            let (event, fire_at) = fired(&timer);
            assert_eq!(fire_at, t0() + Duration::hours(after));
            let decision = apply(&opened.case, event, fire_at);
            let detail = format!(
                "expired: waited for {} since {SINCE}",
                party_words(&opened.case)
            );
            let (target, evidence_kind) = match outcome {
                ExpireOutcome::Cancel => {
                    seen.0 = true;
                    (CaseState::Cancelled, kind::CANCELLATION)
                }
                ExpireOutcome::Complete => {
                    seen.1 = true;
                    (CaseState::Completed, kind::COMPLETION)
                }
            };
            assert_eq!(decision.case.state, target, "{workflow_type} {state}");
            assert_eq!(decision.case.waiting, None);
            assert_eq!(
                decision.effects,
                effects([cancels(state), vec![evidence(evidence_kind, &detail)]])
            );
        }
    }
    assert_eq!(seen, (true, true), "the shipped file expires to both");
}

#[test]
fn leaving_a_waiting_state_cancels_all_its_timers_and_entering_one_starts_its_own() {
    for &workflow_type in WorkflowType::ALL {
        for state in waiting_states(workflow_type) {
            let opened = entered(workflow_type, state);
            let cancel = Event::Cancel {
                reason: "done".into(),
            };
            let decision = apply(&opened.case, cancel, at(5));
            assert_eq!(
                decision.effects,
                effects([cancels(state), vec![evidence(kind::CANCELLATION, "done")]])
            );
        }
    }
    let case = started(WorkflowType::AppointmentConfirmation, &[]);
    let decision = apply(&case, Event::CustomerReplied { text: "ok".into() }, at(3));
    assert_eq!(
        decision.effects,
        effects([
            cancels(CaseState::WaitingForCustomer),
            starts(
                WorkflowType::AppointmentConfirmation,
                CaseState::WaitingForExecutor,
                at(3)
            ),
            vec![evidence(kind::CUSTOMER_REPLY, "ok")],
        ])
    );
}

fn remind_once(state: CaseState, fire_at: DateTime<Utc>) -> Event {
    Event::TimerFired {
        key: TimerKey {
            state,
            kind: TimerKind::Remind,
        },
        action: TimerAction::Remind {
            every_secs: None,
            remaining: 0,
        },
        fire_at,
    }
}

#[test]
fn a_timer_of_another_state_or_an_earlier_wait_is_stale_and_not_accepted() {
    let case = started(WorkflowType::AppointmentConfirmation, &[]);
    let case = apply(&case, Event::CustomerReplied { text: "ok".into() }, at(60)).case;
    let not_accepted = Refusal::NotAccepted {
        workflow_type: WorkflowType::AppointmentConfirmation,
        state: CaseState::WaitingForExecutor,
        event: "timer_fired",
    };
    assert_eq!(
        refuse(&case, remind_once(CaseState::WaitingForCustomer, at(61))),
        not_accepted,
        "a timer of the state the case left"
    );
    assert_eq!(
        refuse(&case, remind_once(CaseState::WaitingForExecutor, at(30))),
        not_accepted,
        "due before the case entered its state: a timer of an earlier wait"
    );
    let received = case_in(WorkflowType::AppointmentConfirmation, CaseState::Received);
    assert!(matches!(
        refuse(&received, remind_once(CaseState::Received, at(1))),
        Refusal::NotAccepted { .. }
    ));
    let cancelled = case_in(WorkflowType::AppointmentConfirmation, CaseState::Cancelled);
    assert!(matches!(
        refuse(
            &cancelled,
            remind_once(CaseState::WaitingForCustomer, at(1))
        ),
        Refusal::NotAccepted { .. }
    ));
}

#[test]
fn a_timer_whose_key_and_action_disagree_is_invalid() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    let event = Event::TimerFired {
        key: TimerKey {
            state: CaseState::WaitingForCustomer,
            kind: TimerKind::Expire,
        },
        action: TimerAction::Escalate {
            to: EscalateTo::Owner,
        },
        fire_at: at(1),
    };
    assert_eq!(
        refuse(&case, event),
        Refusal::Invalid(
            "timer waiting_for_customer/expire carries an action for kind escalate".into()
        )
    );
}

#[test]
fn escalating_a_review_to_review_tells_the_owner_instead() {
    let case = case_in(WorkflowType::ProgressInquiry, CaseState::WaitingForReview);
    let event = Event::TimerFired {
        key: TimerKey {
            state: CaseState::WaitingForReview,
            kind: TimerKind::Escalate,
        },
        action: TimerAction::Escalate {
            to: EscalateTo::Review,
        },
        fire_at: at(1),
    };
    let decision = apply(&case, event, at(1));
    assert_eq!(decision.case.state, CaseState::WaitingForReview);
    assert!(decision.effects.iter().any(|e| matches!(
        e,
        Effect::EnqueueActivity { activity: a, input } if a == activity::SEND_MESSAGE && input["to"] == "owner"
    )));
}

#[test]
fn a_reminder_fired_late_schedules_the_next_one_ahead_not_in_the_past() {
    let case = started(WorkflowType::MaterialCollection, &[]);
    let hour = 3600;
    let event = Event::TimerFired {
        key: TimerKey {
            state: CaseState::WaitingForCustomer,
            kind: TimerKind::Remind,
        },
        action: TimerAction::Remind {
            every_secs: Some(hour),
            remaining: 2,
        },
        fire_at: at(60),
    };
    // Applied 3.5 hours after it was due: the reminders due meanwhile are not sent in a burst.
    let decision = apply(&case, event, at(60 + 210));
    assert_eq!(
        started_timer(&decision.effects, TimerKind::Remind),
        Some(Effect::StartTimer {
            key: TimerKey {
                state: CaseState::WaitingForCustomer,
                kind: TimerKind::Remind
            },
            fire_at: at(60 + 240),
            action: TimerAction::Remind {
                every_secs: Some(hour),
                remaining: 1
            },
        })
    );
}

#[test]
fn a_case_s_timer_attributes_override_the_policy_on_every_entry() {
    let attributes = [
        ("timers.waiting_for_customer.remind_after", "2h"),
        ("timers.waiting_for_customer.remind_times", "1"),
        ("timers.waiting_for_customer.expire_after", "off"),
        ("timers.waiting_for_executor.escalate_to", "review"),
    ];
    let opened = start(
        &new_case(WorkflowType::AppointmentConfirmation, &attributes),
        t0(),
        &TimerPolicy::builtin(),
    );
    assert_eq!(
        opened.effects,
        vec![
            Effect::StartTimer {
                key: TimerKey {
                    state: CaseState::WaitingForCustomer,
                    kind: TimerKind::Remind
                },
                fire_at: t0() + Duration::hours(2),
                action: TimerAction::Remind {
                    every_secs: None,
                    remaining: 0
                },
            },
            Effect::StartTimer {
                key: TimerKey {
                    state: CaseState::WaitingForCustomer,
                    kind: TimerKind::Escalate
                },
                fire_at: t0() + Duration::hours(48),
                action: TimerAction::Escalate {
                    to: EscalateTo::Owner
                },
            },
        ]
    );
    let decision = apply(
        &opened.case,
        Event::CustomerReplied { text: "ok".into() },
        at(10),
    );
    let escalate = started_timer(&decision.effects, TimerKind::Escalate);
    assert_eq!(
        escalate,
        Some(Effect::StartTimer {
            key: TimerKey {
                state: CaseState::WaitingForExecutor,
                kind: TimerKind::Escalate
            },
            fire_at: at(10) + Duration::hours(12),
            action: TimerAction::Escalate {
                to: EscalateTo::Review
            },
        })
    );
}

#[test]
fn a_reminder_sweep_reminds_a_waiting_case_without_moving_its_timers() {
    let case = started(WorkflowType::PartnerCooperationRequest, &[]);
    let sweep = Event::SendReminder {
        reason: " schedule partner-sweep ".into(),
    };
    let decision = apply(&case, sweep.clone(), at(5));
    assert_eq!(
        decision.case.waiting.as_ref().map(|w| w.reminders_sent),
        Some(1)
    );
    assert_eq!(
        decision.effects,
        vec![
            enqueue(
                activity::SEND_PROGRESS_REMINDER,
                json!({
                    "party": "partner",
                    "what": "handle the request order 42",
                    "subject": "order 42",
                    "reminder": 1,
                })
            ),
            evidence(
                kind::REMINDER,
                "reminder 1 to the partner: handle the request order 42 (schedule partner-sweep)"
            ),
        ]
    );
    let received = case_in(WorkflowType::PartnerCooperationRequest, CaseState::Received);
    assert_eq!(
        decide(&received, &sweep, at(5), &TimerPolicy::builtin()),
        Err(Refusal::NotAccepted {
            workflow_type: WorkflowType::PartnerCooperationRequest,
            state: CaseState::Received,
            event: "send_reminder",
        })
    );
}

#[test]
fn timer_effects_and_events_have_the_json_shape_the_engine_stores() {
    let timer = Effect::StartTimer {
        key: TimerKey {
            state: CaseState::WaitingForCustomer,
            kind: TimerKind::Remind,
        },
        fire_at: t0(),
        action: TimerAction::Remind {
            every_secs: Some(86_400),
            remaining: 2,
        },
    };
    assert_eq!(
        serde_json::to_value(&timer).expect("serializes"),
        json!({
            "type": "start_timer",
            "key": { "state": "waiting_for_customer", "kind": "remind" },
            "fire_at": "2025-03-03T09:00:00Z",
            "action": { "type": "remind", "every_secs": 86400, "remaining": 2 },
        })
    );
    let event = Event::TimerFired {
        key: TimerKey {
            state: CaseState::WaitingForPartner,
            kind: TimerKind::Escalate,
        },
        action: TimerAction::Escalate {
            to: EscalateTo::Review,
        },
        fire_at: t0(),
    };
    let value = serde_json::to_value(&event).expect("serializes");
    assert_eq!(
        value,
        json!({
            "type": "timer_fired",
            "key": { "state": "waiting_for_partner", "kind": "escalate" },
            "action": { "type": "escalate", "to": "review" },
            "fire_at": "2025-03-03T09:00:00Z",
        })
    );
    assert_eq!(event.kind(), "timer_fired");
    let back: Event = serde_json::from_value(value).expect("deserializes");
    assert_eq!(back, event);
    let expire = TimerAction::Expire {
        outcome: ExpireOutcome::Complete,
    };
    assert_eq!(
        serde_json::to_value(expire).expect("serializes"),
        json!({ "type": "expire", "outcome": "complete" })
    );
}

#[test]
fn a_case_stored_before_reminders_were_counted_still_reads() {
    let mut stored =
        serde_json::to_value(started(WorkflowType::ProgressInquiry, &[])).expect("serializes");
    stored["waiting"]
        .as_object_mut()
        .expect("waits")
        .remove("reminders_sent");
    let case: Case = serde_json::from_value(stored).expect("reads without reminders_sent");
    assert_eq!(case.waiting.map(|w| w.reminders_sent), Some(0));
}
