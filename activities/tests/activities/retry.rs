//! The retry policy: exponential backoff with a cap, a limit on attempts, and errors that
//! end a task at once.

use std::time::Duration;

use aijia_activities::{ActivityError, GiveUpReason, RetryDecision, RetryPolicy, codes};
use serde_json::json;

fn network() -> ActivityError {
    ActivityError::retryable(codes::NETWORK, "connection reset")
}

fn secs(s: u64) -> RetryDecision {
    RetryDecision::RetryAfter(Duration::from_secs(s))
}

#[test]
fn the_default_policy_is_one_second_doubling_to_five_minutes_ten_attempts() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.initial_interval, Duration::from_secs(1));
    assert_eq!(policy.backoff_coefficient, 2.0);
    assert_eq!(policy.maximum_interval, Duration::from_secs(300));
    assert_eq!(policy.maximum_attempts, 10);
    assert!(policy.non_retryable_codes.is_empty());
    assert_eq!(policy.validate(), Ok(()));
}

#[test]
fn waits_double_after_each_failed_attempt_up_to_the_cap() {
    let policy = RetryPolicy {
        maximum_attempts: 0,
        ..RetryPolicy::default()
    };
    let waits: Vec<RetryDecision> = (1..=12).map(|n| policy.next_retry(n, &network())).collect();
    let expected: Vec<RetryDecision> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        .into_iter()
        .map(secs)
        .collect();
    assert_eq!(waits, expected);
    // Far beyond where the exponent overflows, the cap still holds.
    assert_eq!(policy.next_retry(5_000, &network()), secs(300));
}

#[test]
fn a_fractional_coefficient_and_interval_work() {
    let policy = RetryPolicy {
        initial_interval: Duration::from_millis(500),
        backoff_coefficient: 1.5,
        maximum_interval: Duration::from_secs(2),
        ..RetryPolicy::default()
    };
    let waits: Vec<Duration> = (1..=5)
        .map(|n| match policy.next_retry(n, &network()) {
            RetryDecision::RetryAfter(d) => d,
            other => panic!("attempt {n}: {other:?}"),
        })
        .collect();
    assert_eq!(
        waits,
        [
            Duration::from_millis(500),
            Duration::from_millis(750),
            Duration::from_millis(1125),
            Duration::from_micros(1_687_500),
            Duration::from_secs(2),
        ]
    );
}

#[test]
fn the_last_allowed_attempt_gives_up() {
    let policy = RetryPolicy {
        maximum_attempts: 3,
        ..RetryPolicy::default()
    };
    assert_eq!(policy.next_retry(1, &network()), secs(1));
    assert_eq!(policy.next_retry(2, &network()), secs(2));
    assert_eq!(
        policy.next_retry(3, &network()),
        RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted { attempts: 3 })
    );
    let RetryDecision::GiveUp(reason) = policy.next_retry(4, &network()) else {
        panic!("past the limit")
    };
    assert_eq!(reason.to_string(), "all 3 attempts failed");
}

#[test]
fn a_non_retryable_error_gives_up_at_once() {
    let policy = RetryPolicy::default();
    let err = ActivityError::bad_input("missing field `to`");
    assert_eq!(
        policy.next_retry(1, &err),
        RetryDecision::GiveUp(GiveUpReason::NonRetryable {
            code: codes::BAD_INPUT.into()
        })
    );
}

#[test]
fn a_code_the_policy_lists_gives_up_at_once_even_if_retryable() {
    let policy = RetryPolicy {
        non_retryable_codes: vec![codes::RATE_LIMITED.into()],
        ..RetryPolicy::default()
    };
    let err = ActivityError::retryable(codes::RATE_LIMITED, "slow down");
    assert_eq!(
        policy.next_retry(1, &err),
        RetryDecision::GiveUp(GiveUpReason::NonRetryableCode {
            code: codes::RATE_LIMITED.into()
        })
    );
    assert_eq!(policy.next_retry(1, &network()), secs(1));
}

#[test]
fn a_retry_after_hint_lengthens_the_wait_within_the_cap() {
    let policy = RetryPolicy::default();
    let hinted = |s: u64| {
        ActivityError::retryable(codes::RATE_LIMITED, "429")
            .with_details(json!({ "status": 429, "retry_after_secs": s }))
    };
    assert_eq!(policy.next_retry(1, &hinted(7)), secs(7));
    assert_eq!(policy.next_retry(5, &hinted(7)), secs(16));
    assert_eq!(policy.next_retry(1, &hinted(3_600)), secs(300));
}

#[test]
fn a_policy_travels_with_its_task_as_json() {
    let policy = RetryPolicy {
        initial_interval: Duration::from_millis(250),
        non_retryable_codes: vec!["http_4xx".into()],
        ..RetryPolicy::default()
    };
    let stored = serde_json::to_value(&policy).expect("serializes");
    assert_eq!(
        stored,
        json!({ "initial_interval": "250ms", "backoff_coefficient": 2.0,
                "maximum_interval": "5m", "maximum_attempts": 10,
                "non_retryable_codes": ["http_4xx"] })
    );
    let back: RetryPolicy = serde_json::from_value(stored).expect("deserializes");
    assert_eq!(back, policy);

    // Missing fields take the defaults.
    let partial: RetryPolicy =
        serde_json::from_value(json!({ "maximum_attempts": 3 })).expect("partial");
    assert_eq!(
        partial,
        RetryPolicy {
            maximum_attempts: 3,
            ..RetryPolicy::default()
        }
    );
    let err = serde_json::from_value::<RetryPolicy>(json!({ "initial_interval": "soon" }))
        .expect_err("not a duration");
    assert!(err.to_string().contains("is not a duration"), "{err}");
}

#[test]
fn a_policy_that_cannot_work_is_refused() {
    for policy in [
        RetryPolicy {
            initial_interval: Duration::ZERO,
            ..RetryPolicy::default()
        },
        RetryPolicy {
            backoff_coefficient: 0.5,
            ..RetryPolicy::default()
        },
        RetryPolicy {
            backoff_coefficient: f64::NAN,
            ..RetryPolicy::default()
        },
        RetryPolicy {
            maximum_interval: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    ] {
        assert!(policy.validate().is_err(), "{policy:?}");
    }
}
