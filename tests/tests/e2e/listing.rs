//! ListCases: every filter alone and combined, waiting time, and paging newest first.

use std::collections::BTreeSet;

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, on_both_stores, spawn_app};
use chrono::TimeDelta;

use crate::support::apply;

/// The ids (as a set) of the cases that match `filter`, across all pages.
async fn ids(app: &TestApp, filter: pb::ListCasesRequest) -> BTreeSet<String> {
    app.list_all(filter)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn set(cases: &[&pb::Case]) -> BTreeSet<String> {
    cases.iter().map(|c| c.id.clone()).collect()
}

fn longer_than(seconds: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos: 0 })
}

on_both_stores!(list_cases_filters_by_each_field_and_by_combinations);
async fn list_cases_filters_by_each_field_and_by_combinations(db: TestDb) {
    let app = spawn_app(&db).await;
    let a = app
        .open(
            requests::start("material_collection")
                .owner("alice")
                .customer("c1"),
        )
        .await;
    let b = app
        .open(
            requests::start("progress_inquiry")
                .owner("bob")
                .customer("c1"),
        )
        .await;
    let c = app
        .open(
            requests::start("appointment_confirmation")
                .owner("alice")
                .customer("c2"),
        )
        .await;
    let d = app
        .open(
            requests::start("completion_feedback")
                .owner("bob")
                .customer("c2"),
        )
        .await;
    let d = apply(&app, &d, ev::customer_replied("great")).await;
    let e = app
        .open(
            requests::start("partner_cooperation_request")
                .owner("alice")
                .customer("c3"),
        )
        .await;
    let f = app
        .open(
            requests::start("progress_inquiry")
                .owner("alice")
                .customer("c3"),
        )
        .await;
    app.cancel(requests::cancel(&f.id, "duplicate")).await;

    let all = ids(&app, pb::ListCasesRequest::default()).await;
    assert_eq!(all, set(&[&a, &b, &c, &d, &e, &f]));

    let cases: [(pb::ListCasesRequest, BTreeSet<String>); 14] = [
        (
            pb::ListCasesRequest {
                state: "waiting_for_customer".into(),
                ..Default::default()
            },
            set(&[&a, &c]),
        ),
        (
            pb::ListCasesRequest {
                state: "received".into(),
                ..Default::default()
            },
            set(&[&d]),
        ),
        (
            pb::ListCasesRequest {
                state: "cancelled".into(),
                ..Default::default()
            },
            set(&[&f]),
        ),
        (
            pb::ListCasesRequest {
                state: "completed".into(),
                ..Default::default()
            },
            set(&[]),
        ),
        (
            pb::ListCasesRequest {
                waiting_for: "customer".into(),
                ..Default::default()
            },
            set(&[&a, &c]),
        ),
        (
            pb::ListCasesRequest {
                waiting_for: "partner".into(),
                ..Default::default()
            },
            set(&[&e]),
        ),
        (
            pb::ListCasesRequest {
                waiting_for: "review".into(),
                ..Default::default()
            },
            set(&[]),
        ),
        (
            pb::ListCasesRequest {
                workflow_type: "progress_inquiry".into(),
                ..Default::default()
            },
            set(&[&b, &f]),
        ),
        (
            pb::ListCasesRequest {
                owner: "alice".into(),
                ..Default::default()
            },
            set(&[&a, &c, &e, &f]),
        ),
        (
            pb::ListCasesRequest {
                customer_id: "c2".into(),
                ..Default::default()
            },
            set(&[&c, &d]),
        ),
        (
            pb::ListCasesRequest {
                owner: "alice".into(),
                waiting_for: "customer".into(),
                ..Default::default()
            },
            set(&[&a, &c]),
        ),
        (
            pb::ListCasesRequest {
                owner: "alice".into(),
                customer_id: "c3".into(),
                state: "waiting_for_partner".into(),
                ..Default::default()
            },
            set(&[&e]),
        ),
        (
            pb::ListCasesRequest {
                workflow_type: "progress_inquiry".into(),
                owner: "bob".into(),
                customer_id: "c1".into(),
                ..Default::default()
            },
            set(&[&b]),
        ),
        (
            pb::ListCasesRequest {
                workflow_type: "progress_inquiry".into(),
                state: "received".into(),
                ..Default::default()
            },
            set(&[]),
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(&app, filter.clone()).await,
            expected,
            "filter {filter:?}"
        );
    }
    app.stop().await;
}

