//! Real concurrency against one case or one business key: optimistic versions must serialize
//! writers without losing or doubling an event, and the database must refuse a second open
//! case for a key however the requests interleave.

use std::collections::BTreeSet;
use std::sync::Arc;

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestDb, on_both_stores, spawn_app};
use futures::future::join_all;

on_both_stores!(concurrent_signals_on_one_case_all_apply_in_one_gapless_sequence);
async fn concurrent_signals_on_one_case_all_apply_in_one_gapless_sequence(db: TestDb) {
    const SIGNALS: i64 = 50;
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    // Both events leave a material collection case waiting for the customer.
    let requests: Vec<pb::SignalCaseRequest> = (0..SIGNALS)
        .map(|i| {
            let event = if i % 2 == 0 {
                ev::reassign_owner(&format!("owner-{i}"))
            } else {
                ev::customer_replied(&format!("message {i}"))
            };
            requests::signal(&case.id, event)
        })
        .collect();
    let calls = requests.iter().cloned().map(|req| {
        let mut client = app.client();
        tokio::spawn(async move { client.signal_case(req).await })
    });
    let mut seqs = BTreeSet::new();
    for (req, result) in requests.iter().zip(join_all(calls).await) {
        let change = match result.unwrap() {
            Ok(resp) => resp.into_inner().change.unwrap(),
            Err(status) => panic!(
                "{} failed: {:?} {}",
                req.request_id,
                status.code(),
                status.message()
            ),
        };
        assert!(!change.duplicate);
        assert_eq!(change.case.as_ref().unwrap().version, change.event_seq);
        assert!(
            seqs.insert(change.event_seq),
            "seq {} answered twice",
            change.event_seq
        );
    }
    assert_eq!(
        seqs,
        (2..=SIGNALS + 1).collect(),
        "every answer got its own seq"
    );

    let history = app.history(&case.id).await;
    let got: Vec<i64> = history.iter().map(|e| e.seq).collect();
    assert_eq!(
        got,
        (1..=SIGNALS + 1).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let sent: BTreeSet<&str> = requests.iter().map(|r| r.request_id.as_str()).collect();
    let stored: BTreeSet<&str> = history[1..].iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(stored, sent, "each request exactly once");
    let stored_case = app.get(&case.id).await;
    assert_eq!(stored_case.version, SIGNALS + 1);
    assert_eq!(stored_case.state, "waiting_for_customer");
    // The last reassignment in history order is the owner.
    let last_owner = history
        .iter()
        .rev()
        .find_map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload_json).ok()?;
            payload["owner"].as_str().map(str::to_owned)
        })
        .unwrap();
    assert_eq!(stored_case.owner, last_owner);
    let replay = app.replay(&case.id).await;
    assert!(replay.matches, "{replay:?}");
    app.stop().await;
}

on_both_stores!(concurrent_retries_of_one_signal_apply_it_once);
async fn concurrent_retries_of_one_signal_apply_it_once(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    let req = requests::signal(&case.id, ev::reassign_owner("bob"));
    let calls = (0..10).map(|_| {
        let (mut client, req) = (app.client(), req.clone());
        tokio::spawn(async move { client.signal_case(req).await })
    });
    let changes: Vec<pb::CaseChange> = join_all(calls)
        .await
        .into_iter()
        .map(|r| {
            r.unwrap()
                .expect("every retry succeeds")
                .into_inner()
                .change
                .unwrap()
        })
        .collect();
    assert!(changes.iter().all(|c| c.event_seq == 2), "{changes:?}");
    assert_eq!(
        changes.iter().filter(|c| !c.duplicate).count(),
        1,
        "one applied, the rest duplicates"
    );
    assert_eq!(app.history(&case.id).await.len(), 2);
    app.stop().await;
}

on_both_stores!(concurrent_starts_with_one_business_key_open_one_case);
async fn concurrent_starts_with_one_business_key_open_one_case(db: TestDb) {
    let app = spawn_app(&db).await;
    let template = requests::start("appointment_confirmation").customer(&requests::unique("racer"));
    let customer = template.customer.clone().unwrap().id;
    let calls = (0..20).map(|_| {
        let mut client = app.client();
        let req = template.clone().request_id(&requests::unique("start"));
        tokio::spawn(async move { client.start_case(req).await })
    });
    let answers: Vec<pb::StartCaseResponse> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("every start succeeds").into_inner())
        .collect();
    assert_eq!(
        answers.iter().filter(|a| a.created).count(),
        1,
        "exactly one created the case"
    );
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.case.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids.len(), 1, "all answers name the same case: {ids:?}");

    let listed = app
        .list_all(pb::ListCasesRequest {
            customer_id: customer,
            ..Default::default()
        })
        .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(app.history(&listed[0].id).await.len(), 1);
    app.stop().await;
}

on_both_stores!(concurrent_retries_of_one_start_request_get_one_created_and_the_rest_duplicates);
async fn concurrent_retries_of_one_start_request_get_one_created_and_the_rest_duplicates(
    db: TestDb,
) {
    let app = spawn_app(&db).await;
    let req = Arc::new(requests::start("progress_inquiry"));
    let calls = (0..10).map(|_| {
        let (mut client, req) = (app.client(), Arc::clone(&req));
        tokio::spawn(async move { client.start_case((*req).clone()).await })
    });
    let answers: Vec<pb::StartCaseResponse> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("every retry succeeds").into_inner())
        .collect();
    assert_eq!(
        answers.iter().filter(|a| a.created).count(),
        1,
        "one call created the case"
    );
    assert!(
        answers.iter().all(|a| a.created != a.duplicate),
        "every other call is answered as a duplicate of it"
    );
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.case.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.list_all(Default::default()).await.len(), 1);
    app.stop().await;
}
