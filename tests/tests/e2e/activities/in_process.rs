//! The server's own workers: they run the built-in activities (record adapter), are woken
//! when a transition enqueues a task, run each attempt once, and finish what they hold when
//! the server stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aijia_activities::{Activity, ActivityContext, ActivityError, Registry};
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, on_both_stores};
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::support::{CONFIRM, completions, eventually, only_task, spawn_with};

/// A server whose workers run `registry` (the built-in activities when `None`), with a
/// polling fallback far longer than any test waits: whatever runs promptly was woken.
async fn app_with_workers(db: &TestDb, registry: Option<Registry>) -> TestApp {
    spawn_with(db, move |c| {
        c.workers.concurrency = 4;
        c.workers.registry = registry;
        c.workers.poll_interval = Duration::from_secs(30);
    })
    .await
}

async fn provide_last_material(app: &TestApp) -> String {
    let case = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    app.send(&case.id, ev::material_provided(&["invoice"], ""))
        .await;
    case.id
}

async fn builtin_activities_run_in_process(db: TestDb) {
    let app = app_with_workers(&db, None).await;
    // Let the workers go idle first, so that only a wake-up can explain a prompt run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let case_id = provide_last_material(&app).await;
    let done = eventually(Duration::from_secs(10), "the task to complete", || async {
        let done = completions(&app, &case_id).await;
        (!done.is_empty()).then_some(done)
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken, not polled: {:?}",
        started.elapsed()
    );
    assert_eq!(done.len(), 1);
    let output = &done[0].1["output"];
    assert_eq!(output["target"], json!("customer"));
    assert_eq!(output["receipt"]["adapter"], json!("record"), "{output}");
    let task = only_task(&app, &case_id).await;
    assert_eq!(task.state, "completed");
    assert_eq!(task.attempts, 1);
    assert!(task.lease_owner.starts_with("in-process:"), "{task:?}");
    let history = app.history(&case_id).await;
    assert!(
        history
            .last()
            .unwrap()
            .actor
            .as_ref()
            .unwrap()
            .id
            .starts_with("worker:in-process:")
    );
    assert!(app.replay(&case_id).await.matches);
    app.stop().await;
}
on_both_stores!(builtin_activities_run_in_process);

/// Fails its first `failures` attempts (retryably), then succeeds; records every run.
struct Flaky {
    failures: u32,
    runs: Arc<Mutex<Vec<u32>>>,
    pause: Duration,
}

impl Activity for Flaky {
    const NAME: &'static str = CONFIRM;
    type Input = Value;
    type Output = Value;

    async fn run(&self, ctx: &ActivityContext, _input: Value) -> Result<Value, ActivityError> {
        self.runs.lock().unwrap().push(ctx.attempt);
        tokio::time::sleep(self.pause).await;
        if ctx.attempt <= self.failures {
            Err(ActivityError::retryable(
                "http_5xx",
                format!("attempt {} failed", ctx.attempt),
            ))
        } else {
            Ok(json!({"attempt": ctx.attempt, "key": ctx.idempotency_key}))
        }
    }
}

fn flaky(failures: u32, pause: Duration) -> (Registry, Arc<Mutex<Vec<u32>>>) {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::new();
    registry.register(Flaky {
        failures,
        runs: Arc::clone(&runs),
        pause,
    });
    (registry, runs)
}

async fn each_attempt_runs_once_and_retries_wait_for_the_clock(db: TestDb) {
    let (registry, runs) = flaky(2, Duration::ZERO);
    let app = spawn_with(&db, move |c| {
        c.workers.concurrency = 4;
        c.workers.registry = Some(registry);
        c.workers.poll_interval = Duration::from_millis(50);
    })
    .await;
    let case_id = provide_last_material(&app).await;
    for (attempt, backoff) in [(1, 1), (2, 2)] {
        let task = eventually(Duration::from_secs(10), "a failed attempt", || async {
            let task = only_task(&app, &case_id).await;
            (task.state == "pending" && task.attempts == attempt).then_some(task)
        })
        .await;
        assert_eq!(task.last_error.unwrap().code, "http_5xx");
        // The retry waits for the server's clock, however long real time passes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(runs.lock().unwrap().len(), attempt as usize);
        app.clock.advance(TimeDelta::seconds(backoff));
    }
    let done = eventually(Duration::from_secs(10), "the third attempt", || async {
        let done = completions(&app, &case_id).await;
        (!done.is_empty()).then_some(done)
    })
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1["output"]["attempt"], json!(3));
    assert_eq!(*runs.lock().unwrap(), vec![1, 2, 3], "one run per attempt");
    assert_eq!(only_task(&app, &case_id).await.state, "completed");
    app.stop().await;
}
on_both_stores!(each_attempt_runs_once_and_retries_wait_for_the_clock);

async fn stopping_the_server_finishes_tasks_in_flight(db: TestDb) {
    let (registry, runs) = flaky(0, Duration::from_millis(500));
    let app = spawn_with(&db, move |c| {
        c.workers.concurrency = 4;
        c.workers.registry = Some(registry);
    })
    .await;
    let case_id = provide_last_material(&app).await;
    eventually(Duration::from_secs(10), "the task to start", || async {
        (!runs.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    app.stop().await;
    // A fresh server on the same database finds the task completed, its result applied.
    let app = spawn_with(&db, |_| {}).await;
    assert_eq!(only_task(&app, &case_id).await.state, "completed");
    assert_eq!(completions(&app, &case_id).await.len(), 1);
    app.stop().await;
}
on_both_stores!(stopping_the_server_finishes_tasks_in_flight);

/// Panics on its first run (a bug in an activity), then succeeds.
struct PanicsOnce {
    panicked: Arc<AtomicBool>,
}

impl Activity for PanicsOnce {
    const NAME: &'static str = CONFIRM;
    type Input = Value;
    type Output = Value;

    async fn run(&self, _ctx: &ActivityContext, _input: Value) -> Result<Value, ActivityError> {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("an activity's own bug");
        }
        Ok(json!({"ok": true}))
    }
}

async fn a_panicking_activity_fails_its_task_and_the_worker_goes_on(db: TestDb) {
    let mut registry = Registry::new();
    registry.register(PanicsOnce {
        panicked: Arc::new(AtomicBool::new(false)),
    });
    let app = spawn_with(&db, move |c| {
        c.workers.concurrency = 1;
        c.workers.registry = Some(registry);
        c.workers.poll_interval = Duration::from_millis(50);
    })
    .await;
    let first = provide_last_material(&app).await;
    let task = eventually(
        Duration::from_secs(10),
        "the panicked task to fail",
        || async {
            let task = only_task(&app, &first).await;
            (task.state == "failed").then_some(task)
        },
    )
    .await;
    let error = task.last_error.expect("the failure is on the task");
    assert_eq!(error.code, "panicked");
    assert!(error.message.contains("an activity's own bug"), "{error:?}");
    assert_eq!(task.attempts, 1, "a panic is not retried");
    let second = provide_last_material(&app).await;
    eventually(
        Duration::from_secs(10),
        "the next task to complete",
        || async { (!completions(&app, &second).await.is_empty()).then_some(()) },
    )
    .await;
    app.stop().await;
}
on_both_stores!(a_panicking_activity_fails_its_task_and_the_worker_goes_on);
