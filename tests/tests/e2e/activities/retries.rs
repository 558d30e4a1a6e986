//! Retries follow the task's own policy, on the server's (manual) clock: backoff between
//! attempts, a limit on attempts, non-retryable errors, and a last lease that runs out.

use std::time::Duration;

use aijia_activities::{ActivityError, RetryDecision, RetryPolicy};
use aijia_tests::{Backend, TestApp, TestDb, on_both_stores};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::support::{CONFIRM, Worker, case_with_task, eventually, only_task, spawn, spawn_with};

fn time(t: &prost_types::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

async fn attempts_back_off_per_policy_until_they_run_out(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let policy = RetryPolicy::default();
    let error = ActivityError::retryable("http_5xx", "the back office answered 503");

    for attempt in 1..=policy.maximum_attempts {
        let claimed = worker.take(CONFIRM).await;
        assert_eq!(claimed.task_id, task.id);
        assert_eq!(claimed.attempt, attempt, "one claim per attempt");
        let now = app.clock_now();
        let failed = worker
            .fail(
                &claimed.task_token,
                true,
                "http_5xx",
                "the back office answered 503",
            )
            .await;
        assert!(failed.applied);
        match policy.next_retry(attempt, &error) {
            RetryDecision::RetryAfter(wait) => {
                assert!(failed.will_retry, "attempt {attempt}: {failed:?}");
                let next = time(failed.next_attempt_at.as_ref().unwrap());
                assert_eq!(
                    next - now,
                    TimeDelta::from_std(wait).unwrap(),
                    "attempt {attempt}"
                );
                let row = only_task(&app, &case.id).await;
                assert_eq!(row.state, "pending");
                assert_eq!(row.last_error.as_ref().unwrap().code, "http_5xx");
                assert_eq!(row.last_error.as_ref().unwrap().attempt, attempt);
                // Not a moment before the backoff is over.
                app.clock
                    .advance(TimeDelta::from_std(wait).unwrap() - TimeDelta::milliseconds(1));
                assert!(
                    worker.poll_now(CONFIRM).await.is_none(),
                    "attempt {attempt} came early"
                );
                app.clock.advance(TimeDelta::milliseconds(1));
            }
            RetryDecision::GiveUp(_) => {
                assert_eq!(attempt, policy.maximum_attempts);
                assert!(!failed.will_retry, "{failed:?}");
                assert!(failed.next_attempt_at.is_none());
            }
        }
    }
    let row = only_task(&app, &case.id).await;
    assert_eq!(row.state, "failed");
    assert_eq!(row.attempts, policy.maximum_attempts);
    assert!(
        worker.poll_now(CONFIRM).await.is_none(),
        "a failed task stays failed"
    );
    let after = app.get(&case.id).await;
    assert_eq!(after.attention.len(), 1, "{after:#?}");
    assert_eq!(after.attention[0].code, "http_5xx");
    assert!(
        after.attention[0]
            .message
            .contains("all 10 attempts failed"),
        "{}",
        after.attention[0].message
    );
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
on_both_stores!(attempts_back_off_per_policy_until_they_run_out);

async fn a_non_retryable_error_fails_the_task_at_once(db: TestDb) {
    let app = spawn(&db).await;
    let (case, _) = case_with_task(&app).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let claimed = worker.take(CONFIRM).await;
    let failed = worker
        .fail(
            &claimed.task_token,
            false,
            "http_4xx",
            "the partner refused: 422",
        )
        .await;
    assert!(failed.applied && !failed.will_retry, "{failed:?}");
    let row = only_task(&app, &case.id).await;
    assert_eq!(row.state, "failed");
    assert_eq!(row.attempts, 1, "no second attempt");
    let last_error = row.last_error.unwrap();
    assert_eq!(last_error.code, "http_4xx");
    assert!(!last_error.retryable);
    assert_eq!(last_error.details_json, r#"{"status":503}"#);
    app.clock.advance(TimeDelta::hours(1));
    assert!(worker.poll_now(CONFIRM).await.is_none());
    let after = app.get(&case.id).await;
    assert_eq!(after.attention[0].code, "http_4xx");
    assert!(
        after.attention[0]
            .message
            .contains("the partner refused: 422")
    );
    app.stop().await;
}
on_both_stores!(a_non_retryable_error_fails_the_task_at_once);

/// Gives the task a policy of its own (each task carries one), directly in the database.
async fn set_policy(db: &TestDb, task_id: i64, policy: &str) {
    match db.backend() {
        Backend::Postgres => {
            let mut conn = db.pg().await;
            sqlx::query("UPDATE activity_tasks SET retry_policy = $1::jsonb WHERE id = $2")
                .bind(policy)
                .bind(task_id)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Sqlite => {
            let mut conn = db.sqlite_conn().await;
            sqlx::query("UPDATE activity_tasks SET retry_policy = ?1 WHERE id = ?2")
                .bind(policy)
                .bind(task_id)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

async fn sweeping_app(db: &TestDb) -> TestApp {
    spawn_with(db, |c| c.workers.sweep_interval = Duration::from_millis(50)).await
}

async fn a_task_policy_of_its_own_is_followed(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    set_policy(
        &db,
        task.id,
        r#"{"initial_interval":"10s","backoff_coefficient":3.0,"maximum_interval":"1m","maximum_attempts":3,"non_retryable_codes":["not_authorized"]}"#,
    )
    .await;
    let worker = Worker::new(app.channel.clone(), "w");
    let first = worker.take(CONFIRM).await;
    let failed = worker
        .fail(&first.task_token, true, "timeout", "slow")
        .await;
    assert_eq!(
        time(failed.next_attempt_at.as_ref().unwrap()) - app.clock_now(),
        TimeDelta::seconds(10)
    );
    app.clock.advance(TimeDelta::seconds(10));
    let second = worker.take(CONFIRM).await;
    let failed = worker
        .fail(&second.task_token, true, "timeout", "slow")
        .await;
    assert_eq!(
        time(failed.next_attempt_at.as_ref().unwrap()) - app.clock_now(),
        TimeDelta::seconds(30)
    );
    app.clock.advance(TimeDelta::seconds(30));
    let third = worker.take(CONFIRM).await;
    // A code the policy lists is final even when the worker calls it retryable.
    let failed = worker
        .fail(&third.task_token, true, "not_authorized", "refused")
        .await;
    assert!(!failed.will_retry);
    assert_eq!(only_task(&app, &case.id).await.state, "failed");
    assert!(
        app.get(&case.id).await.attention[0]
            .message
            .contains("non-retryable by the task's retry policy")
    );
    app.stop().await;
}
on_both_stores!(a_task_policy_of_its_own_is_followed);

async fn a_last_lease_that_runs_out_fails_the_task(db: TestDb) {
    let app = sweeping_app(&db).await;
    let (case, task) = case_with_task(&app).await;
    set_policy(&db, task.id, r#"{"maximum_attempts":2}"#).await;
    let worker = Worker::new(app.channel.clone(), "vanishing");
    let first = worker
        .try_poll(CONFIRM, Duration::ZERO, 5)
        .await
        .unwrap()
        .expect("attempt 1");
    assert_eq!(first.attempt, 1);
    app.clock.advance(TimeDelta::seconds(6));
    // With an attempt left, the sweeper leaves it to be claimed again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(only_task(&app, &case.id).await.state, "running");
    let second = worker
        .try_poll(CONFIRM, Duration::ZERO, 5)
        .await
        .unwrap()
        .expect("attempt 2");
    assert_eq!(second.attempt, 2);
    app.clock.advance(TimeDelta::seconds(6));
    // The last lease ran out: the sweeper fails the task for good.
    let row = eventually(Duration::from_secs(10), "the task to fail", || async {
        let row = only_task(&app, &case.id).await;
        (row.state == "failed").then_some(row)
    })
    .await;
    assert_eq!(row.last_error.unwrap().code, "lease_expired");
    let after = app.get(&case.id).await;
    assert_eq!(after.attention.len(), 1);
    assert_eq!(after.attention[0].code, "lease_expired");
    assert!(worker.poll_now(CONFIRM).await.is_none());
    // The work got done after all: the last claim's result still stands, and the case no
    // longer needs an operator. An earlier claim's result does not.
    let stale = worker
        .complete(&first.task_token, &json!({"from": 1}))
        .await;
    assert!(!stale.applied);
    let late = worker
        .complete(&second.task_token, &json!({"from": 2}))
        .await;
    assert!(late.applied, "{late:?}");
    assert_eq!(only_task(&app, &case.id).await.state, "completed");
    assert!(app.get(&case.id).await.attention.is_empty());
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
on_both_stores!(a_last_lease_that_runs_out_fails_the_task);

/// The server's time, to the microsecond.
trait ClockNow {
    fn clock_now(&self) -> DateTime<Utc>;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> DateTime<Utc> {
        use aijia_orchestrator::clock::Clock;
        self.clock.now()
    }
}
