//! The task policy a server runs with: each activity type's tasks go to the queue and follow
//! the retry policy configured for the type; a malformed policy file stops the server before
//! it serves anything.

use std::time::{Duration, Instant};

use aijia_activities::{RetryPolicy, TaskPolicy};
use aijia_orchestrator::server::ServerConfig;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestDb, on_both_stores};
use chrono::TimeDelta;

use super::support::{CONFIRM, Worker, case_with_task, completions, eventually, spawn_with};

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");

const POLICY: &str = r#"
[activities.confirm_material_received]
queue = "backoffice"
retry = { initial_interval = "5s", maximum_attempts = 2 }
"#;

fn with_policy(config: &mut ServerConfig) {
    config.workers.task_policy =
        TaskPolicy::parse(POLICY, aijia_workflows::activity::ALL).expect("a valid policy");
}

on_both_stores!(a_task_goes_to_its_type_s_queue_and_retries_by_its_type_s_policy);
async fn a_task_goes_to_its_type_s_queue_and_retries_by_its_type_s_policy(db: TestDb) {
    let app = spawn_with(&db, with_policy).await;
    let (case, task) = case_with_task(&app).await;
    assert_eq!(task.task_queue, "backoffice");
    let policy: RetryPolicy = serde_json::from_str(&task.retry_policy_json).expect("JSON");
    assert_eq!(
        policy,
        RetryPolicy {
            initial_interval: Duration::from_secs(5),
            maximum_attempts: 2,
            ..RetryPolicy::default()
        }
    );

    let worker = Worker::new(app.channel.clone(), "w");
    assert!(
        worker.poll_now(CONFIRM).await.is_none(),
        "the default queue does not have it"
    );
    let take = || async {
        worker
            .try_poll_queue("backoffice", CONFIRM, Duration::ZERO, 10)
            .await
            .expect("PollActivityTask")
    };
    let first = take().await.expect("the backoffice queue has it");
    let failed = worker
        .fail(&first.task_token, true, "http_5xx", "503")
        .await;
    assert!(failed.will_retry);
    app.clock
        .advance(TimeDelta::seconds(5) - TimeDelta::milliseconds(1));
    assert!(take().await.is_none(), "not before its own 5 s backoff");
    app.clock.advance(TimeDelta::milliseconds(1));
    let second = take().await.expect("the second attempt");
    assert_eq!(second.attempt, 2);
    let failed = worker
        .fail(&second.task_token, true, "http_5xx", "503 again")
        .await;
    assert!(!failed.will_retry, "two attempts in all: {failed:?}");
    let case = app.get(&case.id).await;
    assert_eq!(
        case.attention.len(),
        1,
        "a task that failed for good needs an operator"
    );
    app.stop().await;
}

on_both_stores!(in_process_workers_serve_the_queue_of_their_type);
async fn in_process_workers_serve_the_queue_of_their_type(db: TestDb) {
    let app = spawn_with(&db, |c| {
        with_policy(c);
        c.workers.concurrency = 2;
    })
    .await;
    let case = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    app.send(&case.id, ev::material_provided(&["invoice"], ""))
        .await;
    eventually(
        Duration::from_secs(10),
        "the confirmation to run",
        || async { (completions(&app, &case.id).await.len() == 1).then_some(()) },
    )
    .await;
    app.stop().await;
}

#[test]
fn a_malformed_task_policy_file_stops_the_server_before_it_serves() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("tasks.toml");
    std::fs::write(
        &file,
        "[activities.send_message.retry]\nbackoff_coefficient = 0.5\n",
    )
    .expect("writing the file");
    let database = format!("sqlite:{}", dir.path().join("aijia.db").display());
    let mut child = std::process::Command::new(BINARY)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
        ])
        .arg("--task-policy")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the server");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the server") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running with a malformed task policy");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("reading stderr");
    assert!(!status.success());
    assert!(
        stderr.contains("task policy, [activities.send_message]: retry: invalid retry policy"),
        "{stderr}"
    );
}
