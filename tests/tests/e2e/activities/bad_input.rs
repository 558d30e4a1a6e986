//! Every invalid worker or operator request is refused with its code, naming the field, and
//! changes nothing.

use aijia_proto::v1 as pb;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use aijia_tests::requests::{operator, unique};
use aijia_tests::{TestDb, expect_status, on_both_stores};
use tonic::Code;

use super::support::{CONFIRM, Worker, case_with_task, only_task, secs, spawn, tasks_client};

fn poll(types: &[&str]) -> pb::PollActivityTaskRequest {
    pb::PollActivityTaskRequest {
        worker_id: "w".into(),
        task_queue: String::new(),
        activity_types: types.iter().map(|t| (*t).to_owned()).collect(),
        wait: Some(secs(0)),
        lease: None,
    }
}

async fn invalid_worker_requests_are_refused_naming_the_field(db: TestDb) {
    let app = spawn(&db).await;
    let (case, _) = case_with_task(&app).await;
    let mut client = WorkerServiceClient::new(app.channel.clone());

    let invalid_polls: Vec<(pb::PollActivityTaskRequest, &[&str])> = vec![
        (poll(&[]), &["activity_types", "at least one"]),
        (poll(&[" "]), &["activity_types"]),
        (
            pb::PollActivityTaskRequest {
                worker_id: String::new(),
                ..poll(&[CONFIRM])
            },
            &["worker_id"],
        ),
        (
            pb::PollActivityTaskRequest {
                wait: Some(secs(120)),
                ..poll(&[CONFIRM])
            },
            &["wait", "60s"],
        ),
        (
            pb::PollActivityTaskRequest {
                wait: Some(secs(-1)),
                ..poll(&[CONFIRM])
            },
            &["wait"],
        ),
        (
            pb::PollActivityTaskRequest {
                lease: Some(secs(0)),
                ..poll(&[CONFIRM])
            },
            &["lease"],
        ),
    ];
    for (req, needles) in invalid_polls {
        expect_status(
            client.poll_activity_task(req).await,
            Code::InvalidArgument,
            needles,
        );
    }

    for token in ["", "nonsense", "tt1.x.1", "tt1.5", "tt1.0.1", "tt1.5.-1"] {
        expect_status(
            client
                .complete_activity_task(pb::CompleteActivityTaskRequest {
                    task_token: token.into(),
                    output_json: "{}".into(),
                })
                .await,
            Code::InvalidArgument,
            &["task_token"],
        );
        expect_status(
            client
                .heartbeat_activity_task(pb::HeartbeatActivityTaskRequest {
                    task_token: token.into(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            &["task_token"],
        );
    }
    let unknown = "tt1.987654.1";
    expect_status(
        client
            .complete_activity_task(pb::CompleteActivityTaskRequest {
                task_token: unknown.into(),
                output_json: "{}".into(),
            })
            .await,
        Code::NotFound,
        &["task 987654"],
    );
    expect_status(
        client
            .fail_activity_task(pb::FailActivityTaskRequest {
                task_token: unknown.into(),
                code: "x".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &["task 987654"],
    );
    expect_status(
        client
            .heartbeat_activity_task(pb::HeartbeatActivityTaskRequest {
                task_token: unknown.into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &["task 987654"],
    );

    // A real token with a bad body.
    let worker = Worker::new(app.channel.clone(), "w");
    let claimed = worker.take(CONFIRM).await;
    expect_status(
        client
            .complete_activity_task(pb::CompleteActivityTaskRequest {
                task_token: claimed.task_token.clone(),
                output_json: "{not json".into(),
            })
            .await,
        Code::InvalidArgument,
        &["output_json", "not JSON"],
    );
    expect_status(
        client
            .complete_activity_task(pb::CompleteActivityTaskRequest {
                task_token: claimed.task_token.clone(),
                output_json: format!("\"{}\"", "x".repeat(2 << 20)),
            })
            .await,
        Code::InvalidArgument,
        &["output_json", "bytes"],
    );
    expect_status(
        client
            .fail_activity_task(pb::FailActivityTaskRequest {
                task_token: claimed.task_token.clone(),
                retryable: true,
                code: String::new(),
                message: "m".into(),
                details_json: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["code"],
    );
    expect_status(
        client
            .fail_activity_task(pb::FailActivityTaskRequest {
                task_token: claimed.task_token.clone(),
                retryable: true,
                code: "timeout".into(),
                message: "m".into(),
                details_json: "[".into(),
            })
            .await,
        Code::InvalidArgument,
        &["details_json"],
    );
    // Nothing of that was applied: the task still runs at attempt 1, the case did not move.
    let task = only_task(&app, &case.id).await;
    assert_eq!((task.state.as_str(), task.attempts), ("running", 1));
    assert!(task.last_error.is_none());
    assert_eq!(app.get(&case.id).await.version, case.version);
    app.stop().await;
}
on_both_stores!(invalid_worker_requests_are_refused_naming_the_field);

async fn invalid_operator_requests_are_refused_naming_the_field(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    let mut client = tasks_client(&app);
    let list = |f: fn(&mut pb::ListTasksRequest)| {
        let mut req = pb::ListTasksRequest::default();
        f(&mut req);
        req
    };
    let invalid: Vec<(pb::ListTasksRequest, &[&str])> = vec![
        (list(|r| r.state = "done".into()), &["state", "pending"]),
        (list(|r| r.case_id = "nope".into()), &["case_id"]),
        (list(|r| r.page_size = 501), &["page_size", "500"]),
        (list(|r| r.page_token = "x".into()), &["page_token"]),
    ];
    for (req, needles) in invalid {
        expect_status(client.list_tasks(req).await, Code::InvalidArgument, needles);
    }
    expect_status(
        client.get_task(pb::GetTaskRequest { task_id: 0 }).await,
        Code::InvalidArgument,
        &["task_id"],
    );
    expect_status(
        client
            .get_task(pb::GetTaskRequest { task_id: 987_654 })
            .await,
        Code::NotFound,
        &["task 987654"],
    );
    let retry = |task_id: i64, request_id: &str, actor: Option<pb::Actor>| pb::RetryTaskRequest {
        request_id: request_id.to_owned(),
        task_id,
        actor,
    };
    let rid = unique("retry");
    for (req, needles) in [
        (retry(task.id, "", Some(operator())), &["request_id"][..]),
        (retry(-3, &rid, Some(operator())), &["task_id"][..]),
        (retry(task.id, &rid, None), &["actor"][..]),
    ] {
        expect_status(client.retry_task(req).await, Code::InvalidArgument, needles);
    }
    expect_status(
        client
            .cancel_task(pb::CancelTaskRequest {
                request_id: unique("c"),
                task_id: task.id,
                reason: " ".into(),
                actor: Some(operator()),
            })
            .await,
        Code::InvalidArgument,
        &["reason"],
    );
    assert_eq!(only_task(&app, &case.id).await.state, "pending");
    assert_eq!(app.get(&case.id).await.version, case.version);
    app.stop().await;
}
on_both_stores!(invalid_operator_requests_are_refused_naming_the_field);
