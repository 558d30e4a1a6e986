//! CancelCase: any open case moves to `cancelled` and loses its timers; a retry is answered
//! once more; a closed case refuses it.

use aijia_tests::requests::{self, ev};
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

use crate::support::{apply, assert_not_waiting, assert_unchanged};

on_both_stores!(cancel_moves_the_case_to_cancelled_and_cancels_its_timers);
async fn cancel_moves_the_case_to_cancelled_and_cancels_its_timers(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    assert!(!app.get(&case.id).await.pending_timers.is_empty());

    let req = requests::cancel(&case.id, "customer withdrew");
    let change = app.cancel(req.clone()).await;
    assert!(!change.duplicate);
    assert_eq!(change.event_seq, 2);
    let cancelled = change.case.clone().unwrap();
    assert_not_waiting(&cancelled, "cancelled");
    assert_eq!(cancelled.next_step, "nothing: the case is cancelled");
    assert_eq!(cancelled.version, 2);

    let stored = app.get(&case.id).await;
    assert_eq!(stored.state, "cancelled");
    assert!(
        stored.pending_timers.is_empty(),
        "timers left: {:?}",
        stored.pending_timers
    );

    let history = app.history(&case.id).await;
    let last = history.last().unwrap();
    assert_eq!((last.seq, last.event_type.as_str()), (2, "cancel"));
    assert_eq!(last.request_id, req.request_id);
    assert_eq!(last.actor.as_ref().unwrap().role, "operator");
    assert_eq!(last.state_after, "cancelled");
    let payload: serde_json::Value = serde_json::from_str(&last.payload_json).unwrap();
    assert_eq!(payload["reason"], "customer withdrew");

    let retry = app.cancel(req).await;
    assert!(
        retry.duplicate,
        "a retried cancel is answered as a duplicate"
    );
    assert_eq!(retry.event_seq, 2);
    assert_eq!(retry.case, change.case);
    assert_eq!(app.history(&case.id).await.len(), 2);

    expect_status(
        app.try_cancel(requests::cancel(&case.id, "again")).await,
        Code::FailedPrecondition,
        &["cancelled"],
    );
    assert_eq!(app.history(&case.id).await.len(), 2);
    let replay = app.replay(&case.id).await;
    assert!(replay.matches, "{replay:?}");
    app.stop().await;
}

on_both_stores!(cancel_works_from_review_and_from_received);
async fn cancel_works_from_review_and_from_received(db: TestDb) {
    let app = spawn_app(&db).await;
    let in_review = app.open(requests::start("appointment_confirmation")).await;
    let in_review = apply(&app, &in_review, ev::request_review("double booking?")).await;
    assert!(!app.get(&in_review.id).await.pending_timers.is_empty());
    let change = app
        .cancel(requests::cancel(&in_review.id, "slot gone"))
        .await;
    assert_not_waiting(change.case.as_ref().unwrap(), "cancelled");
    assert!(app.get(&in_review.id).await.pending_timers.is_empty());

    let received = app.open(requests::start("completion_feedback")).await;
    let received = apply(&app, &received, ev::customer_replied("fine")).await;
    let change = app
        .cancel(requests::cancel(&received.id, "test case"))
        .await;
    assert_eq!(change.event_seq, 3);
    assert_not_waiting(change.case.as_ref().unwrap(), "cancelled");
    app.stop().await;
}

on_both_stores!(cancel_of_a_completed_case_is_refused);
async fn cancel_of_a_completed_case_is_refused(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("completion_feedback")).await;
    let case = apply(&app, &case, ev::customer_replied("fine")).await;
    let case = apply(&app, &case, ev::complete("")).await;
    expect_status(
        app.try_cancel(requests::cancel(&case.id, "too late")).await,
        Code::FailedPrecondition,
        &["completed"],
    );
    assert_unchanged(&app, &case).await;
    app.stop().await;
}
