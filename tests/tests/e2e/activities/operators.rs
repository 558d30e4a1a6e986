//! A poison task makes its case visible to operators (ListCases `needs_operator`, GetCase
//! `attention` with the last error); RetryTask brings it back, CancelTask drops it.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, operator, unique};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores};
use serde_json::json;
use tonic::Code;

use super::support::{CONFIRM, Worker, case_with_task, events_of, only_task, spawn, tasks_client};

/// Fails the case's task for good (non-retryable) and returns its id.
async fn poison(app: &TestApp, worker: &Worker) -> (pb::Case, i64, String) {
    let (case, task) = case_with_task(app).await;
    let claimed = worker.take(CONFIRM).await;
    assert_eq!(claimed.task_id, task.id);
    let failed = worker
        .fail(
            &claimed.task_token,
            false,
            "bad_reply",
            "the back office answered nonsense",
        )
        .await;
    assert!(!failed.will_retry);
    (case, task.id, claimed.task_token)
}

async fn needing(app: &TestApp) -> Vec<String> {
    app.list_all(pb::ListCasesRequest {
        needs_operator: true,
        ..Default::default()
    })
    .await
    .into_iter()
    .map(|c| c.id)
    .collect()
}

fn retry(task_id: i64, request_id: &str) -> pb::RetryTaskRequest {
    pb::RetryTaskRequest {
        request_id: request_id.to_owned(),
        task_id,
        actor: Some(operator()),
    }
}

