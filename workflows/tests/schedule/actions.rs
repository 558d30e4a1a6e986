//! What a fire does: start a case with a business key from the nominal time, or remind the
//! waiting cases a filter selects.

use aijia_workflows::schedule::{ScheduleAction, ScheduleError, StartCase, SweepFilter};
use aijia_workflows::{
    CaseState, NewCase, Party, TimerPolicy, Waiting, WorkflowType, start as open_case,
};
use chrono::Duration;
use serde_json::json;

use crate::{spec, utc};

fn daily_start() -> StartCase {
    StartCase {
        workflow_type: WorkflowType::ProgressInquiry,
        business_key_template: "daily-{date}".into(),
        customer_id: "cust-7".into(),
        customer_display_name: "Li Wei".into(),
        subject: "daily check".into(),
        owner: "agent-1".into(),
        attributes: [(
            "timers.waiting_for_executor.remind_after".to_owned(),
            "1h".to_owned(),
        )]
        .into(),
    }
}

fn field_error(result: Result<(), ScheduleError>) -> (String, String) {
    match result {
        Err(ScheduleError::Action { field, message }) => (field, message),
        other => panic!("expected an action error, got {other:?}"),
    }
}

#[test]
fn start_case_fills_the_business_key_from_the_nominal_time_in_the_schedule_zone() {
    let s = spec("0 9 * * 1-5", "Asia/Shanghai");
    let action = daily_start();
    action.validate().expect("valid");
    // 2026-03-09 01:00 UTC is Monday 09:00 in Shanghai.
    let nominal = utc(2026, 3, 9, 1, 0, 0);
    assert_eq!(action.business_key(&s, nominal), "daily-2026-03-09");
    // 17:00 UTC on the 8th is already the 9th in Shanghai.
    assert_eq!(
        action.business_key(&s, utc(2026, 3, 8, 17, 0, 0)),
        "daily-2026-03-09"
    );
    let with_time = StartCase {
        business_key_template: "sweep-{datetime}".into(),
        ..daily_start()
    };
    assert_eq!(
        with_time.business_key(&s, nominal),
        "sweep-2026-03-09T09:00:00+08:00"
    );
    let new = action.new_case(&s, nominal);
    assert_eq!(
        new,
        NewCase {
            workflow_type: WorkflowType::ProgressInquiry,
            business_key: "daily-2026-03-09".into(),
            customer_id: "cust-7".into(),
            customer_display_name: "Li Wei".into(),
            subject: "daily check".into(),
            owner: "agent-1".into(),
            attributes: action.attributes.clone(),
        }
    );
    let opened = open_case(&new, nominal, &TimerPolicy::builtin());
    assert!(opened.effects.iter().any(|e| matches!(
        e,
        aijia_workflows::Effect::StartTimer { fire_at, .. } if *fire_at == nominal + Duration::hours(1)
    )));
}

#[test]
fn the_two_passes_of_a_repeated_hour_get_different_datetime_keys() {
    let s = spec("30 * * * *", "America/New_York");
    let action = StartCase {
        business_key_template: "hourly-{datetime}".into(),
        ..daily_start()
    };
    assert_eq!(
        action.business_key(&s, utc(2026, 11, 1, 5, 30, 0)),
        "hourly-2026-11-01T01:30:00-04:00"
    );
    assert_eq!(
        action.business_key(&s, utc(2026, 11, 1, 6, 30, 0)),
        "hourly-2026-11-01T01:30:00-05:00"
    );
}

#[test]
fn start_case_refuses_what_could_not_run_naming_the_field() {
    let cases: Vec<(StartCase, &str, &str)> = vec![
        (
            StartCase {
                business_key_template: "daily-{day}".into(),
                ..daily_start()
            },
            "business_key_template",
            "unknown placeholder {day}; expected {date} or {datetime}",
        ),
        (
            StartCase {
                business_key_template: "daily".into(),
                ..daily_start()
            },
            "business_key_template",
            "needs {date} or {datetime} so that each fire opens its own case",
        ),
        (
            StartCase {
                business_key_template: "daily-{date".into(),
                ..daily_start()
            },
            "business_key_template",
            "unmatched brace",
        ),
        (
            StartCase {
                owner: " ".into(),
                ..daily_start()
            },
            "owner",
            "must not be empty",
        ),
        (
            StartCase {
                attributes: [(
                    "timers.waiting_for_executor.remind_after".to_owned(),
                    "later".to_owned(),
                )]
                .into(),
                ..daily_start()
            },
            "attributes",
            "timers.waiting_for_executor.remind_after:",
        ),
    ];
    for (action, field, message) in cases {
        let (got_field, got_message) = field_error(action.validate());
        assert_eq!(got_field, field);
        assert!(
            got_message.contains(message),
            "{got_message:?} should contain {message:?}"
        );
    }
}

