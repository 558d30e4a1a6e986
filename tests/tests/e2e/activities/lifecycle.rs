//! A task's life: claimed once per attempt, its result applied to its case once; a worker that
//! goes silent loses its lease to another; duplicate and late outcomes change nothing; a
//! cancelled case cancels its tasks.

use aijia_activities::RetryPolicy;
use aijia_tests::requests;
use aijia_tests::{TestDb, on_both_stores};
use chrono::TimeDelta;
use serde_json::json;

use super::support::{CONFIRM, Worker, case_with_task, completions, events_of, only_task, spawn};

async fn completed_task_reaches_its_case_once(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    assert_eq!(task.attempts, 0);
    assert_eq!(
        serde_json::from_str::<RetryPolicy>(&task.retry_policy_json).unwrap(),
        RetryPolicy::default(),
        "a task carries the default retry policy unless told otherwise"
    );
    assert_eq!(
        task.idempotency_key,
        format!("{}:{}:0:{CONFIRM}", case.id, case.version)
    );

    let worker = Worker::new(app.channel.clone(), "w-1");
    let claimed = worker.take(CONFIRM).await;
    assert_eq!(claimed.task_id, task.id);
    assert_eq!(claimed.case_id, case.id);
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.idempotency_key, task.idempotency_key);
    let input: serde_json::Value = serde_json::from_str(&claimed.input_json).unwrap();
    assert_eq!(input, json!({"items": ["invoice"]}));
    assert!(
        worker.poll_now(CONFIRM).await.is_none(),
        "a running task is claimed by one worker only"
    );
    let running = only_task(&app, &case.id).await;
    assert_eq!(running.state, "running");
    assert_eq!(running.lease_owner, "w-1");

    let output = json!({"target": "customer", "receipt": {"adapter": "record", "id": "r-1"}});
    let done = worker.complete(&claimed.task_token, &output).await;
    assert!(done.applied && !done.duplicate, "{done:?}");

    let after = app.get(&case.id).await;
    assert_eq!(after.version, case.version + 1, "one event: the completion");
    assert_eq!(
        after.state, "received",
        "a result is evidence; the state stays"
    );
    let history = app.history(&case.id).await;
    let last = history.last().unwrap();
    assert_eq!(last.event_type, "activity_completed");
    assert_eq!(last.request_id, format!("task:{}:done", task.id));
    assert_eq!(last.actor.as_ref().unwrap().id, "worker:w-1");
    let payload: serde_json::Value = serde_json::from_str(&last.payload_json).unwrap();
    assert_eq!(payload["output"], output);
    assert_eq!(payload["task_id"], json!(task.id));
    assert!(
        last.effects_json.contains("activity_completed"),
        "{}",
        last.effects_json
    );

    let finished = only_task(&app, &case.id).await;
    assert_eq!(finished.state, "completed");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&finished.result_json).unwrap(),
        output
    );
    assert!(finished.completed_at.is_some());

    // The same completion again: the first answer, nothing new.
    let again = worker.complete(&claimed.task_token, &output).await;
    assert!(again.applied && again.duplicate, "{again:?}");
    assert_eq!(completions(&app, &case.id).await.len(), 1);
    assert_eq!(app.get(&case.id).await.version, after.version);
    assert!(
        worker.poll_now(CONFIRM).await.is_none(),
        "a completed task never runs again"
    );
    assert!(app.replay(&case.id).await.matches, "the completion replays");
    app.stop().await;
}
on_both_stores!(completed_task_reaches_its_case_once);

