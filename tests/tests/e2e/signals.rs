//! SignalCase: a request id is applied once per case, `expected_version` guards against lost
//! updates, and an event the current state does not take is refused without a write.

use aijia_proto::v1::signal_case_request::Event;
use aijia_tests::requests::{self, SignalExt, StartExt, ev};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

use crate::support::{apply, assert_unchanged};

on_both_stores!(signal_with_same_request_id_is_applied_once);
async fn signal_with_same_request_id_is_applied_once(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    let req = requests::signal(&case.id, ev::customer_replied("where is my refund?"));
    let first = app.signal(req.clone()).await;
    assert!(!first.duplicate);
    assert_eq!(first.event_seq, 2);

    let again = app.signal(req.clone()).await;
    assert!(again.duplicate, "the retry is answered as a duplicate");
    assert_eq!(again.event_seq, 2);
    assert_eq!(again.case, first.case, "the retry gets the first answer");
    assert_eq!(
        app.history(&case.id).await.len(),
        2,
        "the retry wrote nothing"
    );

    // After the case moved on, a late retry still gets the first answer.
    let moved = apply(
        &app,
        first.case.as_ref().unwrap(),
        ev::reassign_owner("bob"),
    )
    .await;
    let late = app.signal(req.clone()).await;
    assert!(late.duplicate);
    assert_eq!(late.event_seq, 2);
    assert_eq!(
        late.case.as_ref().unwrap().owner,
        "alice",
        "the case as of the first answer"
    );
    assert_eq!(late.case.as_ref().unwrap().version, 2);

    // A different event under a used request id is another request: refused, nothing new.
    let mut other_event = req.clone();
    other_event.event = Some(ev::reassign_owner("mallory"));
    expect_status(
        app.try_signal(other_event).await,
        Code::InvalidArgument,
        &["request_id", "already used", "SignalCase"],
    );
    assert_unchanged(&app, &moved).await;
    let history = app.history(&case.id).await;
    assert_eq!(
        history
            .iter()
            .filter(|e| e.request_id == req.request_id)
            .count(),
        1
    );

    // Request ids are per case: the same id on another case is a new request there.
    let other_case = app.open(requests::start("material_collection")).await;
    let mut on_other = req.clone();
    on_other.case_id = other_case.id.clone();
    let applied = app.signal(on_other).await;
    assert!(!applied.duplicate, "a request id is scoped to its case");
    assert_eq!(applied.event_seq, 2);
    app.stop().await;
}

on_both_stores!(expected_version_applies_when_current_and_aborts_when_stale);
async fn expected_version_applies_when_current_and_aborts_when_stale(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;

    let req = requests::signal(&case.id, ev::reassign_owner("bob")).expected_version(1);
    let applied = app.signal(req.clone()).await;
    assert_eq!(applied.event_seq, 2);
    let now = applied.case.clone().unwrap();
    assert_eq!(now.owner, "bob");

    // A retry of the applied request is a duplicate, not a conflict.
    let retry = app.signal(req).await;
    assert!(retry.duplicate);
    assert_eq!(retry.event_seq, 2);

    for stale in [0, 1, 3, 100] {
        let req = requests::signal(&case.id, ev::reassign_owner("carol")).expected_version(stale);
        let status = expect_status(app.try_signal(req).await, Code::Aborted, &["version"]);
        assert!(
            status.message().contains('2'),
            "names the current version: {}",
            status.message()
        );
    }
    assert_unchanged(&app, &now).await;

    let req = requests::signal(&case.id, ev::reassign_owner("carol")).expected_version(2);
    assert_eq!(app.signal(req).await.event_seq, 3);
    app.stop().await;
}

on_both_stores!(event_the_state_does_not_accept_is_refused_naming_the_state);
async fn event_the_state_does_not_accept_is_refused_naming_the_state(db: TestDb) {
    let app = spawn_app(&db).await;
    let inquiry = app.open(requests::start("progress_inquiry")).await;
    for event in [
        ev::material_provided(&["invoice"], ""),
        ev::partner_done("done"),
        ev::complete("too early"),
        ev::review_decided(true, "no review was asked"),
        ev::partner_waits_for_customer("a signature"),
    ] {
        let status = expect_status(
            app.try_signal(requests::signal(&inquiry.id, event)).await,
            Code::FailedPrecondition,
            &["waiting_for_executor"],
        );
        assert!(
            status.message().contains("progress_inquiry"),
            "{}",
            status.message()
        );
    }
    assert_unchanged(&app, &inquiry).await;

    let materials = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    expect_status(
        app.try_signal(requests::signal(&materials.id, ev::executor_done("?")))
            .await,
        Code::FailedPrecondition,
        &["waiting_for_customer", "executor_done"],
    );
    let review = apply(&app, &materials, ev::request_review("check")).await;
    expect_status(
        app.try_signal(requests::signal(&review.id, ev::request_review("again")))
            .await,
        Code::FailedPrecondition,
        &["waiting_for_review", "request_review"],
    );
    assert_unchanged(&app, &review).await;
    app.stop().await;
}

/// One of each signal event kind of the API.
fn every_event() -> Vec<Event> {
    vec![
        ev::customer_replied("hello?"),
        ev::material_provided(&["invoice"], ""),
        ev::executor_done(""),
        ev::partner_done(""),
        ev::partner_waits_for_customer("a signature"),
        ev::material_received(&["invoice"]),
        ev::request_review("why not"),
        ev::review_decided(true, ""),
        ev::wait_for("customer", "anything", &[]),
        ev::complete(""),
        ev::reassign_owner("zoe"),
    ]
}

async fn assert_refuses_everything(app: &TestApp, case_id: &str, state: &str) {
    let before = app.get(case_id).await;
    for event in every_event() {
        expect_status(
            app.try_signal(requests::signal(case_id, event)).await,
            Code::FailedPrecondition,
            &[state],
        );
    }
    expect_status(
        app.try_cancel(requests::cancel(case_id, "once more")).await,
        Code::FailedPrecondition,
        &[state],
    );
    assert_unchanged(app, &before).await;
}

on_both_stores!(closed_cases_refuse_every_event_and_cancel);
async fn closed_cases_refuse_every_event_and_cancel(db: TestDb) {
    let app = spawn_app(&db).await;
    let done = app.open(requests::start("completion_feedback")).await;
    let done = apply(&app, &done, ev::customer_replied("fine")).await;
    let done = apply(&app, &done, ev::complete("")).await;
    assert_refuses_everything(&app, &done.id, "completed").await;

    let cancelled = app
        .open(requests::start("partner_cooperation_request"))
        .await;
    app.cancel(requests::cancel(&cancelled.id, "duplicate request"))
        .await;
    assert_refuses_everything(&app, &cancelled.id, "cancelled").await;
    app.stop().await;
}
