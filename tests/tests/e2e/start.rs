//! StartCase: a new case in its workflow's initial state, and idempotency twice over: by
//! request id and by (workflow type, business key) while the case is open.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

use crate::support::{apply, assert_waiting, checklist, items};

/// (workflow type, initial state, party it waits for first).
const INITIAL: [(&str, &str, &str); 5] = [
    ("material_collection", "waiting_for_customer", "customer"),
    ("progress_inquiry", "waiting_for_executor", "executor"),
    (
        "appointment_confirmation",
        "waiting_for_customer",
        "customer",
    ),
    (
        "partner_cooperation_request",
        "waiting_for_partner",
        "partner",
    ),
    ("completion_feedback", "waiting_for_customer", "customer"),
];

on_both_stores!(start_opens_a_case_in_the_initial_state_of_its_workflow);
async fn start_opens_a_case_in_the_initial_state_of_its_workflow(db: TestDb) {
    let app = spawn_app(&db).await;
    for (workflow, state, party) in INITIAL {
        let req = requests::start(workflow)
            .owner("bob")
            .subject("Broken dishwasher")
            .attr("channel", "chat");
        let resp = app.start(req.clone()).await;
        assert!(resp.created, "{workflow}: created");
        let case = resp.case.expect("a case");
        assert!(
            uuid::Uuid::parse_str(&case.id).is_ok(),
            "{workflow}: id {:?}",
            case.id
        );
        assert_eq!(case.workflow_type, workflow);
        assert_eq!(case.state, state, "{workflow}: initial state");
        assert_eq!(case.waiting.as_ref().map(|w| w.party.as_str()), Some(party));
        assert_eq!(case.version, 1);
        assert_eq!(case.business_key, req.business_key);
        assert_eq!(case.owner, "bob");
        assert_eq!(case.subject, "Broken dishwasher");
        assert_eq!(
            case.attributes.get("channel").map(String::as_str),
            Some("chat")
        );
        let customer = case.customer.as_ref().expect("a customer");
        assert_eq!(customer.id, req.customer.as_ref().unwrap().id);
        assert_eq!(customer.display_name, "Li Wei");
        assert_eq!(customer.identity, "unknown");
        assert!(!case.complete && !case.review_needed);
        assert_eq!(case.evidence, format!("aijia://cases/{}/history", case.id));
        assert_eq!(case.created_at, case.updated_at);

        let stored = app.get(&case.id).await;
        assert_eq!(stored.state, state);
        assert_eq!(stored.version, 1);
        let history = app.history(&case.id).await;
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].event_type, "started");
        assert_eq!(history[0].request_id, req.request_id);
    }
    app.stop().await;
}

on_both_stores!(start_checklist_comes_from_the_materials_attribute);
async fn start_checklist_comes_from_the_materials_attribute(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("material_collection").attr("materials", " invoice, photo ,invoice,"))
        .await;
    assert_waiting(
        &case,
        "waiting_for_customer",
        "customer",
        "send: invoice, photo",
    );
    assert_eq!(
        checklist(&case),
        items(&[("invoice", false), ("photo", false)])
    );
    app.stop().await;
}

on_both_stores!(start_with_a_repeated_request_id_returns_the_first_answer_and_writes_nothing);
async fn start_with_a_repeated_request_id_returns_the_first_answer_and_writes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let req = requests::start("material_collection");
    let first = app.start(req.clone()).await;
    assert!(first.created && !first.duplicate);
    let first = first.case.unwrap();

    let again = app.start(req.clone()).await;
    assert!(
        !again.created && again.duplicate,
        "a retry of the creating request created nothing: it is the first answer again"
    );
    let again = again.case.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.version, 1);
    assert_eq!(app.history(&first.id).await.len(), 1);

    // Even after the case has moved on, the retry gets the first answer and writes nothing.
    let moved = apply(&app, &first, ev::reassign_owner("carol")).await;
    let late = app.start(req.clone()).await;
    assert!(!late.created && late.duplicate);
    let late = late.case.unwrap();
    assert_eq!(late.id, first.id);
    assert_eq!(late.version, 1);
    assert_eq!(
        late.owner, "alice",
        "the first answer, not the case as it is now"
    );
    assert_eq!(app.history(&first.id).await.len(), 2);
    assert_eq!(app.get(&first.id).await.version, moved.version);

    // The same id with another body (a client bug) is refused and opens no second case.
    let other_key = app
        .client()
        .start_case(req.clone().business_key("another-key"))
        .await;
    expect_status(
        other_key,
        Code::InvalidArgument,
        &["request_id", &req.request_id, "StartCase", "new request_id"],
    );
    let all = app.list_all(Default::default()).await;
    assert_eq!(all.len(), 1, "one case in the database: {all:?}");
    app.stop().await;
}

