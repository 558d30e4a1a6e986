//! Real concurrency: workers racing for the same tasks, the same completion sent many times at
//! once, and completions racing with other writers of the same case.

use std::collections::HashMap;
use std::time::Duration;

use aijia_tests::requests::ev;
use aijia_tests::{TestDb, on_both_stores};
use futures::future::join_all;
use serde_json::json;

use super::support::{CONFIRM, Worker, case_with_task, completions, only_task, spawn};

const CASES: usize = 40;
const WORKERS: usize = 8;

async fn racing_workers_claim_each_task_once(db: TestDb) {
    let app = spawn(&db).await;
    let mut cases = Vec::new();
    for _ in 0..CASES {
        cases.push(case_with_task(&app).await);
    }
    let workers = (0..WORKERS).map(|n| {
        let worker = Worker::new(app.channel.clone(), &format!("racer-{n}"));
        async move {
            let mut claimed = Vec::new();
            while let Some(task) = worker
                .try_poll(CONFIRM, Duration::from_millis(300), 60)
                .await
                .expect("PollActivityTask")
            {
                let done = worker
                    .complete(&task.task_token, &json!({"by": worker.id}))
                    .await;
                assert!(done.applied && !done.duplicate, "{done:?}");
                claimed.push(task.task_id);
            }
            claimed
        }
    });
    let mut claims: HashMap<i64, usize> = HashMap::new();
    for task_id in join_all(workers).await.into_iter().flatten() {
        *claims.entry(task_id).or_default() += 1;
    }
    assert_eq!(claims.len(), CASES, "every task claimed");
    assert!(
        claims.values().all(|n| *n == 1),
        "no task claimed twice: {claims:?}"
    );
    for (case, task) in &cases {
        let row = only_task(&app, &case.id).await;
        assert_eq!((row.state.as_str(), row.attempts), ("completed", 1));
        let done = completions(&app, &case.id).await;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].1["task_id"], json!(task.id));
    }
    app.stop().await;
}
on_both_stores!(racing_workers_claim_each_task_once);

async fn a_completion_sent_many_times_at_once_applies_once(db: TestDb) {
    let app = spawn(&db).await;
    let (case, _) = case_with_task(&app).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let task = worker.take(CONFIRM).await;
    // The same completion eight times at once, while the case's customer keeps writing.
    let completions_sent = (0..8).map(|_| {
        let worker = worker.clone();
        let token = task.task_token.clone();
        async move { worker.complete(&token, &json!({"ok": true})).await }
    });
    let replies = (0..8).map(|i| app.send(&case.id, ev::customer_replied(&format!("hello {i}"))));
    let (answers, _) = tokio::join!(join_all(completions_sent), join_all(replies));
    assert!(answers.iter().all(|a| a.applied), "{answers:?}");
    assert_eq!(
        answers.iter().filter(|a| !a.duplicate).count(),
        1,
        "one first answer, the rest duplicates: {answers:?}"
    );
    assert_eq!(completions(&app, &case.id).await.len(), 1);
    let after = app.get(&case.id).await;
    assert_eq!(
        after.version,
        case.version + 9,
        "8 replies and 1 completion, none lost"
    );
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
on_both_stores!(a_completion_sent_many_times_at_once_applies_once);