#[test]
fn actions_read_from_json_and_unknown_workflow_types_are_refused_by_name() {
    let action: ScheduleAction = serde_json::from_value(json!({
        "type": "start_case",
        "workflow_type": "completion_feedback",
        "business_key_template": "feedback-{date}",
        "customer_id": "cust-1",
        "subject": "how did we do",
        "owner": "agent-2",
    }))
    .expect("reads");
    assert!(action.validate().is_ok());
    let error = serde_json::from_value::<ScheduleAction>(json!({
        "type": "start_case",
        "workflow_type": "tax_return",
        "business_key_template": "x-{date}",
        "customer_id": "c",
        "subject": "s",
        "owner": "o",
    }))
    .expect_err("unknown type");
    assert!(error.to_string().contains("tax_return"), "{error}");
    assert_eq!(
        "tax_return"
            .parse::<WorkflowType>()
            .map_err(|e| e.to_string()),
        Err(
            "unknown workflow type \"tax_return\"; expected one of: material_collection, \
             progress_inquiry, appointment_confirmation, partner_cooperation_request, \
             completion_feedback"
                .into()
        )
    );

    let sweep: ScheduleAction = serde_json::from_value(json!({
        "type": "reminder_sweep",
        "filter": { "waiting_for": "partner", "waiting_longer_than_secs": 172800 },
    }))
    .expect("reads");
    assert_eq!(
        sweep,
        ScheduleAction::ReminderSweep {
            filter: SweepFilter {
                waiting_for: Some(Party::Partner),
                waiting_longer_than_secs: Some(172_800),
                ..SweepFilter::default()
            }
        }
    );
}

#[test]
fn a_sweep_filter_selects_waiting_cases_that_waited_long_enough() {
    let filter = SweepFilter {
        waiting_for: Some(Party::Partner),
        waiting_longer_than_secs: Some(48 * 3600),
        ..SweepFilter::default()
    };
    filter.validate().expect("valid");
    let started = utc(2026, 3, 2, 1, 0, 0);
    let new = NewCase {
        workflow_type: WorkflowType::PartnerCooperationRequest,
        business_key: "p-1".into(),
        customer_id: "c".into(),
        customer_display_name: String::new(),
        subject: "s".into(),
        owner: "o".into(),
        attributes: Default::default(),
    };
    let case = open_case(&new, started, &TimerPolicy::builtin()).case;
    assert!(!filter.matches(&case, started + Duration::hours(48)));
    assert!(filter.matches(&case, started + Duration::hours(49)));
    let mut customer = case.clone();
    customer.state = CaseState::WaitingForCustomer;
    customer.waiting = Some(Waiting {
        party: Party::Customer,
        ..case.waiting.clone().expect("waits")
    });
    assert!(!filter.matches(&customer, started + Duration::hours(49)));
    let mut received = case;
    received.state = CaseState::Received;
    received.waiting = None;
    assert!(!SweepFilter::default().matches(&received, started + Duration::hours(49)));
}

#[test]
fn a_sweep_filter_that_can_match_nothing_is_refused() {
    let (field, message) = field_error(
        SweepFilter {
            state: Some(CaseState::Received),
            ..SweepFilter::default()
        }
        .validate(),
    );
    assert_eq!(field, "filter.state");
    assert!(message.contains("received is not a waiting state"));
    let (field, message) = field_error(
        ScheduleAction::ReminderSweep {
            filter: SweepFilter {
                state: Some(CaseState::WaitingForPartner),
                waiting_for: Some(Party::Customer),
                ..SweepFilter::default()
            },
        }
        .validate(),
    );
    assert_eq!(field, "filter.waiting_for");
    assert_eq!(
        message,
        "a case in waiting_for_partner waits for partner, never for customer"
    );
}

