//! SIGKILL the real server binary while remote workers claim and complete tasks and clients
//! keep enqueuing more; restart it on the same database and let the workers carry on. No task
//! is lost (every acknowledged transition's task is there and ends completed), and each
//! completed task's result is in its case's history exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use aijia_tests::process::ServerProcess;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestDb, automate_templated_activities, on_both_stores};
use serde_json::json;
use tonic::transport::{Channel, Endpoint};

use super::support::{CONFIRM, secs};

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");
const WORKERS: usize = 4;
const PRODUCERS: usize = 3;
const LOAD: Duration = Duration::from_millis(1200);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the server is now (it moves to a new port when restarted).
#[derive(Clone)]
struct Server(Arc<RwLock<String>>);

impl Server {
    fn channel(&self) -> Channel {
        let url = self.0.read().unwrap().clone();
        Endpoint::from_shared(url)
            .unwrap()
            .connect_timeout(Duration::from_millis(300))
            .timeout(CALL_TIMEOUT)
            .connect_lazy()
    }

    fn set(&self, process: &ServerProcess) {
        *self.0.write().unwrap() = format!("http://{}", process.addr);
    }
}

/// Opens cases and brings each to the transition that enqueues a task; records the cases
/// whose transition was acknowledged.
async fn producer(server: Server, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>) {
    while !stop.load(Ordering::SeqCst) {
        let mut client = CaseServiceClient::new(server.channel());
        let start = requests::start("material_collection").attr("materials", "invoice");
        let Ok(resp) = client.start_case(start).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let case = resp.into_inner().case.unwrap();
        let signal = requests::signal(&case.id, ev::material_provided(&["invoice"], ""));
        if client.signal_case(signal).await.is_ok() {
            acked.lock().unwrap().push(case.id);
        }
    }
}

/// What the workers saw.
#[derive(Default)]
struct Counts {
    /// Completions answered `applied`.
    applied: AtomicU32,
    /// Completions that had to be sent again (the server was down), same token.
    resent: AtomicU32,
    /// Tasks a worker dropped without a word, as a worker that dies mid-task does.
    abandoned: Mutex<HashSet<i64>>,
}