on_both_stores!(start_with_the_business_key_of_an_open_case_returns_that_case);
async fn start_with_the_business_key_of_an_open_case_returns_that_case(db: TestDb) {
    let app = spawn_app(&db).await;
    let req = requests::start("progress_inquiry");
    let first = app.open(req.clone()).await;
    let moved = apply(&app, &first, ev::reassign_owner("dave")).await;

    let second = app
        .start(req.clone().request_id(&requests::unique("start")))
        .await;
    assert!(!second.created, "an open case with this key exists");
    assert!(
        !second.duplicate,
        "another request id: not a repeat of the first"
    );
    let second = second.case.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.version, moved.version, "the open case as it stands");
    assert_eq!(second.owner, "dave");
    assert_eq!(app.history(&first.id).await.len(), 2, "nothing written");

    // The key is scoped by workflow type: another type with the same key is a new case.
    let mut other_type = req.clone().request_id(&requests::unique("start"));
    other_type.workflow_type = "completion_feedback".to_owned();
    let other = app.open(other_type).await;
    assert_ne!(other.id, first.id);
    assert_eq!(app.list_all(Default::default()).await.len(), 2);
    app.stop().await;
}

on_both_stores!(start_after_the_case_is_closed_opens_a_new_case_with_the_same_key);
async fn start_after_the_case_is_closed_opens_a_new_case_with_the_same_key(db: TestDb) {
    let app = spawn_app(&db).await;
    let req = requests::start("completion_feedback");
    let first = app.open(req.clone()).await;
    app.cancel(requests::cancel(&first.id, "opened by mistake"))
        .await;

    let second = app
        .start(req.clone().request_id(&requests::unique("start")))
        .await;
    assert!(second.created, "the cancelled case no longer holds the key");
    let second = second.case.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(second.state, "waiting_for_customer");
    assert_eq!(second.version, 1);

    // The same after completion.
    let done = apply(&app, &second, ev::customer_replied("all good")).await;
    apply(&app, &done, ev::complete("thanks")).await;
    let third = app
        .start(req.clone().request_id(&requests::unique("start")))
        .await;
    assert!(third.created, "the completed case no longer holds the key");
    let third = third.case.unwrap();
    assert!(third.id != first.id && third.id != second.id);

    // The original request id still answers with the original case.
    let retry = app.start(req).await;
    assert_eq!(retry.case.unwrap().id, first.id);
    assert_eq!(app.list_all(Default::default()).await.len(), 3);
    app.stop().await;
}

on_both_stores!(answers_show_the_case_as_get_case_does_but_for_pending_timers);
/// Answers to state changes carry the case as stored right after the change; pending timers
/// are left to GetCase and ListCases (documented in case.proto), so an answer costs no read.
async fn answers_show_the_case_as_get_case_does_but_for_pending_timers(db: TestDb) {
    let app = spawn_app(&db).await;
    let started = app.open(requests::start("material_collection")).await;
    assert!(started.pending_timers.is_empty());
    let stored = app.get(&started.id).await;
    assert!(!stored.pending_timers.is_empty());
    assert_eq!(
        started,
        pb::Case {
            pending_timers: vec![],
            pending_drafts: vec![],
            pending_tasks: vec![],
            ..stored
        },
        "the StartCase answer is the case as stored"
    );

    let change = app
        .send(
            &started.id,
            ev::wait_for("executor", "check the device", &[]),
        )
        .await;
    let after = change.case.unwrap();
    assert_eq!(
        after,
        pb::Case {
            pending_timers: vec![],
            pending_drafts: vec![],
            pending_tasks: vec![],
            ..app.get(&started.id).await
        },
        "the SignalCase answer is the case as stored"
    );
    app.stop().await;
}
