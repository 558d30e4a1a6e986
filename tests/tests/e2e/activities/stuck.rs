//! Operators can see what is stuck and why: GetCase lists a case's open drafts and unfinished
//! tasks with why each waits, a task nobody polls for says so, a task no worker starts within
//! its type's schedule_to_start_timeout fails into the case's attention, and ListWorkers (and
//! `aijia worker list`) shows who polls for what.

use std::time::Duration;

use aijia_activities::TaskPolicy;
use aijia_orchestrator::clock::Clock;
use aijia_orchestrator::server::ServerConfig;
use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use aijia_tests::requests::{actor, operator, unique};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores};
use chrono::TimeDelta;
use tonic::Code;

use super::support::{
    CONFIRM, Worker, case_with_task, eventually, secs, spawn, spawn_with, tasks_client,
};

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");

async fn submit_draft(app: &TestApp, case_id: &str) -> pb::Draft {
    ReviewServiceClient::new(app.channel.clone())
        .submit_draft(pb::SubmitDraftRequest {
            request_id: unique("draft"),
            case_id: case_id.to_owned(),
            text: "Our opening hours are 9:00 to 18:00, Monday to Saturday.".to_owned(),
            audience: "customer_private".to_owned(),
            action_type: "standard_faq".to_owned(),
            author: Some(actor("reception", "agent-1")),
            flags: None,
        })
        .await
        .expect("SubmitDraft")
        .into_inner()
        .draft
        .expect("a draft")
}

async fn set_mode(app: &TestApp, action_type: &str, mode: &str) {
    AutomationServiceClient::new(app.channel.clone())
        .set_action_mode(pb::SetActionModeRequest {
            request_id: unique("mode"),
            action_type: action_type.to_owned(),
            mode: mode.to_owned(),
            actor: Some(operator()),
            reason: "this test holds a draft".to_owned(),
            force: true,
        })
        .await
        .expect("SetActionMode");
}

fn the_task(case: &pb::Case) -> &pb::PendingTask {
    assert_eq!(case.pending_tasks.len(), 1, "{:#?}", case.pending_tasks);
    &case.pending_tasks[0]
}

async fn list_workers(
    app: &TestApp,
    seen_within: Option<prost_types::Duration>,
) -> Result<Vec<pb::WorkerInfo>, tonic::Status> {
    WorkerServiceClient::new(app.channel.clone())
        .list_workers(pb::ListWorkersRequest { seen_within })
        .await
        .map(|r| r.into_inner().workers)
}