#[test]
fn a_schedule_definition_checks_every_part_and_reads_from_json() {
    use aijia_workflows::schedule::{MissedFirePolicy, ScheduleDefinition};
    let definition: ScheduleDefinition = serde_json::from_value(json!({
        "cron": "0 9 * * 1-5",
        "time_zone": "Asia/Shanghai",
        "missed_fire": { "type": "fire_once" },
        "jitter_secs": 30,
        "action": {
            "type": "reminder_sweep",
            "filter": { "waiting_for": "partner", "waiting_longer_than_secs": 172800 },
        },
    }))
    .expect("reads");
    let spec = definition.validate().expect("valid");
    assert_eq!(spec.time_zone(), "Asia/Shanghai");
    assert_eq!(definition.max_jitter(), Duration::seconds(30));

    let bad = |change: fn(&mut ScheduleDefinition)| {
        let mut d = definition.clone();
        change(&mut d);
        d.validate().expect_err("invalid").to_string()
    };
    assert!(bad(|d| d.cron = "0 9 * *".into()).starts_with("bad cron expression"));
    assert!(
        bad(|d| d.time_zone = "Asia/Peking".into()).contains("unknown time zone \"Asia/Peking\"")
    );
    assert!(
        bad(|d| d.missed_fire = MissedFirePolicy::FireAll { limit: 0 })
            .starts_with("missed-fire policy")
    );
    assert!(bad(|d| d.jitter_secs = 7200).starts_with("jitter: 7200 seconds"));
    assert!(
        bad(|d| d.action = ScheduleAction::ReminderSweep {
            filter: SweepFilter {
                state: Some(CaseState::Completed),
                ..SweepFilter::default()
            }
        })
        .starts_with("filter.state")
    );
}

#[test]
fn a_sweep_without_any_filter_or_waiting_beyond_ten_years_is_refused() {
    let (field, message) = field_error(SweepFilter::default().validate());
    assert_eq!(field, "filter");
    assert!(message.contains("state, waiting_for, workflow_type or waiting_longer_than"));
    let (field, message) = field_error(
        SweepFilter {
            waiting_longer_than_secs: Some(u64::MAX),
            ..SweepFilter::default()
        }
        .validate(),
    );
    assert_eq!(field, "filter.waiting_longer_than");
    assert!(message.contains("3650 days"), "{message}");
    SweepFilter {
        waiting_longer_than_secs: Some(3_650 * 86_400),
        ..SweepFilter::default()
    }
    .validate()
    .expect("ten years is the most allowed");
}

#[test]
fn a_schedule_written_now_must_fire_again_and_catch_up_boundedly() {
    use aijia_workflows::schedule::{MAX_MISSED_FIRE_LIMIT, MissedFirePolicy, ScheduleDefinition};
    let definition = ScheduleDefinition {
        cron: "0 0 9 1 1 * 2020".into(),
        time_zone: "UTC".into(),
        missed_fire: MissedFirePolicy::Skip,
        jitter_secs: 0,
        action: ScheduleAction::StartCase(daily_start()),
    };
    definition
        .validate()
        .expect("well-formed: it fired in 2020");
    let message = definition
        .validate_at(utc(2026, 3, 1, 0, 0, 0))
        .expect_err("no fire is left")
        .to_string();
    assert!(
        message.contains("never fires after 2026-03-01"),
        "{message}"
    );

    let every_day = ScheduleDefinition {
        cron: "0 9 * * *".into(),
        ..definition
    };
    every_day
        .validate_at(utc(2026, 3, 1, 0, 0, 0))
        .expect("fires tomorrow");
    let greedy = ScheduleDefinition {
        missed_fire: MissedFirePolicy::FireAll {
            limit: MAX_MISSED_FIRE_LIMIT + 1,
        },
        ..every_day
    };
    assert!(
        greedy
            .validate()
            .expect_err("too many catch-up fires")
            .to_string()
            .contains("at most 1000")
    );
}

#[test]
fn a_start_case_action_may_not_override_timers_of_a_state_its_type_never_enters() {
    let mut action = daily_start();
    action.workflow_type = WorkflowType::MaterialCollection;
    action.attributes = [(
        "timers.waiting_for_partner.remind_after".to_owned(),
        "1h".to_owned(),
    )]
    .into();
    let (field, message) = field_error(action.validate());
    assert_eq!(field, "attributes");
    assert!(
        message.contains("a material_collection case never waits in waiting_for_partner"),
        "{message}"
    );
}