async fn silent_worker_loses_its_lease_and_another_finishes(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    let silent = Worker::new(app.channel.clone(), "silent");
    let other = Worker::new(app.channel.clone(), "other");

    let first = silent
        .try_poll(CONFIRM, std::time::Duration::ZERO, 5)
        .await
        .unwrap()
        .expect("a task");
    // The lease holds until it runs out…
    app.clock.advance(TimeDelta::seconds(4));
    assert!(
        other.poll_now(CONFIRM).await.is_none(),
        "the lease still holds"
    );
    // …and then the task can be claimed again, as attempt 2.
    app.clock.advance(TimeDelta::seconds(2));
    let second = other.take(CONFIRM).await;
    assert_eq!(second.task_id, task.id);
    assert_eq!(second.attempt, 2);
    assert_ne!(second.task_token, first.task_token);
    let row = only_task(&app, &case.id).await;
    assert_eq!(row.lease_owner, "other");
    let last_error = row.last_error.expect("the lost lease is the last error");
    assert_eq!(last_error.code, "lease_expired");
    assert!(
        last_error.message.contains("silent"),
        "{}",
        last_error.message
    );

    // The silent worker wakes up: its heartbeat says stop, its outcomes change nothing.
    let beat = silent.heartbeat(&first.task_token).await;
    assert!(
        beat.cancel_requested && beat.lease_expires_at.is_none(),
        "{beat:?}"
    );
    let late = silent
        .complete(&first.task_token, &json!({"late": true}))
        .await;
    assert!(!late.applied, "{late:?}");
    let late_failure = silent
        .fail(&first.task_token, true, "timeout", "slow")
        .await;
    assert!(
        !late_failure.applied && !late_failure.will_retry,
        "{late_failure:?}"
    );

    let done = other
        .complete(&second.task_token, &json!({"ok": true}))
        .await;
    assert!(done.applied);
    // And after the task completed, the silent worker's result is still a no-op.
    let later = silent
        .complete(&first.task_token, &json!({"late": true}))
        .await;
    assert!(!later.applied && !later.duplicate, "{later:?}");
    let applied = completions(&app, &case.id).await;
    assert_eq!(applied.len(), 1, "exactly one result applied: {applied:?}");
    assert_eq!(applied[0].1["output"], json!({"ok": true}));
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
on_both_stores!(silent_worker_loses_its_lease_and_another_finishes);

async fn heartbeats_keep_the_lease(db: TestDb) {
    let app = spawn(&db).await;
    let (case, _) = case_with_task(&app).await;
    let worker = Worker::new(app.channel.clone(), "steady");
    let other = Worker::new(app.channel.clone(), "other");
    let claimed = worker.take(CONFIRM).await;
    for _ in 0..3 {
        app.clock.advance(TimeDelta::seconds(8));
        let beat = worker.heartbeat(&claimed.task_token).await;
        assert!(!beat.cancel_requested, "{beat:?}");
        assert!(beat.lease_expires_at.is_some());
        assert!(
            other.poll_now(CONFIRM).await.is_none(),
            "the lease was extended"
        );
    }
    let row = only_task(&app, &case.id).await;
    assert_eq!(row.attempts, 1);
    assert!(
        worker
            .complete(&claimed.task_token, &json!(null))
            .await
            .applied
    );
    app.stop().await;
}
on_both_stores!(heartbeats_keep_the_lease);

async fn cancelling_a_case_cancels_its_tasks(db: TestDb) {
    let app = spawn(&db).await;
    let worker = Worker::new(app.channel.clone(), "w");

    // A pending task is cancelled with its case and never runs.
    let (pending_case, _) = case_with_task(&app).await;
    app.cancel(requests::cancel(&pending_case.id, "customer withdrew"))
        .await;
    let task = only_task(&app, &pending_case.id).await;
    assert_eq!(task.state, "cancelled");
    assert!(task.completed_at.is_some());
    assert!(
        worker.poll_now(CONFIRM).await.is_none(),
        "a cancelled task never runs"
    );

    // A running task is cancelled too: its worker hears so on its next heartbeat.
    let (running_case, running_task) = case_with_task(&app).await;
    let claimed = worker.take(CONFIRM).await;
    assert_eq!(claimed.task_id, running_task.id);
    app.cancel(requests::cancel(&running_case.id, "duplicate case"))
        .await;
    assert_eq!(only_task(&app, &running_case.id).await.state, "cancelled");
    let beat = worker.heartbeat(&claimed.task_token).await;
    assert!(beat.cancel_requested, "{beat:?}");
    // If the work was done all the same, its result is still evidence on the cancelled case.
    let done = worker
        .complete(&claimed.task_token, &json!({"sent": true}))
        .await;
    assert!(done.applied, "{done:?}");
    let after = app.get(&running_case.id).await;
    assert_eq!(after.state, "cancelled");
    assert_eq!(
        events_of(&app, &running_case.id, "activity_completed")
            .await
            .len(),
        1
    );
    assert!(app.replay(&running_case.id).await.matches);
    app.stop().await;
}
on_both_stores!(cancelling_a_case_cancels_its_tasks);
