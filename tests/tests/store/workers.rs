use aijia_orchestrator::store::{WorkerPoll, WorkerRow};
use aijia_tests::{TestDb, on_both_stores};
use chrono::{DateTime, TimeDelta, Utc};

use crate::open;

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("in range")
}

async fn poll(store: &aijia_orchestrator::store::Store, worker: &str, types: &[&str], t: i64) {
    let activities: Vec<String> = types.iter().map(|s| (*s).to_owned()).collect();
    store
        .record_poll(WorkerPoll {
            worker_id: worker,
            task_queue: "default",
            activities: &activities,
            node: "n1",
            at: at(t),
        })
        .await
        .expect("recording a poll");
}

on_both_stores!(polls_are_kept_to_the_microsecond_and_never_go_back_in_time);
async fn polls_are_kept_to_the_microsecond_and_never_go_back_in_time(db: TestDb) {
    let store = open(&db).await;
    // Microseconds that a millisecond or float encoding would round.
    let t0 = 1_780_000_000_123_457;
    poll(&store, "w1", &["send_reply", "notify"], t0).await;
    // A late poll with an older time must not move the last poll back.
    poll(&store, "w1", &["send_reply"], t0 - 5).await;
    assert_eq!(
        store
            .last_poll("default", "send_reply")
            .await
            .expect("read"),
        Some(at(t0))
    );
    assert_eq!(
        store.last_poll("default", "unknown").await.expect("read"),
        None
    );

    let rows = store.workers_since(at(t0), 10).await.expect("list");
    let expected = |activity: &str| WorkerRow {
        worker_id: "w1".into(),
        task_queue: "default".into(),
        activity: activity.into(),
        node: "n1".into(),
        first_seen_at: at(t0),
        last_poll_at: at(t0),
    };
    assert_eq!(rows, vec![expected("notify"), expected("send_reply")]);
    assert!(
        store
            .workers_since(at(t0 + 1), 10)
            .await
            .expect("list")
            .is_empty(),
        "since is inclusive to the microsecond, and no later"
    );
}

on_both_stores!(purging_deletes_only_workers_not_seen_since_and_at_most_the_limit);
async fn purging_deletes_only_workers_not_seen_since_and_at_most_the_limit(db: TestDb) {
    let store = open(&db).await;
    let t0 = 1_780_000_000_000_000;
    for (i, w) in ["a", "b", "c"].iter().enumerate() {
        poll(&store, w, &["x"], t0 + i64::try_from(i).expect("small")).await;
    }
    poll(&store, "fresh", &["x"], t0 + 1_000_000).await;
    let before = at(t0) + TimeDelta::microseconds(3);
    assert_eq!(store.purge_workers(before, 2).await.expect("purge"), 2);
    assert_eq!(store.purge_workers(before, 2).await.expect("purge"), 1);
    assert_eq!(store.purge_workers(before, 2).await.expect("purge"), 0);
    let left: Vec<String> = store
        .workers_since(at(0), 10)
        .await
        .expect("list")
        .into_iter()
        .map(|w| w.worker_id)
        .collect();
    assert_eq!(left, ["fresh"]);
}