on_both_stores!(list_cases_waiting_longer_than_counts_from_when_the_wait_began);
async fn list_cases_waiting_longer_than_counts_from_when_the_wait_began(db: TestDb) {
    let app = spawn_app(&db).await;
    let a = app.open(requests::start("material_collection")).await;
    let b = app.open(requests::start("progress_inquiry")).await;
    let received = app.open(requests::start("completion_feedback")).await;
    apply(&app, &received, ev::customer_replied("ok")).await;

    let zero = pb::ListCasesRequest {
        waiting_longer_than: longer_than(0),
        ..Default::default()
    };
    assert_eq!(
        ids(&app, zero.clone()).await,
        set(&[&a, &b]),
        "zero includes every waiting case"
    );
    let huge = pb::ListCasesRequest {
        waiting_longer_than: longer_than(10 * 365 * 86_400),
        ..Default::default()
    };
    assert!(
        ids(&app, huge).await.is_empty(),
        "nobody has waited ten years"
    );

    // Clock steps stay far below any timer delay, so no timer fires and moves a case.
    app.clock.advance(TimeDelta::minutes(20));
    let c = app.open(requests::start("appointment_confirmation")).await;
    // b starts a new wait (for the customer) now: its wait is counted from now.
    let b = apply(&app, &b, ev::wait_for("customer", "the order number", &[])).await;
    let ten = pb::ListCasesRequest {
        waiting_longer_than: longer_than(600),
        ..Default::default()
    };
    assert_eq!(ids(&app, ten.clone()).await, set(&[&a]));
    assert_eq!(ids(&app, zero).await, set(&[&a, &b, &c]));

    app.clock.advance(TimeDelta::minutes(20));
    assert_eq!(ids(&app, ten.clone()).await, set(&[&a, &b, &c]));
    let thirty = pb::ListCasesRequest {
        waiting_longer_than: longer_than(1800),
        ..Default::default()
    };
    assert_eq!(ids(&app, thirty.clone()).await, set(&[&a]));
    // Combined with other filters.
    let mut for_customer = ten;
    for_customer.waiting_for = "customer".into();
    assert_eq!(ids(&app, for_customer).await, set(&[&a, &b, &c]));
    let mut inquiry = thirty;
    inquiry.workflow_type = "progress_inquiry".into();
    assert!(ids(&app, inquiry).await.is_empty());
    app.stop().await;
}

on_both_stores!(list_cases_pages_newest_first_without_gaps_or_duplicates);
async fn list_cases_pages_newest_first_without_gaps_or_duplicates(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut opened = Vec::new();
    for i in 0..7 {
        let owner = if i % 2 == 0 { "even" } else { "odd" };
        opened.push(
            app.open(requests::start("progress_inquiry").owner(owner))
                .await
                .id,
        );
    }
    let newest_first: Vec<String> = opened.iter().rev().cloned().collect();

    let everything = app.list(pb::ListCasesRequest::default()).await;
    assert!(everything.next_page_token.is_empty());
    let listed: Vec<String> = everything.cases.iter().map(|c| c.id.clone()).collect();
    assert_eq!(listed, newest_first, "one default page, newest first");

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .list(pb::ListCasesRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await;
        pages.push(page.cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>());
        assert!(pages.len() <= 4, "too many pages: {pages:?}");
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 2, 1]);
    assert_eq!(
        pages.concat(),
        newest_first,
        "the pages, joined, are the whole list"
    );

    // A filtered list that fills its last page exactly ends with an empty token there.
    let even: Vec<String> = newest_first
        .iter()
        .filter(|id| {
            opened
                .iter()
                .position(|o| o == *id)
                .is_some_and(|i| i % 2 == 0)
        })
        .cloned()
        .collect();
    let first = app
        .list(pb::ListCasesRequest {
            owner: "even".into(),
            page_size: 2,
            ..Default::default()
        })
        .await;
    assert!(!first.next_page_token.is_empty());
    let second = app
        .list(pb::ListCasesRequest {
            owner: "even".into(),
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await;
    assert!(
        second.next_page_token.is_empty(),
        "four cases fill two pages of two exactly"
    );
    let joined: Vec<String> = first
        .cases
        .iter()
        .chain(&second.cases)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(joined, even);
    app.stop().await;
}

on_both_stores!(list_cases_with_an_out_of_range_waiting_longer_than_is_refused_not_a_crash);
async fn list_cases_with_an_out_of_range_waiting_longer_than_is_refused_not_a_crash(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    // A valid Duration and TimeDelta (about 317,000 years), but now minus it is before the
    // earliest time chrono can represent.
    let absurd = pb::ListCasesRequest {
        waiting_longer_than: longer_than(10_000_000_000_000),
        ..Default::default()
    };
    let result = app.client().list_cases(absurd).await;
    match result {
        Ok(page) => assert!(
            page.into_inner().cases.is_empty(),
            "nobody has waited that long"
        ),
        Err(status) => {
            aijia_tests::expect_status(
                Err::<(), _>(status),
                tonic::Code::InvalidArgument,
                &["waiting_longer_than"],
            );
        }
    }
    assert_eq!(
        ids(&app, pb::ListCasesRequest::default()).await,
        set(&[&case])
    );
    app.stop().await;
}
