//! Waiting-state timers through the real server: with a manual clock, each kind fires once and
//! does what the shipped policy says; leaving a state cancels its timers; a timer never wins
//! against a signal that already moved the case. With real processes (PostgreSQL): two
//! servers share thousands of due timers, each fired once, and a SIGKILL loses none.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aijia_proto::v1 as pb;
use aijia_tests::app::spawn_app_with;
use aijia_tests::process::ServerProcess;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores, on_postgres};
use chrono::TimeDelta;
use tonic::Code;

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");

/// A server whose timer loop looks every 20 ms, so a test that moves the clock sees fires at
/// once.
async fn app(db: &TestDb) -> TestApp {
    spawn_app_with(db, |c| {
        c.scheduler.poll_interval = Duration::from_millis(20)
    })
    .await
}

fn timer_names(case: &pb::Case) -> Vec<String> {
    case.pending_timers.iter().map(|t| t.name.clone()).collect()
}

fn fire_secs(case: &pb::Case, name: &str) -> Option<i64> {
    case.pending_timers
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.fire_at.as_ref())
        .map(|t| t.seconds)
}

fn fired(history: &[pb::HistoryEvent]) -> Vec<&pb::HistoryEvent> {
    history
        .iter()
        .filter(|e| e.event_type == "timer_fired")
        .collect()
}