/// Runs the real `aijia` binary against the test's server and returns its standard output.
async fn cli(app: &TestApp, args: &[&str]) -> String {
    let mut command = std::process::Command::new(BINARY);
    command
        .args(args)
        .args(["--server", &format!("http://{}", app.addr)]);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the CLI ran")
        .expect("the CLI started");
    assert!(
        out.status.success(),
        "aijia {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

on_both_stores!(get_case_shows_open_drafts_and_pending_tasks_with_why_each_waits);
async fn get_case_shows_open_drafts_and_pending_tasks_with_why_each_waits(db: TestDb) {
    let app = spawn(&db).await;
    let (case, task) = case_with_task(&app).await;
    let queued = submit_draft(&app, &case.id).await;
    set_mode(&app, "standard_faq", "off").await;
    let held = submit_draft(&app, &case.id).await;

    let case = app.get(&case.id).await;
    let drafts = &case.pending_drafts;
    assert_eq!(drafts.len(), 2, "{drafts:#?}");
    let (first, second) = (&drafts[0], &drafts[1]);
    assert_eq!(first.number, queued.number);
    assert_eq!(first.status, "pending_review");
    assert_eq!(first.action_type, "standard_faq");
    assert_eq!(first.route_reason, "mode_review");
    assert_eq!(first.assignee, "", "nobody was assigned");
    assert!(first.since.is_some());
    for needle in [
        "pending review since",
        "unassigned",
        "standard_faq is in review mode",
    ] {
        assert!(first.why.contains(needle), "{needle:?} in {:?}", first.why);
    }
    assert_eq!(second.number, held.number);
    assert_eq!(second.status, "held");
    assert_eq!(second.route_reason, "mode_off");
    assert!(
        second.why.starts_with("held since") && second.why.contains("standard_faq is off"),
        "{:?}",
        second.why
    );

    let pending = the_task(&case);
    assert_eq!(pending.task_id, task.id);
    assert_eq!(pending.activity, CONFIRM);
    assert_eq!(pending.task_queue, "default");
    assert_eq!(pending.state, "pending");
    assert_eq!((pending.attempts, pending.max_attempts), (0, 10));
    assert_eq!(pending.due_at, task.run_at);
    assert!(pending.last_poll_at.is_none());
    assert!(
        pending.why.starts_with("attempt 1 of 10 due since")
            && pending
                .why
                .ends_with("no worker has polled for confirm_material_received on default ever"),
        "{:?}",
        pending.why
    );

    let listed = app
        .list(pb::ListCasesRequest::default())
        .await
        .cases
        .remove(0);
    assert!(
        listed.pending_drafts.is_empty() && listed.pending_tasks.is_empty(),
        "ListCases does not pay for them"
    );
    app.stop().await;
}

on_both_stores!(a_task_nobody_polls_for_says_so_and_a_poll_changes_the_reason);
async fn a_task_nobody_polls_for_says_so_and_a_poll_changes_the_reason(db: TestDb) {
    let app = spawn_with(&db, |c| {
        c.workers.sweep_interval = Duration::from_millis(20)
    })
    .await;
    let (first, _) = case_with_task(&app).await;
    let why = the_task(&app.get(&first.id).await).why.clone();
    assert!(
        why.contains("no worker has polled for confirm_material_received on default ever"),
        "{why}"
    );

    // A worker for another queue does not serve this one.
    let worker = Worker::new(app.channel.clone(), "w-1");
    let other = worker
        .try_poll_queue("elsewhere", CONFIRM, Duration::ZERO, 10)
        .await
        .expect("PollActivityTask");
    assert!(other.is_none());
    let why = the_task(&app.get(&first.id).await).why.clone();
    assert!(why.ends_with("on default ever"), "{why}");

    let polled_at = app.clock.now();
    let taken = worker.take(CONFIRM).await;
    let running = app.get(&first.id).await;
    let running = the_task(&running);
    assert_eq!(running.task_id, taken.task_id);
    assert_eq!(running.state, "running");
    assert_eq!(running.lease_owner, "w-1");
    assert!(
        running
            .why
            .starts_with("attempt 1 of 10 running on w-1, leased until"),
        "{:?}",
        running.why
    );

    // The worker is busy: the next task waits for a free one.
    let (second, _) = case_with_task(&app).await;
    let waiting = app.get(&second.id).await;
    let waiting = the_task(&waiting);
    assert_eq!(
        waiting.last_poll_at.as_ref().map(|t| t.seconds),
        Some(polled_at.timestamp())
    );
    assert!(
        waiting.why.contains(
            "waiting for a free worker (one polled for confirm_material_received on default at"
        ),
        "{:?}",
        waiting.why
    );

    // Two minutes without a poll: nobody serves the type any more. The task says so too.
    app.clock.advance(TimeDelta::minutes(2));
    let why = the_task(&app.get(&second.id).await).why.clone();
    let since = polled_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let unserved =
        format!("no worker has polled for confirm_material_received on default since {since}");
    assert!(why.ends_with(&unserved), "{why}");
    let task = tasks_client(&app)
        .get_task(pb::GetTaskRequest {
            task_id: waiting.task_id,
        })
        .await
        .expect("GetTask")
        .into_inner()
        .task
        .expect("a task");
    assert_eq!(task.why, why);

    // A worker not seen for a day is forgotten.
    app.clock.advance(TimeDelta::days(1));
    eventually(Duration::from_secs(10), "the sweeper to forget w-1", || {
        let app = &app;
        let id = second.id.clone();
        async move {
            let case = app.get(&id).await;
            the_task(&case)
                .why
                .ends_with("on default ever")
                .then_some(())
        }
    })
    .await;
    app.stop().await;
}

fn with_start_timeout(config: &mut ServerConfig) {
    config.workers.task_policy = TaskPolicy::parse(
        "[activities.confirm_material_received]\nschedule_to_start_timeout = \"10m\"\n",
        aijia_workflows::activity::ALL,
    )
    .expect("a valid policy");
    config.workers.sweep_interval = Duration::from_millis(20);
}

on_both_stores!(a_task_no_worker_starts_within_its_schedule_to_start_timeout_needs_an_operator);
async fn a_task_no_worker_starts_within_its_schedule_to_start_timeout_needs_an_operator(
    db: TestDb,
) {
    let app = spawn_with(&db, with_start_timeout).await;
    let (case, task) = case_with_task(&app).await;
    app.clock
        .advance(TimeDelta::minutes(10) - TimeDelta::seconds(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = app.get(&case.id).await;
    assert!(before.attention.is_empty(), "not before 10m");
    assert_eq!(the_task(&before).state, "pending");

    app.clock.advance(TimeDelta::seconds(1));
    let failed = eventually(
        Duration::from_secs(10),
        "the timeout to fail the task",
        || {
            let app = &app;
            let id = case.id.clone();
            async move { Some(app.get(&id).await).filter(|c| !c.attention.is_empty()) }
        },
    )
    .await;
    let attention = &failed.attention[0];
    assert_eq!(attention.task_id, task.id);
    assert_eq!(attention.code, "schedule_to_start_timeout");
    for needle in [
        "no worker started confirm_material_received on queue default",
        "within its schedule_to_start_timeout of 10m",
        "it waited 10m since it came due",
        "no worker has polled for confirm_material_received on default ever",
    ] {
        assert!(
            attention.message.contains(needle),
            "{needle:?} in {:?}",
            attention.message
        );
    }
    let stuck = the_task(&failed);
    assert_eq!(stuck.state, "failed");
    assert!(
        stuck
            .why
            .starts_with("failed for good after schedule_to_start_timeout"),
        "{:?}",
        stuck.why
    );
    let needs_operator = app
        .list(pb::ListCasesRequest {
            needs_operator: true,
            ..Default::default()
        })
        .await;
    assert_eq!(needs_operator.cases.len(), 1);

    // An operator's retry makes it due anew: it waits another 10m before failing again.
    tasks_client(&app)
        .retry_task(pb::RetryTaskRequest {
            request_id: unique("retry"),
            task_id: task.id,
            actor: Some(operator()),
        })
        .await
        .expect("RetryTask");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let retried = app.get(&case.id).await;
    assert!(retried.attention.is_empty(), "{:?}", retried.attention);
    assert_eq!(the_task(&retried).state, "pending");
    let history = app.history(&case.id).await;
    let failures = history
        .iter()
        .filter(|e| e.event_type == "activity_failed")
        .count();
    assert_eq!(failures, 1, "failed once, by one sweeper");
    app.stop().await;
}

on_both_stores!(list_workers_shows_in_process_and_remote_workers_and_the_cli_renders_them);
async fn list_workers_shows_in_process_and_remote_workers_and_the_cli_renders_them(db: TestDb) {
    let app = spawn_with(&db, |c| {
        c.workers.concurrency = 1;
        c.workers.remote_only = vec![CONFIRM.to_owned()];
        c.workers.poll_interval = Duration::from_millis(50);
    })
    .await;
    let remote = Worker::new(app.channel.clone(), "remote-1");
    let polled = remote
        .try_poll_queue("channels", "send_message", Duration::ZERO, 10)
        .await
        .expect("PollActivityTask");
    assert!(polled.is_none());
    let in_process = format!("in-process:{}", std::process::id());
    let workers =
        eventually(Duration::from_secs(10), "both workers", || {
            let app = &app;
            async move {
                Some(list_workers(app, None).await.expect("ListWorkers")).filter(|w| w.len() == 2)
            }
        })
        .await;
    let now = app.clock.now().timestamp();
    let local = workers
        .iter()
        .find(|w| w.worker_id == in_process)
        .unwrap_or_else(|| panic!("{in_process} in {workers:#?}"));
    assert!(local.activity_types.iter().any(|t| t == "send_message"));
    assert!(
        !local.activity_types.iter().any(|t| t == CONFIRM),
        "left to remote workers"
    );
    assert_eq!(local.task_queues, ["default"]);
    assert_eq!(local.last_poll_at.as_ref().map(|t| t.seconds), Some(now));
    let far = workers
        .iter()
        .find(|w| w.worker_id == "remote-1")
        .expect("the remote worker");
    assert_eq!(far.activity_types, ["send_message"]);
    assert_eq!(far.task_queues, ["channels"]);
    assert_eq!(far.last_poll_at.as_ref().map(|t| t.seconds), Some(now));
    assert!(!far.node.is_empty());

    let (case, _) = case_with_task(&app).await;
    let table = cli(&app, &["worker", "list"]).await;
    for needle in [
        "WORKER",
        "LAST POLL",
        "remote-1",
        "channels",
        in_process.as_str(),
    ] {
        assert!(table.contains(needle), "{needle:?} in:\n{table}");
    }
    let shown = cli(&app, &["case", "get", &case.id]).await;
    assert!(
        shown.contains("task waits")
            && shown.contains("no worker has polled for confirm_material_received on default ever"),
        "{shown}"
    );

    // Recently means 5 minutes by default: the remote worker stopped polling, the in-process
    // one goes on.
    app.clock.advance(TimeDelta::minutes(6));
    let recent = eventually(
        Duration::from_secs(10),
        "the remote worker to age out",
        || {
            let app = &app;
            async move {
                let workers = list_workers(app, None).await.expect("ListWorkers");
                (workers.len() == 1).then_some(workers)
            }
        },
    )
    .await;
    assert_eq!(recent[0].worker_id, in_process);
    let day = list_workers(&app, Some(secs(24 * 3600)))
        .await
        .expect("ListWorkers");
    assert_eq!(day.len(), 2, "both were seen within the day");
    for bad in [secs(0), secs(25 * 3600)] {
        expect_status(
            list_workers(&app, Some(bad)).await,
            Code::InvalidArgument,
            &["seen_within", "between 1s and 24h"],
        );
    }
    app.stop().await;
}
