//! Each workflow type driven along its main path to `completed` over gRPC, together using every
//! signal event kind of the API. Each step checks state, who the case waits for and what,
//! version and event sequence; waiting states show their timers, closed ones none.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, on_both_stores, spawn_app};
use chrono::TimeDelta;

use crate::support::{
    apply, assert_not_waiting, assert_timers, assert_waiting, checklist, items, time,
};

/// Clock steps stay far below any timer delay, so no timer fires during these tests.
fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// GetCase agrees with the last answer, and the case (completed) has no timers left and
/// replays to what is stored.
async fn assert_completed(app: &TestApp, last: &pb::Case, events: usize) {
    assert_not_waiting(last, "completed");
    assert_eq!(last.next_step, "nothing: the case is completed");
    let stored = app.get(&last.id).await;
    assert_eq!(stored.state, "completed");
    assert!(stored.complete);
    assert_eq!(stored.version, last.version);
    assert!(
        stored.pending_timers.is_empty(),
        "timers left: {:?}",
        stored.pending_timers
    );
    assert_eq!(app.history(&last.id).await.len(), events);
    let replay = app.replay(&last.id).await;
    assert!(replay.matches, "replay: {replay:?}");
    assert_eq!(replay.events_replayed, events as i64);
}

on_both_stores!(material_collection_ticks_off_its_checklist_through_a_review_to_completed);
async fn material_collection_ticks_off_its_checklist_through_a_review_to_completed(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(
            requests::start("material_collection")
                .attr("materials", "invoice, photo of the device"),
        )
        .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "send: invoice, photo of the device",
    );
    assert_eq!(
        case.next_step,
        "wait for the customer to send: invoice, photo of the device"
    );
    assert_eq!(
        checklist(&case),
        items(&[("invoice", false), ("photo of the device", false)])
    );
    let got = app.get(&case.id).await;
    let first_wait = assert_timers(&got, "waiting_for_customer");

    let case = apply(
        &app,
        &case,
        ev::material_provided(&["invoice"], "scan attached"),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "send: photo of the device",
    );
    assert_eq!(
        checklist(&case),
        items(&[("invoice", true), ("photo of the device", false)])
    );
    // Ticking an item off does not restart the wait.
    assert_eq!(
        case.waiting.as_ref().unwrap().since,
        got.waiting.as_ref().unwrap().since
    );

    app.clock.advance(minutes(10));
    let case = apply(&app, &case, ev::request_review("is the invoice legible?")).await;
    assert_waiting(
        &case,
        "waiting_for_review",
        "review",
        "decide: is the invoice legible?",
    );
    assert!(case.review_needed);
    assert_eq!(
        checklist(&case),
        items(&[("invoice", true), ("photo of the device", false)])
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_review");

    app.clock.advance(minutes(20));
    let case = apply(&app, &case, ev::review_decided(true, "legible")).await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "send: photo of the device",
    );
    assert_eq!(
        checklist(&case),
        items(&[("invoice", true), ("photo of the device", false)])
    );
    let got = app.get(&case.id).await;
    assert_eq!(
        time(got.waiting.as_ref().unwrap().since.as_ref()),
        time(got.updated_at.as_ref())
    );
    assert_eq!(
        assert_timers(&got, "waiting_for_customer"),
        first_wait,
        "re-armed from the new start"
    );

    let case = apply(&app, &case, ev::material_received(&["photo of the device"])).await;
    assert_not_waiting(&case, "received");
    assert_eq!(
        case.next_step,
        "check the received materials and complete the case"
    );
    assert!(
        app.get(&case.id).await.pending_timers.is_empty(),
        "received has no timers"
    );

    let case = apply(&app, &case, ev::material_received(&["invoice"])).await;
    assert_not_waiting(&case, "received");

    let case = apply(&app, &case, ev::complete("all materials in order")).await;
    assert_eq!(case.version, 7);
    assert_completed(&app, &case, 7).await;
    app.stop().await;
}

