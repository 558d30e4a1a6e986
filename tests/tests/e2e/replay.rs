//! ReplayCase: a history folded back through the state machines reproduces every stored step;
//! a history changed behind the server's back is caught at the event that was changed.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{Backend, TestApp, TestDb, on_both_stores, spawn_app};
use chrono::TimeDelta;
use sqlx::Executor;

use crate::support::apply;

/// A material collection case taken the long way round: 12 events.
async fn long_path(app: &TestApp) -> pb::Case {
    let case = app
        .open(requests::start("material_collection").attr("materials", "a, b, c"))
        .await;
    let mut case = case;
    for event in [
        ev::material_provided(&["a"], "first"),
        ev::reassign_owner("bob"),
        ev::customer_replied("b is coming"),
        ev::request_review("is a readable?"),
        ev::review_decided(false, "send a again"),
        ev::material_provided(&["b"], ""),
        ev::wait_for("executor", "check the device", &[]),
        ev::executor_done("device ok"),
        ev::material_received(&["c"]),
        ev::reassign_owner("carol"),
        ev::complete("all in"),
    ] {
        app.clock.advance(TimeDelta::minutes(7));
        case = apply(app, &case, event).await;
    }
    assert_eq!(case.state, "completed");
    case
}

/// Overwrites `owner` in the stored `case_after` of one history event.
async fn tamper_event_owner(db: &TestDb, case_id: &str, seq: i64, owner: &str) {
    let id = uuid::Uuid::parse_str(case_id).unwrap();
    let changed = match db.backend() {
        Backend::Postgres => db
            .pg()
            .await
            .execute(
                sqlx::query(
                    "UPDATE case_events SET case_after = jsonb_set(case_after, '{owner}', to_jsonb($3::text))
                     WHERE case_id = $1 AND seq = $2",
                )
                .bind(id)
                .bind(seq)
                .bind(owner),
            )
            .await
            .unwrap()
            .rows_affected(),
        Backend::Sqlite => db
            .sqlite_conn()
            .await
            .execute(
                sqlx::query(
                    "UPDATE case_events SET case_after = json_set(case_after, '$.owner', ?3)
                     WHERE case_id = ?1 AND seq = ?2",
                )
                .bind(id)
                .bind(seq)
                .bind(owner),
            )
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(changed, 1, "the tampering must hit one event");
}

/// Overwrites `owner` in the stored case itself (not in its history).
async fn tamper_case_owner(db: &TestDb, case_id: &str, owner: &str) {
    let id = uuid::Uuid::parse_str(case_id).unwrap();
    let changed = match db.backend() {
        Backend::Postgres => db
            .pg()
            .await
            .execute(
                sqlx::query("UPDATE cases SET data = jsonb_set(data, '{owner}', to_jsonb($2::text)) WHERE id = $1")
                    .bind(id)
                    .bind(owner),
            )
            .await
            .unwrap()
            .rows_affected(),
        Backend::Sqlite => db
            .sqlite_conn()
            .await
            .execute(
                sqlx::query("UPDATE cases SET data = json_set(data, '$.owner', ?2) WHERE id = ?1")
                    .bind(id)
                    .bind(owner),
            )
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(changed, 1, "the tampering must hit the case");
}

on_both_stores!(replay_of_an_untouched_history_matches_every_step);
async fn replay_of_an_untouched_history_matches_every_step(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = long_path(&app).await;
    let replay = app.replay(&case.id).await;
    assert!(replay.matches, "{replay:?}");
    assert_eq!(replay.events_replayed, 12);
    assert_eq!(
        replay.events_replayed as usize,
        app.history(&case.id).await.len()
    );
    assert!(replay.mismatch.is_none());

    let fresh = app.open(requests::start("progress_inquiry")).await;
    let replay = app.replay(&fresh.id).await;
    assert!(replay.matches && replay.events_replayed == 1, "{replay:?}");
    app.stop().await;
}

on_both_stores!(replay_reports_the_first_tampered_event_and_field);
async fn replay_reports_the_first_tampered_event_and_field(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = long_path(&app).await;
    tamper_event_owner(&db, &case.id, 5, "mallory").await;

    let replay = app.replay(&case.id).await;
    assert!(
        !replay.matches,
        "a tampered history must not replay: {replay:?}"
    );
    let mismatch = replay.mismatch.expect("a mismatch is described");
    assert_eq!(mismatch.seq, 5);
    assert_eq!(mismatch.field, "owner");
    assert!(mismatch.stored.contains("mallory"), "{mismatch:?}");
    assert!(mismatch.replayed.contains("bob"), "{mismatch:?}");

    // A tampered case row, with an honest history, is caught at the end (seq 0).
    let other = long_path(&app).await;
    tamper_case_owner(&db, &other.id, "mallory").await;
    let replay = app.replay(&other.id).await;
    assert!(!replay.matches);
    let mismatch = replay.mismatch.expect("a mismatch is described");
    assert_eq!((mismatch.seq, mismatch.field.as_str()), (0, "owner"));
    assert!(
        mismatch.stored.contains("mallory") && mismatch.replayed.contains("carol"),
        "{mismatch:?}"
    );
    app.stop().await;
}