/// Waits until `case_id`'s history satisfies `done`, or fails after 10 s.
async fn until(
    app: &TestApp,
    case_id: &str,
    what: &str,
    done: impl Fn(&[pb::HistoryEvent]) -> bool,
) -> Vec<pb::HistoryEvent> {
    let started = Instant::now();
    loop {
        let history = app.history(case_id).await;
        if done(&history) {
            return history;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}; history: {history:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_stores!(entering_a_waiting_state_starts_its_timers_from_the_shipped_policy);
async fn entering_a_waiting_state_starts_its_timers_from_the_shipped_policy(db: TestDb) {
    let app = app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    let case = app.get(&case.id).await;
    let created = case.created_at.as_ref().unwrap().seconds;
    // timers.toml for material_collection.waiting_for_customer: remind after 2d (every 2d,
    // 3 times), escalate after 7d, expire after 21d.
    assert_eq!(
        fire_secs(&case, "waiting_for_customer/remind"),
        Some(created + 2 * 86400)
    );
    assert_eq!(
        fire_secs(&case, "waiting_for_customer/escalate"),
        Some(created + 7 * 86400)
    );
    assert_eq!(
        fire_secs(&case, "waiting_for_customer/expire"),
        Some(created + 21 * 86400)
    );
    app.stop().await;
}

on_both_stores!(a_due_reminder_fires_once_queues_a_reminder_and_moves_to_the_next);
async fn a_due_reminder_fires_once_queues_a_reminder_and_moves_to_the_next(db: TestDb) {
    let app = app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    let created = app.get(&case.id).await.created_at.unwrap().seconds;
    app.clock
        .advance(TimeDelta::days(2) + TimeDelta::seconds(1));
    let history = until(&app, &case.id, "the first reminder", |h| {
        fired(h).len() == 1
    })
    .await;
    let event = fired(&history)[0];
    assert!(
        event.payload_json.contains("waiting_for_customer"),
        "{event:?}"
    );
    // Under the default automation policy (every type in review) the reminder waits for a
    // reviewer in the review queue instead of going out on its own.
    assert!(
        event.effects_json.contains("\"activity_for_review\"")
            && event.effects_json.contains("send_progress_reminder"),
        "{event:?}"
    );
    assert_eq!(event.state_after, "waiting_for_customer");
    assert_eq!(event.actor.as_ref().unwrap().role, "system");
    // Nothing fires twice: give the loop time to misbehave.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fired(&app.history(&case.id).await).len(), 1);
    let case = app.get(&case.id).await;
    assert_eq!(
        fire_secs(&case, "waiting_for_customer/remind"),
        Some(created + 4 * 86400)
    );
    app.stop().await;
}

on_both_stores!(a_case_left_waiting_expires_through_remind_escalate_and_cancel);
async fn a_case_left_waiting_expires_through_remind_escalate_and_cancel(db: TestDb) {
    let app = app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    app.clock.advance(TimeDelta::days(22));
    let history = until(&app, &case.id, "expiry", |h| {
        h.last().is_some_and(|e| e.state_after == "cancelled")
    })
    .await;
    let kinds: Vec<String> = fired(&history)
        .iter()
        .map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
            payload["key"]["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("remind"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("expire"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"escalate".to_owned()), "{kinds:?}");
    let escalation = fired(&history)
        .into_iter()
        .find(|e| e.payload_json.contains("escalate"))
        .unwrap();
    assert!(
        escalation.effects_json.contains("send_message"),
        "escalation to the owner: {escalation:?}"
    );
    let case = app.get(&case.id).await;
    assert_eq!(case.state, "cancelled");
    assert!(
        case.pending_timers.is_empty(),
        "a cancelled case keeps no timers: {:?}",
        timer_names(&case)
    );
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(escalation_to_review_moves_a_progress_inquiry_into_review);
async fn escalation_to_review_moves_a_progress_inquiry_into_review(db: TestDb) {
    let app = app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    let before = app.get(&case.id).await;
    let escalate = before
        .pending_timers
        .iter()
        .find(|t| t.name == "waiting_for_executor/escalate")
        .expect("an escalate timer");
    let after = escalate.fire_at.as_ref().unwrap().seconds - before.created_at.unwrap().seconds;
    app.clock.advance(TimeDelta::seconds(after + 1));
    until(&app, &case.id, "escalation", |h| {
        h.last()
            .is_some_and(|e| e.state_after == "waiting_for_review")
    })
    .await;
    let case = app.get(&case.id).await;
    assert!(case.review_needed);
    assert!(
        timer_names(&case)
            .iter()
            .all(|n| n.starts_with("waiting_for_review/")),
        "{:?}",
        timer_names(&case)
    );
    app.stop().await;
}

on_both_stores!(leaving_a_waiting_state_cancels_its_timers_in_the_same_commit);
async fn leaving_a_waiting_state_cancels_its_timers_in_the_same_commit(db: TestDb) {
    let app = app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    assert!(!app.get(&case.id).await.pending_timers.is_empty());
    let change = app.send(&case.id, ev::executor_done("shipped")).await;
    assert_eq!(change.case.unwrap().state, "received");
    assert!(app.get(&case.id).await.pending_timers.is_empty());
    // And a stuck case is one waiting with no timer: none here.
    app.clock.advance(TimeDelta::days(30));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(fired(&app.history(&case.id).await).is_empty());
    app.stop().await;
}

on_both_stores!(per_case_timer_overrides_apply_and_bad_ones_are_refused);
async fn per_case_timer_overrides_apply_and_bad_ones_are_refused(db: TestDb) {
    let app = app(&db).await;
    let case = app
        .open(
            requests::start("material_collection")
                .attr("timers.waiting_for_customer.remind_after", "2h"),
        )
        .await;
    let case = app.get(&case.id).await;
    let created = case.created_at.as_ref().unwrap().seconds;
    assert_eq!(
        fire_secs(&case, "waiting_for_customer/remind"),
        Some(created + 2 * 3600)
    );
    let bad = app
        .client()
        .start_case(
            requests::start("material_collection")
                .attr("timers.waiting_for_customer.remind_after", "soon"),
        )
        .await;
    expect_status(
        bad,
        Code::InvalidArgument,
        &["timers.waiting_for_customer.remind_after"],
    );
    app.stop().await;
}

on_postgres!(a_due_timer_and_a_concurrent_signal_never_both_win);
async fn a_due_timer_and_a_concurrent_signal_never_both_win(db: TestDb) {
    let app = app(&db).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(app.open(requests::start("progress_inquiry")).await.id);
    }
    // Every case's first reminder (after 4h; escalation comes at 24h) comes due while each
    // case is being moved out of its state.
    app.clock.advance(TimeDelta::hours(5));
    let moves = ids.iter().map(|id| app.send(id, ev::executor_done("done")));
    futures::future::join_all(moves).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &ids {
        let history = app.history(id).await;
        let left = history
            .iter()
            .position(|e| e.event_type == "executor_done")
            .unwrap();
        for (i, e) in history
            .iter()
            .enumerate()
            .filter(|(_, e)| e.event_type == "timer_fired")
        {
            assert!(
                i < left,
                "a timer fired after its state was left: {history:#?}"
            );
            assert!(e.payload_json.contains("waiting_for_executor"));
        }
        let case = app.get(id).await;
        assert_eq!(case.state, "received");
        assert!(case.pending_timers.is_empty(), "{:?}", timer_names(&case));
        assert!(app.replay(id).await.matches);
    }
    app.stop().await;
}

/// Starts `n` material collection cases through `channel` whose first reminder is due
/// `after` from now (real time), returning their ids.
async fn cases_due_soon(channel: tonic::transport::Channel, n: usize, after: &str) -> Vec<String> {
    use futures::StreamExt;
    let client = aijia_proto::v1::case_service_client::CaseServiceClient::new(channel);
    futures::stream::iter(0..n)
        .map(|_| {
            let mut client = client.clone();
            let req = requests::start("material_collection")
                .attr("timers.waiting_for_customer.remind_after", after);
            async move {
                client
                    .start_case(req)
                    .await
                    .unwrap()
                    .into_inner()
                    .case
                    .unwrap()
                    .id
            }
        })
        .buffer_unordered(64)
        .collect()
        .await
}

/// Every case's reminder fired exactly once; returns who fired them (actor ids).
async fn each_fired_once(db: &TestDb, ids: &[String]) -> HashSet<String> {
    let mut conn = db.pg().await;
    let started = Instant::now();
    loop {
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
            "SELECT case_id, actor_id FROM case_events WHERE event_type = 'timer_fired'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut per_case: HashMap<String, usize> = HashMap::new();
        for (case_id, _) in &rows {
            *per_case.entry(case_id.to_string()).or_default() += 1;
        }
        assert!(
            per_case.values().all(|n| *n == 1),
            "a timer fired twice: {:?}",
            per_case.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
        );
        if ids.iter().all(|id| per_case.contains_key(id)) {
            return rows.into_iter().map(|(_, actor)| actor).collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {} timers fired after 60 s",
            per_case.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_postgres!(two_processes_share_thousands_of_due_timers_each_fired_once);
async fn two_processes_share_thousands_of_due_timers_each_fired_once(db: TestDb) {
    let poll = ["--timer-poll-interval", "1s"];
    let a = ServerProcess::spawn_with_args(BINARY, db.url(), &poll).await;
    let b = ServerProcess::spawn_with_args(BINARY, db.url(), &poll).await;
    let mut ids = cases_due_soon(a.channel().await, 1000, "3s").await;
    ids.extend(cases_due_soon(b.channel().await, 1000, "3s").await);
    let firing = each_fired_once(&db, &ids).await;
    assert_eq!(firing.len(), 2, "both processes fired timers: {firing:?}");
    a.kill().await;
    b.kill().await;
}

on_postgres!(a_process_killed_with_timers_due_loses_none_after_restart);
async fn a_process_killed_with_timers_due_loses_none_after_restart(db: TestDb) {
    // A short lease: what the killed process had claimed is another's after 3 s.
    let lease = ["--timer-lease", "3s"];
    let a = ServerProcess::spawn_with_args(BINARY, db.url(), &lease).await;
    let ids = cases_due_soon(a.channel().await, 500, "2s").await;
    // Kill while the first timers are coming due and firing.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    a.kill().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restarted = ServerProcess::spawn_with_args(BINARY, db.url(), &lease).await;
    each_fired_once(&db, &ids).await;
    restarted.kill().await;
}

on_postgres!(a_near_timer_wakes_the_other_process_through_listen_notify);
async fn a_near_timer_wakes_the_other_process_through_listen_notify(db: TestDb) {
    // Neither process polls within the test's time: only a wake-up can fire the timer.
    let slow = ["--timer-poll-interval", "1h", "--worker-concurrency", "0"];
    let writer = ServerProcess::spawn_with_args(BINARY, db.url(), &slow).await;
    let firer = ServerProcess::spawn_with_args(BINARY, db.url(), &slow).await;
    let ids = cases_due_soon(writer.channel().await, 1, "2s").await;
    // The writer is gone before the timer is due: the other process must have been told.
    writer.kill().await;
    let started = Instant::now();
    let fired_by = each_fired_once(&db, &ids).await;
    assert_eq!(fired_by.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fired only after {:?}",
        started.elapsed()
    );
    firer.kill().await;
}