on_both_stores!(progress_inquiry_waits_for_customer_and_partner_then_completes);
async fn progress_inquiry_waits_for_customer_and_partner_then_completes(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("progress_inquiry").subject("order 1234"))
        .await;
    assert_waiting(
        &case,
        "waiting_for_executor",
        "executor",
        "report progress on order 1234",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_executor");

    let case = apply(
        &app,
        &case,
        ev::wait_for("customer", "tell us the order number", &["order number"]),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "tell us the order number",
    );
    assert_eq!(checklist(&case), items(&[("order number", false)]));
    assert_timers(&app.get(&case.id).await, "waiting_for_customer");

    let case = apply(&app, &case, ev::customer_replied("it is 1234")).await;
    assert_waiting(
        &case,
        "waiting_for_executor",
        "executor",
        "report progress on order 1234",
    );

    let case = apply(
        &app,
        &case,
        ev::wait_for("partner", "ask the logistics partner", &[]),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_partner",
        "partner",
        "ask the logistics partner",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_partner");

    let case = apply(&app, &case, ev::partner_done("shipped yesterday")).await;
    assert_not_waiting(&case, "received");
    assert_eq!(
        case.next_step,
        "complete the case once the customer has the progress"
    );

    let case = apply(&app, &case, ev::complete("customer informed")).await;
    assert_completed(&app, &case, 6).await;
    app.stop().await;
}

on_both_stores!(appointment_confirmation_needs_customer_then_executor_then_completes);
async fn appointment_confirmation_needs_customer_then_executor_then_completes(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("appointment_confirmation").attr("slot", "Tue 10:00"))
        .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "confirm the appointment at Tue 10:00",
    );

    let case = apply(&app, &case, ev::customer_replied("Tuesday works")).await;
    assert_waiting(
        &case,
        "waiting_for_executor",
        "executor",
        "confirm the appointment at Tue 10:00",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_executor");

    let case = apply(&app, &case, ev::executor_done("will be there")).await;
    assert_not_waiting(&case, "received");

    let case = apply(&app, &case, ev::reassign_owner("bob")).await;
    assert_not_waiting(&case, "received");
    assert_eq!(case.owner, "bob");

    let case = apply(&app, &case, ev::complete("confirmed")).await;
    assert_eq!(case.owner, "bob");
    assert_completed(&app, &case, 5).await;
    app.stop().await;
}

on_both_stores!(partner_cooperation_request_relays_the_customer_to_the_partner_then_completes);
async fn partner_cooperation_request_relays_the_customer_to_the_partner_then_completes(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("partner_cooperation_request").subject("meter swap"))
        .await;
    assert_waiting(
        &case,
        "waiting_for_partner",
        "partner",
        "handle the request meter swap",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_partner");

    let case = apply(
        &app,
        &case,
        ev::partner_waits_for_customer("sign the consent form"),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "sign the consent form",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_customer");

    let case = apply(
        &app,
        &case,
        ev::material_provided(&["consent form"], "signed"),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_partner",
        "partner",
        "handle the request meter swap",
    );

    let case = apply(
        &app,
        &case,
        ev::partner_waits_for_customer("confirm the address"),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "confirm the address",
    );

    let case = apply(&app, &case, ev::customer_replied("Main St 1")).await;
    assert_waiting(
        &case,
        "waiting_for_partner",
        "partner",
        "handle the request meter swap",
    );

    let case = apply(&app, &case, ev::partner_done("meter swapped")).await;
    assert_not_waiting(&case, "received");

    let case = apply(&app, &case, ev::complete("written back")).await;
    assert_completed(&app, &case, 7).await;
    app.stop().await;
}

on_both_stores!(completion_feedback_takes_the_customer_reply_then_completes);
async fn completion_feedback_takes_the_customer_reply_then_completes(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("completion_feedback").subject("the repair"))
        .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "give feedback on the repair",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_customer");

    let case = apply(&app, &case, ev::customer_replied("great service")).await;
    assert_not_waiting(&case, "received");
    assert!(app.get(&case.id).await.pending_timers.is_empty());

    let case = apply(&app, &case, ev::complete("feedback stored")).await;
    assert_completed(&app, &case, 3).await;
    app.stop().await;
}

on_both_stores!(wait_for_the_same_party_restarts_the_wait_with_what_checklist_and_timers);
async fn wait_for_the_same_party_restarts_the_wait_with_what_checklist_and_timers(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    let first_wait = assert_timers(&app.get(&case.id).await, "waiting_for_customer");
    app.clock.advance(minutes(30));
    let case = apply(
        &app,
        &case,
        ev::wait_for(
            "customer",
            "the signed contract",
            &["contract", " contract "],
        ),
    )
    .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "the signed contract",
    );
    assert_eq!(checklist(&case), items(&[("contract", false)]));
    let got = app.get(&case.id).await;
    assert_eq!(
        time(got.waiting.as_ref().unwrap().since.as_ref()),
        time(got.updated_at.as_ref())
    );
    assert_eq!(
        assert_timers(&got, "waiting_for_customer"),
        first_wait,
        "re-armed from the new start"
    );

    let case = apply(&app, &case, ev::material_provided(&["contract"], "")).await;
    assert_not_waiting(&case, "received");
    let replay = app.replay(&case.id).await;
    assert!(replay.matches, "{replay:?}");
    app.stop().await;
}

on_both_stores!(review_requested_from_received_returns_to_received);
async fn review_requested_from_received_returns_to_received(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("completion_feedback")).await;
    let case = apply(&app, &case, ev::customer_replied("it broke again")).await;
    assert_not_waiting(&case, "received");

    let case = apply(&app, &case, ev::request_review("complaint, not feedback")).await;
    assert_waiting(
        &case,
        "waiting_for_review",
        "review",
        "decide: complaint, not feedback",
    );
    assert_timers(&app.get(&case.id).await, "waiting_for_review");

    let case = apply(&app, &case, ev::review_decided(true, "keep as feedback")).await;
    assert_not_waiting(&case, "received");
    assert!(app.get(&case.id).await.pending_timers.is_empty());

    let case = apply(&app, &case, ev::complete("")).await;
    assert_completed(&app, &case, 5).await;
    app.stop().await;
}