async fn poison_task_shows_to_operators_and_retry_brings_it_back(db: TestDb) {
    let app = spawn(&db).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let (case, task_id, old_token) = poison(&app, &worker).await;
    let (healthy, _) = case_with_task(&app).await;

    // Visible: in ListCases needs_operator (only this case), in GetCase with the last error.
    assert_eq!(needing(&app).await, vec![case.id.clone()]);
    let shown = app.get(&case.id).await;
    assert_eq!(shown.attention.len(), 1);
    let attention = &shown.attention[0];
    assert_eq!(attention.task_id, task_id);
    assert_eq!(attention.activity, CONFIRM);
    assert_eq!(attention.code, "bad_reply");
    assert!(
        attention
            .message
            .contains("the back office answered nonsense")
    );
    assert!(attention.since.is_some());
    assert!(app.get(&healthy.id).await.attention.is_empty());
    let failed_tasks = tasks_client(&app)
        .list_tasks(pb::ListTasksRequest {
            state: "failed".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert_eq!(
        failed_tasks.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![task_id]
    );

    // RetryTask: pending again, a new round of attempts, the case no longer needs an operator.
    let request_id = unique("retry");
    let retried = tasks_client(&app)
        .retry_task(retry(task_id, &request_id))
        .await
        .unwrap()
        .into_inner();
    let task = retried.task.unwrap();
    assert_eq!(task.state, "pending");
    assert_eq!(task.attempts, 0);
    let change = retried.change.unwrap();
    assert!(!change.duplicate);
    assert!(change.case.unwrap().attention.is_empty());
    assert!(needing(&app).await.is_empty());
    assert_eq!(events_of(&app, &case.id, "task_retried").await.len(), 1);
    let history = app.history(&case.id).await;
    let last = history.last().unwrap();
    assert_eq!(last.request_id, request_id);
    assert_eq!(last.actor.as_ref().unwrap().role, "operator");

    // The same request again is the first answer; a retry of a task that is not failed is refused.
    let again = tasks_client(&app)
        .retry_task(retry(task_id, &request_id))
        .await
        .unwrap()
        .into_inner();
    assert!(again.change.unwrap().duplicate);
    expect_status(
        tasks_client(&app)
            .retry_task(retry(task_id, &unique("retry")))
            .await,
        Code::FailedPrecondition,
        &["is pending", "failed"],
    );

    // The new round runs from attempt 1; a token from the old round cannot settle it. (The
    // healthy case's task was enqueued after it: claims go by due time, then by id.)
    let claimed = worker.take(CONFIRM).await;
    assert_eq!(claimed.task_id, task_id);
    assert_eq!(claimed.attempt, 1);
    assert_ne!(claimed.task_token, old_token);
    let stale = worker.complete(&old_token, &json!({"stale": true})).await;
    assert!(!stale.applied);
    let done = worker
        .complete(&claimed.task_token, &json!({"ok": true}))
        .await;
    assert!(done.applied);
    assert_eq!(only_task(&app, &case.id).await.state, "completed");
    assert!(app.get(&case.id).await.attention.is_empty());
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
on_both_stores!(poison_task_shows_to_operators_and_retry_brings_it_back);

async fn cancel_task_drops_a_poison_task_or_an_unstarted_one(db: TestDb) {
    let app = spawn(&db).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let (case, task_id, _) = poison(&app, &worker).await;
    let cancel = |task_id: i64| pb::CancelTaskRequest {
        request_id: unique("cancel-task"),
        task_id,
        reason: "sent by hand".into(),
        actor: Some(operator()),
    };
    let cancelled = tasks_client(&app)
        .cancel_task(cancel(task_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.task.unwrap().state, "cancelled");
    assert!(cancelled.change.unwrap().case.unwrap().attention.is_empty());
    assert!(needing(&app).await.is_empty());
    assert_eq!(events_of(&app, &case.id, "task_cancelled").await.len(), 1);
    expect_status(
        tasks_client(&app).cancel_task(cancel(task_id)).await,
        Code::FailedPrecondition,
        &["is cancelled"],
    );

    // A pending task can be cancelled before it runs; a completed one cannot.
    let (other, pending) = case_with_task(&app).await;
    tasks_client(&app)
        .cancel_task(cancel(pending.id))
        .await
        .unwrap();
    assert!(worker.poll_now(CONFIRM).await.is_none());
    assert_eq!(only_task(&app, &other.id).await.state, "cancelled");
    let (_, done) = case_with_task(&app).await;
    let claimed = worker.take(CONFIRM).await;
    assert_eq!(claimed.task_id, done.id);
    worker.complete(&claimed.task_token, &json!(null)).await;
    expect_status(
        tasks_client(&app).cancel_task(cancel(done.id)).await,
        Code::FailedPrecondition,
        &["is completed"],
    );
    expect_status(
        tasks_client(&app).cancel_task(cancel(987_654)).await,
        Code::NotFound,
        &["task 987654"],
    );
    app.stop().await;
}
on_both_stores!(cancel_task_drops_a_poison_task_or_an_unstarted_one);

async fn list_tasks_filters_and_pages(db: TestDb) {
    let app = spawn(&db).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(case_with_task(&app).await.1.id);
    }
    let worker = Worker::new(app.channel.clone(), "w");
    let claimed = worker.take(CONFIRM).await;
    let list = |req: pb::ListTasksRequest| {
        let mut client = tasks_client(&app);
        async move { client.list_tasks(req).await.unwrap().into_inner() }
    };
    let running = list(pb::ListTasksRequest {
        state: "running".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(running.tasks.len(), 1);
    assert_eq!(running.tasks[0].id, claimed.task_id);
    let by_type = list(pb::ListTasksRequest {
        activity: CONFIRM.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_type.tasks.len(), 5);
    assert!(
        list(pb::ListTasksRequest {
            activity: "send_message".into(),
            ..Default::default()
        })
        .await
        .tasks
        .is_empty()
    );
    // Newest first, two at a time.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListTasksRequest {
            page_size: 2,
            page_token: token.clone(),
            ..Default::default()
        })
        .await;
        seen.extend(page.tasks.iter().map(|t| t.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let one = tasks_client(&app)
        .get_task(pb::GetTaskRequest { task_id: ids[0] })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(one.id, ids[0]);
    let _ = requests::operator();
    app.stop().await;
}
on_both_stores!(list_tasks_filters_and_pages);
