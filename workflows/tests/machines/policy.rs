//! The timer policy file and per-case overrides: layering, `off`, and errors that name the
//! bad key.

use std::collections::BTreeMap;

use aijia_workflows::policy::{
    Escalation, Expiry, Reminders, StateTimers, format_duration, parse_duration,
};
use aijia_workflows::{
    CaseState, EscalateTo, ExpireOutcome, PolicyError, TimerPolicy, WorkflowType,
};
use chrono::Duration;

fn key_error(text: &str) -> (String, String) {
    match TimerPolicy::parse(text) {
        Err(PolicyError::Key { key, message }) => (key, message),
        other => panic!("expected a key error, got {other:?}"),
    }
}

fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn override_error(pairs: &[(&str, &str)]) -> (String, String) {
    match TimerPolicy::builtin().with_overrides(&overrides(pairs)) {
        Err(PolicyError::Key { key, message }) => (key, message),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn the_shipped_file_reads_and_gives_every_waiting_state_of_every_type_timers() {
    let policy = TimerPolicy::builtin();
    assert_ne!(policy, TimerPolicy::empty());
    assert_eq!(policy, TimerPolicy::default());
    for &workflow_type in WorkflowType::ALL {
        for &state in CaseState::ALL.iter().filter(|s| s.waiting_for().is_some()) {
            assert!(
                !policy.timers_for(workflow_type, state).is_empty(),
                "{workflow_type} {state}"
            );
        }
        assert!(
            policy
                .timers_for(workflow_type, CaseState::Received)
                .is_empty()
        );
    }
}

#[test]
fn a_type_section_overrides_the_default_setting_by_setting() {
    let policy = TimerPolicy::parse(
        r#"
        [default.waiting_for_customer]
        remind_after = "24h"
        remind_every = "12h"
        remind_times = 3
        escalate_after = "3d"
        escalate_to = "owner"

        [completion_feedback.waiting_for_customer]
        remind_after = "1h30m"
        escalate_after = "off"
        expire_after = "1w"
        expire_action = "complete"
        "#,
    )
    .expect("valid");
    assert_eq!(
        policy.state_timers(
            WorkflowType::CompletionFeedback,
            CaseState::WaitingForCustomer
        ),
        StateTimers {
            reminders: Some(Reminders {
                after: Duration::minutes(90),
                every: Some(Duration::hours(12)),
                times: 3
            }),
            escalation: None,
            expiry: Some(Expiry {
                after: Duration::days(7),
                outcome: ExpireOutcome::Complete
            }),
        }
    );
    assert_eq!(
        policy.state_timers(
            WorkflowType::MaterialCollection,
            CaseState::WaitingForCustomer
        ),
        StateTimers {
            reminders: Some(Reminders {
                after: Duration::hours(24),
                every: Some(Duration::hours(12)),
                times: 3
            }),
            escalation: Some(Escalation {
                after: Duration::days(3),
                to: EscalateTo::Owner
            }),
            expiry: None,
        }
    );
}

#[test]
fn file_errors_name_the_bad_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[nonsense.waiting_for_customer]\nremind_after = \"1h\"",
            "nonsense",
            "unknown section; expected default or a workflow type",
        ),
        (
            "[default.received]\nremind_after = \"1h\"",
            "default.received",
            "\"received\" is not a waiting state",
        ),
        (
            "[default.waiting_for_customer]\nremind_aftr = \"1h\"",
            "default.waiting_for_customer.remind_aftr",
            "unknown setting; expected one of: remind_after,",
        ),
        (
            "[default.waiting_for_customer]\nremind_after = \"1 day\"",
            "default.waiting_for_customer.remind_after",
            "unknown unit 'a'",
        ),
        (
            "[default.waiting_for_customer]\nremind_after = 24",
            "default.waiting_for_customer.remind_after",
            "expected a duration in quotes like \"24h\", or \"off\"; got the number 24",
        ),
        (
            "[default.waiting_for_customer]\nremind_after = \"0m\"",
            "default.waiting_for_customer.remind_after",
            "\"0m\" is not a positive duration",
        ),
        (
            "[default.waiting_for_customer]\nescalate_after = \"1h\"",
            "default.waiting_for_customer.escalate_to",
            "escalate_after needs escalate_to: review or owner",
        ),
        (
            "[default.waiting_for_customer]\nescalate_after = \"1h\"\nescalate_to = \"boss\"",
            "default.waiting_for_customer.escalate_to",
            "unknown escalation target \"boss\"; expected one of: review, owner",
        ),
        (
            "[default.waiting_for_review]\nescalate_after = \"1h\"\nescalate_to = \"review\"",
            "default.waiting_for_review.escalate_to",
            "cannot be escalated to review",
        ),
        (
            "[default.waiting_for_customer]\nexpire_after = \"1h\"",
            "default.waiting_for_customer.expire_action",
            "expire_after needs expire_action: cancel or complete",
        ),
        (
            "[default.waiting_for_customer]\nremind_after = \"1h\"\nremind_times = 3",
            "default.waiting_for_customer.remind_times",
            "3 reminders need remind_every",
        ),
        (
            "[default.waiting_for_customer]\nremind_after = \"1h\"\nremind_times = 0",
            "default.waiting_for_customer.remind_times",
            "must be at least 1",
        ),
        (
            "[completion_feedback.waiting_for_partner]\nremind_after = \"1h\"",
            "completion_feedback.waiting_for_partner",
            "a completion_feedback case never waits in waiting_for_partner",
        ),
        (
            "[default.waiting_for_executor]\nescalate_after = \"1h\"\n\
             [progress_inquiry.waiting_for_executor]\nescalate_to = \"owner\"",
            "default.waiting_for_executor.escalate_to",
            "escalate_after needs escalate_to",
        ),
    ];
    for (text, key, message) in cases {
        let (got_key, got_message) = key_error(text);
        assert_eq!(&got_key, key, "{text}");
        assert!(
            got_message.contains(message),
            "{text}: {got_message:?} should contain {message:?}"
        );
    }
    assert!(matches!(
        TimerPolicy::parse("[default"),
        Err(PolicyError::Syntax(_))
    ));
}

