//! GetCaseHistory: every event in order with who sent it, its request id, its payload, its
//! effects and the state after it; paged with page_size and page_token.

use aijia_tests::requests::{self, SignalExt, StartExt, ev};
use aijia_tests::{TestDb, on_both_stores, spawn_app};
use chrono::TimeDelta;

use crate::support::time;

on_both_stores!(history_lists_every_event_in_order_with_actor_request_id_and_state_after);
async fn history_lists_every_event_in_order_with_actor_request_id_and_state_after(db: TestDb) {
    let app = spawn_app(&db).await;
    let start = requests::start("material_collection").attr("materials", "invoice");
    let case = app.open(start.clone()).await;
    let first_timers = app.get(&case.id).await.pending_timers.len();
    let steps = [
        (
            ev::customer_replied("hello"),
            "customer",
            "li-wei",
            "waiting_for_customer",
        ),
        (
            ev::request_review("refund above limit"),
            "case",
            "case-agent",
            "waiting_for_review",
        ),
        (
            ev::review_decided(false, "no refund"),
            "reviewer",
            "rev-1",
            "waiting_for_customer",
        ),
        (
            ev::reassign_owner("bob"),
            "operator",
            "alice",
            "waiting_for_customer",
        ),
        (
            ev::material_provided(&["invoice"], "attached"),
            "customer",
            "li-wei",
            "received",
        ),
        (ev::complete("done"), "operator", "alice", "completed"),
    ];
    let mut sent = Vec::new();
    for (i, (event, role, id, _)) in steps.iter().enumerate() {
        app.clock.advance(TimeDelta::minutes(10));
        let req = requests::signal(&case.id, event.clone()).actor(role, id);
        let change = app.signal(req.clone()).await;
        assert_eq!(change.event_seq, i as i64 + 2);
        sent.push((
            req.request_id,
            time(change.case.unwrap().updated_at.as_ref()),
        ));
    }

    let history = app.history(&case.id).await;
    let seqs: Vec<i64> = history.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "started",
            "customer_replied",
            "request_review",
            "review_decided",
            "reassign_owner",
            "material_provided",
            "complete",
        ]
    );

    let started = &history[0];
    assert_eq!(started.request_id, start.request_id);
    assert_eq!(started.actor.as_ref().unwrap().role, "reception");
    assert_eq!(started.actor.as_ref().unwrap().id, "reception-agent");
    assert_eq!(started.state_after, "waiting_for_customer");
    assert_eq!(time(started.at.as_ref()), time(case.created_at.as_ref()));
    let payload: serde_json::Value = serde_json::from_str(&started.payload_json).unwrap();
    assert_eq!(payload["business_key"], start.business_key.as_str());
    let effects: serde_json::Value = serde_json::from_str(&started.effects_json).unwrap();
    let timers = effects
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "start_timer")
        .count();
    assert!(timers > 0, "the first wait starts its timers: {effects}");
    assert_eq!(
        timers, first_timers,
        "the started timers are the pending ones: {effects}"
    );

    for (event, ((_, role, id, state), (request_id, at))) in
        history[1..].iter().zip(steps.iter().zip(&sent))
    {
        let actor = event.actor.as_ref().unwrap();
        assert_eq!(
            (actor.role.as_str(), actor.id.as_str()),
            (*role, *id),
            "actor of {}",
            event.seq
        );
        assert_eq!(&event.request_id, request_id);
        assert_eq!(event.state_after, *state, "state after {}", event.seq);
        assert_eq!(time(event.at.as_ref()), *at, "time of {}", event.seq);
        let payload: serde_json::Value = serde_json::from_str(&event.payload_json).unwrap();
        assert_eq!(payload["type"], event.event_type.as_str());
        let _: serde_json::Value = serde_json::from_str(&event.effects_json).unwrap();
    }
    let reply: serde_json::Value = serde_json::from_str(&history[1].payload_json).unwrap();
    assert_eq!(reply["text"], "hello");
    let decided: serde_json::Value = serde_json::from_str(&history[3].payload_json).unwrap();
    assert_eq!(decided["approved"], false);
    assert_eq!(decided["note"], "no refund");
    app.stop().await;
}

on_both_stores!(history_pages_with_page_size_and_token);
async fn history_pages_with_page_size_and_token(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    for i in 0..6 {
        app.send(&case.id, ev::reassign_owner(&format!("owner-{i}")))
            .await;
    }
    let all = app.history(&case.id).await;
    assert_eq!(all.len(), 7);

    for (size, expected) in [
        (3, vec![3, 3, 1]),
        (2, vec![2, 2, 2, 1]),
        (7, vec![7]),
        (1, vec![1; 7]),
    ] {
        let mut sizes = Vec::new();
        let mut seqs = Vec::new();
        let mut token = String::new();
        loop {
            let page = app.history_page(&case.id, size, &token).await;
            sizes.push(page.events.len());
            seqs.extend(page.events.iter().map(|e| e.seq));
            assert!(sizes.len() <= 7, "too many pages");
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(sizes, expected, "page sizes for page_size {size}");
        assert_eq!(seqs, (1..=7).collect::<Vec<_>>(), "page_size {size}");
    }
    let default = app.history_page(&case.id, 0, "").await;
    assert_eq!(
        default.events.len(),
        7,
        "page_size 0 means the default (100)"
    );
    assert!(default.next_page_token.is_empty());
    app.stop().await;
}