/// Polls, "runs" the task for a while, and reports it, retrying the report with the same token
/// through the crash until the server answers. Worker 0 silently drops its 1st task and every
/// 5th after, as a worker killed mid-task would; the lease runs out and another worker takes it.
async fn worker(n: usize, server: Server, stop: Arc<AtomicBool>, counts: Arc<Counts>) {
    let id = format!("crash-worker-{n}");
    let mut got = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let mut client = WorkerServiceClient::new(server.channel());
        let polled = client
            .poll_activity_task(pb::PollActivityTaskRequest {
                worker_id: id.clone(),
                task_queue: String::new(),
                activity_types: vec![CONFIRM.into()],
                wait: Some(secs(1)),
                lease: Some(secs(3)),
            })
            .await;
        let task = match polled {
            Ok(resp) if !resp.get_ref().task_token.is_empty() => resp.into_inner(),
            Ok(_) => continue,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        got += 1;
        if n == 0 && got % 5 == 1 {
            counts.abandoned.lock().unwrap().insert(task.task_id);
            continue;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        loop {
            let mut client = WorkerServiceClient::new(server.channel());
            let done = client
                .complete_activity_task(pb::CompleteActivityTaskRequest {
                    task_token: task.task_token.clone(),
                    output_json: json!({"by": id, "attempt": task.attempt}).to_string(),
                })
                .await;
            match done {
                Ok(resp) => {
                    if resp.into_inner().applied {
                        counts.applied.fetch_add(1, Ordering::SeqCst);
                    }
                    break;
                }
                Err(_) => {
                    counts.resent.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

async fn all_tasks(client: &mut TaskServiceClient<Channel>) -> Vec<pb::Task> {
    let mut tasks = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_tasks(pb::ListTasksRequest {
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("ListTasks")
            .into_inner();
        tasks.extend(page.tasks);
        if page.next_page_token.is_empty() {
            return tasks;
        }
        token = page.next_page_token;
    }
}

async fn tasks_survive_sigkill_and_apply_once(db: TestDb) {
    let args = ["--worker-concurrency", "0"];
    let process = ServerProcess::spawn_with_args(BINARY, db.url(), &args).await;
    automate_templated_activities(process.channel().await).await;
    let server = Server(Arc::new(RwLock::new(String::new())));
    server.set(&process);

    let stop_producing = Arc::new(AtomicBool::new(false));
    let stop_working = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let counts = Arc::new(Counts::default());
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            tokio::spawn(producer(
                server.clone(),
                Arc::clone(&stop_producing),
                Arc::clone(&acked),
            ))
        })
        .collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|n| {
            tokio::spawn(worker(
                n,
                server.clone(),
                Arc::clone(&stop_working),
                Arc::clone(&counts),
            ))
        })
        .collect();

    tokio::time::sleep(LOAD).await;
    let before_kill = acked.lock().unwrap().len();
    process.kill().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let process = ServerProcess::spawn_with_args(BINARY, db.url(), &args).await;
    server.set(&process);
    tokio::time::sleep(LOAD).await;
    stop_producing.store(true, Ordering::SeqCst);
    for p in producers {
        p.await.expect("a producer panicked");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        before_kill >= 3 && acked.len() > before_kill,
        "too little load to test anything: {before_kill} before the kill, {} in all",
        acked.len()
    );

    // Let the workers drain the queue (claims lost in the crash come back when their lease
    // of 3 s runs out).
    let mut tasks_client = TaskServiceClient::new(process.channel().await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let tasks = loop {
        let tasks = all_tasks(&mut tasks_client).await;
        if tasks.iter().all(|t| t.state == "completed") {
            break tasks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks still not completed: {:?}",
            tasks
                .iter()
                .filter(|t| t.state != "completed")
                .map(|t| (t.id, t.state.clone(), t.attempts))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop_working.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a worker panicked");
    }

    // No task lost: every acknowledged transition's task is there, completed.
    let by_case: HashMap<&str, Vec<&pb::Task>> = tasks.iter().fold(HashMap::new(), |mut map, t| {
        map.entry(t.case_id.as_str()).or_default().push(t);
        map
    });
    for case_id in &acked {
        let found = by_case.get(case_id.as_str()).map_or(0, Vec::len);
        assert_eq!(found, 1, "case {case_id} must have its one task");
    }

    // Each completed task's result is in its case's history exactly once.
    let mut cases = CaseServiceClient::new(process.channel().await);
    let mut completions = 0;
    for (case_id, case_tasks) in &by_case {
        let history = cases
            .get_case_history(pb::GetCaseHistoryRequest {
                case_id: (*case_id).to_owned(),
                page_size: 1000,
                page_token: String::new(),
            })
            .await
            .expect("history")
            .into_inner()
            .events;
        let completed: Vec<i64> = history
            .iter()
            .filter(|e| e.event_type == "activity_completed")
            .map(|e| {
                let payload: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
                payload["task_id"].as_i64().unwrap()
            })
            .collect();
        let expected: HashSet<i64> = case_tasks.iter().map(|t| t.id).collect();
        assert_eq!(
            completed.len(),
            expected.len(),
            "case {case_id}: one completion per task, got {completed:?}"
        );
        assert_eq!(completed.iter().copied().collect::<HashSet<_>>(), expected);
        completions += completed.len();
        let replay = cases
            .replay_case(pb::ReplayCaseRequest {
                case_id: (*case_id).to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(replay.matches, "case {case_id} replays: {replay:?}");
    }
    assert_eq!(completions, tasks.len());
    let applied = counts.applied.load(Ordering::SeqCst) as usize;
    let abandoned = std::mem::take(&mut *counts.abandoned.lock().unwrap());
    for task in tasks.iter().filter(|t| abandoned.contains(&t.id)) {
        assert!(
            task.attempts > 1,
            "task {} was dropped by its worker, so another claim finished it: {task:?}",
            task.id
        );
    }
    let abandoned = abandoned.len();
    let reclaimed = tasks.iter().filter(|t| t.attempts > 1).count();
    assert!(
        applied <= tasks.len(),
        "no more applied answers ({applied}) than tasks ({})",
        tasks.len()
    );
    eprintln!(
        "task crash test on {:?}: {} tasks ({} acknowledged, {before_kill} before the kill); \
         {applied} completions answered applied, {} resent across the crash; {abandoned} \
         abandoned by a worker and {reclaimed} reclaimed after a lost lease",
        db.backend(),
        tasks.len(),
        acked.len(),
        counts.resent.load(Ordering::SeqCst),
    );
    process.kill().await;
}
on_both_stores!(tasks_survive_sigkill_and_apply_once);