#[test]
fn a_setting_left_unusable_by_a_type_section_is_named_in_that_section() {
    let (key, message) = key_error(
        "[default.waiting_for_customer]\nremind_after = \"1h\"\n\
         [material_collection.waiting_for_customer]\nremind_times = 2",
    );
    assert_eq!(key, "material_collection.waiting_for_customer.remind_times");
    assert!(message.contains("2 reminders need remind_every"));
}

#[test]
fn case_overrides_apply_on_top_and_ignore_other_attributes() {
    let base = TimerPolicy::builtin();
    let attributes = overrides(&[
        ("materials", "ID card"),
        ("timers.waiting_for_customer.remind_after", "2h"),
        ("timers.waiting_for_customer.expire_action", "complete"),
        ("timers.waiting_for_partner.escalate_after", "off"),
    ]);
    let policy = base.with_overrides(&attributes).expect("valid overrides");
    let customer = policy.state_timers(
        WorkflowType::MaterialCollection,
        CaseState::WaitingForCustomer,
    );
    assert_eq!(
        customer.reminders.map(|r| r.after),
        Some(Duration::hours(2))
    );
    assert_eq!(
        customer.expiry,
        Some(Expiry {
            after: Duration::days(21),
            outcome: ExpireOutcome::Complete
        })
    );
    let partner = policy.state_timers(WorkflowType::ProgressInquiry, CaseState::WaitingForPartner);
    assert_eq!(partner.escalation, None);
    assert_eq!(
        policy.with_overrides(&attributes).expect("again"),
        policy,
        "applying the same overrides twice changes nothing"
    );
    assert_eq!(
        base.with_overrides(&overrides(&[("materials", "x")]))
            .expect("none"),
        base
    );
}

