//! A remote worker (here a task of the test, speaking only WorkerService over loopback gRPC
//! and running `aijia_activities::Registry`) serves an activity type end to end, while the
//! server's own workers serve the others. And a worker polling one node is woken by a task
//! enqueued through another node of the same PostgreSQL (LISTEN/NOTIFY).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aijia_activities::{ActivityContext, Adapters, Registry};
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestDb, on_both_stores, on_postgres};
use serde_json::Value;
use tokio::task::JoinHandle;

use super::support::{CONFIRM, Worker, completions, eventually, only_task, spawn_with};

/// Runs `activity` from `registry` for every task `worker` gets, until `stop`.
fn serve(
    worker: Worker,
    registry: Registry,
    activity: &'static str,
    stop: Arc<AtomicBool>,
) -> JoinHandle<u32> {
    tokio::spawn(async move {
        let mut served = 0;
        while !stop.load(Ordering::SeqCst) {
            let Some(task) = worker
                .try_poll(activity, Duration::from_millis(500), 30)
                .await
                .expect("PollActivityTask")
            else {
                continue;
            };
            let ctx = ActivityContext {
                case_id: task.case_id.clone(),
                task_id: task.task_id,
                attempt: task.attempt,
                idempotency_key: task.idempotency_key.clone(),
            };
            let input: Value = serde_json::from_str(&task.input_json).expect("input is JSON");
            match registry.run(&task.activity, &ctx, input).await {
                Ok(output) => assert!(worker.complete(&task.task_token, &output).await.applied),
                Err(e) => {
                    worker
                        .fail(&task.task_token, e.is_retryable(), &e.code, &e.message)
                        .await;
                }
            }
            served += 1;
        }
        served
    })
}

async fn remote_worker_serves_an_activity_type(db: TestDb) {
    let app = spawn_with(&db, |c| {
        c.workers.concurrency = 4;
        c.workers.remote_only = vec![CONFIRM.to_owned()];
        c.workers.poll_interval = Duration::from_secs(30);
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let remote = serve(
        Worker::new(app.channel.clone(), "remote-1"),
        Registry::builtin(Adapters::default()),
        CONFIRM,
        Arc::clone(&stop),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut cases = Vec::new();
    for _ in 0..3 {
        let case = app
            .open(requests::start("material_collection").attr("materials", "invoice,photo"))
            .await;
        app.send(&case.id, ev::material_provided(&["invoice", "photo"], ""))
            .await;
        cases.push(case.id);
    }
    let started = Instant::now();
    for case_id in &cases {
        let done = eventually(Duration::from_secs(10), "the remote worker", || async {
            let done = completions(&app, case_id).await;
            (!done.is_empty()).then_some(done)
        })
        .await;
        assert_eq!(done.len(), 1);
        let output = &done[0].1["output"];
        assert_eq!(output["receipt"]["adapter"], "record", "{output}");
        let task = only_task(&app, case_id).await;
        assert_eq!(task.state, "completed");
        assert_eq!(
            task.lease_owner, "remote-1",
            "the server's own workers left it alone"
        );
        let history = app.history(case_id).await;
        assert_eq!(
            history.last().unwrap().actor.as_ref().unwrap().id,
            "worker:remote-1"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a polling worker is woken by new tasks: {:?}",
        started.elapsed()
    );
    stop.store(true, Ordering::SeqCst);
    assert_eq!(remote.await.unwrap(), 3);
    app.stop().await;
}
on_both_stores!(remote_worker_serves_an_activity_type);

async fn tasks_enqueued_on_one_node_wake_workers_polling_another(db: TestDb) {
    let quiet = |c: &mut aijia_orchestrator::server::ServerConfig| {
        c.workers.poll_interval = Duration::from_secs(30);
    };
    let node_a = spawn_with(&db, quiet).await;
    let node_b = spawn_with(&db, quiet).await;
    let worker = Worker::new(node_b.channel.clone(), "on-b");
    let polling = tokio::spawn(async move {
        let started = Instant::now();
        let task = worker
            .try_poll(CONFIRM, Duration::from_secs(20), 30)
            .await
            .expect("PollActivityTask");
        (task, started.elapsed(), worker)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let case = node_a
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    node_a
        .send(&case.id, ev::material_provided(&["invoice"], ""))
        .await;
    let (task, waited, worker) = polling.await.unwrap();
    let task = task.expect("node B's poll got the task node A enqueued");
    assert_eq!(task.case_id, case.id);
    assert!(
        waited < Duration::from_secs(5),
        "woken by NOTIFY, not by the 30 s fallback: {waited:?}"
    );
    assert!(
        worker
            .complete(&task.task_token, &Value::Null)
            .await
            .applied
    );
    assert_eq!(completions(&node_a, &case.id).await.len(), 1);
    node_b.stop().await;
    node_a.stop().await;
}
on_postgres!(tasks_enqueued_on_one_node_wake_workers_polling_another);