#[test]
fn override_errors_name_the_attribute() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[("timers.waiting_for_customer.remind_after", "soon")],
            "timers.waiting_for_customer.remind_after",
            "a number must come before 's'",
        ),
        (
            &[("timers.received.remind_after", "1h")],
            "timers.received.remind_after",
            "is not a waiting state",
        ),
        (
            &[("timers.waiting_for_customer", "1h")],
            "timers.waiting_for_customer",
            "expected timers.<waiting state>.<setting>",
        ),
        (
            &[("timers.waiting_for_customer.snooze", "1h")],
            "timers.waiting_for_customer.snooze",
            "unknown setting",
        ),
        (
            &[("timers.waiting_for_customer.remind_times", "many")],
            "timers.waiting_for_customer.remind_times",
            "expected a whole number of reminders; got \"many\"",
        ),
        (
            &[
                ("timers.waiting_for_customer.remind_every", "off"),
                ("timers.waiting_for_customer.remind_times", "4"),
            ],
            "timers.waiting_for_customer.remind_times",
            "4 reminders need remind_every",
        ),
        (
            &[("timers.waiting_for_review.escalate_to", "review")],
            "timers.waiting_for_review.escalate_to",
            "cannot be escalated to review",
        ),
    ];
    for (pairs, key, message) in cases {
        let (got_key, got_message) = override_error(pairs);
        assert_eq!(&got_key, key, "{pairs:?}");
        assert!(
            got_message.contains(message),
            "{pairs:?}: {got_message:?} should contain {message:?}"
        );
    }
    let error = TimerPolicy::builtin()
        .with_overrides(&overrides(&[(
            "timers.waiting_for_customer.remind_after",
            "soon",
        )]))
        .expect_err("invalid");
    assert_eq!(
        error.to_string(),
        "timers.waiting_for_customer.remind_after: \"soon\" is not a duration: a number must \
         come before 's'"
    );
}

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
    assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
    assert_eq!(format_duration(Duration::minutes(90)), "1h30m");
}

#[test]
fn an_override_of_a_state_the_type_never_enters_is_refused_for_a_new_case() {
    let attributes = overrides(&[("timers.waiting_for_partner.remind_after", "1h")]);
    let base = TimerPolicy::builtin();
    match base.with_overrides_for(WorkflowType::MaterialCollection, &attributes) {
        Err(PolicyError::Key { key, message }) => {
            assert_eq!(key, "timers.waiting_for_partner.remind_after");
            assert!(
                message.contains("a material_collection case never waits in waiting_for_partner"),
                "{message}"
            );
            assert!(
                message.contains("waiting_for_customer"),
                "says where it does wait"
            );
        }
        other => panic!("expected a key error, got {other:?}"),
    }
    base.with_overrides_for(WorkflowType::PartnerCooperationRequest, &attributes)
        .expect("a partner cooperation request does wait for its partner");
    base.with_overrides_for(
        WorkflowType::MaterialCollection,
        &overrides(&[("timers.waiting_for_review.remind_after", "1h")]),
    )
    .expect("every type can wait for review");
}

#[test]
fn a_reminder_storm_is_refused() {
    let (key, message) = override_error(&[
        ("timers.waiting_for_customer.remind_times", "1000000"),
        ("timers.waiting_for_customer.remind_every", "1h"),
    ]);
    assert_eq!(key, "timers.waiting_for_customer.remind_times");
    assert!(message.contains("at most 100"), "{message}");
    let (key, message) = override_error(&[
        ("timers.waiting_for_customer.remind_times", "5"),
        ("timers.waiting_for_customer.remind_every", "1ms"),
    ]);
    assert_eq!(key, "timers.waiting_for_customer.remind_every");
    assert!(message.contains("at least 1m apart"), "{message}");
}
