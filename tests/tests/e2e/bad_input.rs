//! Invalid requests: each is refused with its status code and a message naming the field, and
//! none of them writes anything.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

use crate::support::assert_unchanged;

const UNKNOWN_CASE: &str = "0190f0c2-7b1e-7c3a-8d4e-5f6a7b8c9d0e";

/// The database holds exactly `expected` (one case, as it was).
async fn assert_nothing_written(app: &TestApp, expected: &pb::Case) {
    let all = app.list_all(pb::ListCasesRequest::default()).await;
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [expected.id.as_str()], "no other case was created");
    assert_unchanged(app, expected).await;
}

on_both_stores!(invalid_start_requests_are_refused_naming_the_field);
async fn invalid_start_requests_are_refused_naming_the_field(db: TestDb) {
    let app = spawn_app(&db).await;
    let existing = app.open(requests::start("material_collection")).await;
    let mut client = app.client();

    let cases: Vec<(pb::StartCaseRequest, &[&str])> = vec![
        (
            requests::start("material_collection").request_id(""),
            &["request_id"],
        ),
        (
            requests::start("material_collection").request_id("   "),
            &["request_id"],
        ),
        (
            requests::start("material_collection").request_id(&"x".repeat(201)),
            &["request_id"],
        ),
        (
            requests::start("refund"),
            &[
                "workflow_type",
                "refund",
                "material_collection",
                "progress_inquiry",
                "appointment_confirmation",
                "partner_cooperation_request",
                "completion_feedback",
            ],
        ),
        (requests::start(""), &["workflow_type"]),
        (
            pb::StartCaseRequest {
                customer: None,
                ..requests::start("progress_inquiry")
            },
            &["customer"],
        ),
        (
            requests::start("progress_inquiry").customer(""),
            &["customer.id"],
        ),
        (
            requests::start("progress_inquiry").business_key(""),
            &["business_key"],
        ),
        (
            requests::start("progress_inquiry").business_key("  "),
            &["business_key"],
        ),
        (requests::start("progress_inquiry").owner(""), &["owner"]),
        (
            pb::StartCaseRequest {
                actor: None,
                ..requests::start("progress_inquiry")
            },
            &["actor"],
        ),
        (
            pb::StartCaseRequest {
                actor: Some(requests::actor("wizard", "merlin")),
                ..requests::start("progress_inquiry")
            },
            &["actor.role", "wizard", "operator", "reception"],
        ),
        (
            pb::StartCaseRequest {
                actor: Some(requests::actor("", "x")),
                ..requests::start("progress_inquiry")
            },
            &["actor.role"],
        ),
        (
            requests::start("progress_inquiry").business_key(&"k".repeat(201)),
            &["business_key", "200"],
        ),
        (
            requests::start("progress_inquiry").subject(&"s".repeat(10_001)),
            &["subject", "10000"],
        ),
        (
            (0..65).fold(requests::start("progress_inquiry"), |r, i| {
                r.attr(&format!("k{i}"), "v")
            }),
            &["attributes", "64"],
        ),
    ];
    for (req, needles) in cases {
        let result = client.start_case(req.clone()).await;
        expect_status(result, Code::InvalidArgument, needles);
    }
    assert_nothing_written(&app, &existing).await;
    app.stop().await;
}

on_both_stores!(invalid_signals_are_refused_naming_the_field);
async fn invalid_signals_are_refused_naming_the_field(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    let mut client = app.client();
    let signal = |event| requests::signal(&case.id, event);

    let invalid: Vec<(pb::SignalCaseRequest, &[&str])> = vec![
        (
            pb::SignalCaseRequest {
                request_id: String::new(),
                ..signal(ev::customer_replied("hi"))
            },
            &["request_id"],
        ),
        (
            pb::SignalCaseRequest {
                case_id: "not-a-uuid".into(),
                ..signal(ev::customer_replied("hi"))
            },
            &["case_id", "not-a-uuid"],
        ),
        (
            pb::SignalCaseRequest {
                case_id: String::new(),
                ..signal(ev::customer_replied("hi"))
            },
            &["case_id"],
        ),
        (
            pb::SignalCaseRequest {
                actor: None,
                ..signal(ev::customer_replied("hi"))
            },
            &["actor"],
        ),
        (
            pb::SignalCaseRequest {
                actor: Some(requests::actor("ghost", "")),
                ..signal(ev::customer_replied("hi"))
            },
            &["actor.role", "ghost"],
        ),
        (
            pb::SignalCaseRequest {
                event: None,
                ..signal(ev::customer_replied("hi"))
            },
            &["event", "customer_replied"],
        ),
        (
            signal(ev::wait_for("nobody", "something", &[])),
            &["wait_for.party", "nobody", "customer"],
        ),
        (
            signal(ev::wait_for("", "something", &[])),
            &["wait_for.party"],
        ),
        (signal(ev::wait_for("customer", "", &[])), &["what"]),
        (signal(ev::reassign_owner("  ")), &["reassign_owner.owner"]),
        (signal(ev::request_review("")), &["request_review.reason"]),
        (
            signal(ev::partner_waits_for_customer("")),
            &["partner_waits_for_customer.what"],
        ),
        (
            signal(ev::material_provided(&[""], "")),
            &["material_provided.items"],
        ),
        (
            signal(ev::customer_replied(&"t".repeat(10_001))),
            &["customer_replied.text", "10000"],
        ),
        // Well-formed, but not for this case: the state machine explains.
        (
            signal(ev::material_provided(&["passport"], "")),
            &["passport", "invoice"],
        ),
        (
            signal(ev::wait_for("partner", "a partner", &[])),
            &["partner", "customer, executor"],
        ),
        (
            signal(ev::wait_for("review", "a reviewer", &[])),
            &["request_review"],
        ),
    ];
    for (req, needles) in invalid {
        let result = client.signal_case(req.clone()).await;
        expect_status(result, Code::InvalidArgument, needles);
    }

    let unknown = pb::SignalCaseRequest {
        case_id: UNKNOWN_CASE.into(),
        ..signal(ev::customer_replied("hi"))
    };
    expect_status(
        client.signal_case(unknown).await,
        Code::NotFound,
        &[UNKNOWN_CASE],
    );
    expect_status(
        client
            .cancel_case(requests::cancel(UNKNOWN_CASE, "x"))
            .await,
        Code::NotFound,
        &[UNKNOWN_CASE],
    );
    expect_status(
        client.cancel_case(requests::cancel("nope", "x")).await,
        Code::InvalidArgument,
        &["case_id"],
    );
    expect_status(
        client
            .cancel_case(pb::CancelCaseRequest {
                request_id: String::new(),
                ..requests::cancel(&case.id, "x")
            })
            .await,
        Code::InvalidArgument,
        &["request_id"],
    );
    expect_status(
        client
            .cancel_case(pb::CancelCaseRequest {
                actor: None,
                ..requests::cancel(&case.id, "x")
            })
            .await,
        Code::InvalidArgument,
        &["actor"],
    );
    assert_nothing_written(&app, &case).await;
    app.stop().await;
}

on_both_stores!(invalid_reads_are_refused_naming_the_field);
async fn invalid_reads_are_refused_naming_the_field(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    let mut client = app.client();

    for bad in ["", "not-a-uuid", "0190f0c2-7b1e-7c3a-8d4e"] {
        let get = pb::GetCaseRequest {
            case_id: bad.into(),
            ..Default::default()
        };
        expect_status(
            client.get_case(get).await,
            Code::InvalidArgument,
            &["case_id"],
        );
        let history = pb::GetCaseHistoryRequest {
            case_id: bad.into(),
            ..Default::default()
        };
        expect_status(
            client.get_case_history(history).await,
            Code::InvalidArgument,
            &["case_id"],
        );
        let replay = pb::ReplayCaseRequest {
            case_id: bad.into(),
        };
        expect_status(
            client.replay_case(replay).await,
            Code::InvalidArgument,
            &["case_id"],
        );
    }
    let get = pb::GetCaseRequest {
        case_id: UNKNOWN_CASE.into(),
        ..Default::default()
    };
    expect_status(client.get_case(get).await, Code::NotFound, &[UNKNOWN_CASE]);
    let history = pb::GetCaseHistoryRequest {
        case_id: UNKNOWN_CASE.into(),
        ..Default::default()
    };
    expect_status(
        client.get_case_history(history).await,
        Code::NotFound,
        &[UNKNOWN_CASE],
    );
    let replay = pb::ReplayCaseRequest {
        case_id: UNKNOWN_CASE.into(),
    };
    expect_status(
        client.replay_case(replay).await,
        Code::NotFound,
        &[UNKNOWN_CASE],
    );

    for page_size in [-1, 1001] {
        let history = pb::GetCaseHistoryRequest {
            case_id: case.id.clone(),
            page_size,
            page_token: String::new(),
        };
        expect_status(
            client.get_case_history(history).await,
            Code::InvalidArgument,
            &["page_size", "1000"],
        );
    }
    for token in ["abc", "-1", "1.5"] {
        let history = pb::GetCaseHistoryRequest {
            case_id: case.id.clone(),
            page_size: 0,
            page_token: token.into(),
        };
        expect_status(
            client.get_case_history(history).await,
            Code::InvalidArgument,
            &["page_token"],
        );
    }

    let list: Vec<(pb::ListCasesRequest, &[&str])> = vec![
        (
            pb::ListCasesRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            &["page_token"],
        ),
        (
            pb::ListCasesRequest {
                page_size: -1,
                ..Default::default()
            },
            &["page_size", "500"],
        ),
        (
            pb::ListCasesRequest {
                page_size: 501,
                ..Default::default()
            },
            &["page_size", "500"],
        ),
        (
            pb::ListCasesRequest {
                waiting_longer_than: Some(prost_types::Duration {
                    seconds: -1,
                    nanos: 0,
                }),
                ..Default::default()
            },
            &["waiting_longer_than"],
        ),
        (
            pb::ListCasesRequest {
                waiting_longer_than: Some(prost_types::Duration {
                    seconds: 0,
                    nanos: -5,
                }),
                ..Default::default()
            },
            &["waiting_longer_than"],
        ),
        (
            pb::ListCasesRequest {
                state: "sleeping".into(),
                ..Default::default()
            },
            &["state", "sleeping", "waiting_for_customer"],
        ),
        (
            pb::ListCasesRequest {
                waiting_for: "godot".into(),
                ..Default::default()
            },
            &["waiting_for", "godot", "partner"],
        ),
        (
            pb::ListCasesRequest {
                workflow_type: "refund".into(),
                ..Default::default()
            },
            &["workflow_type", "material_collection"],
        ),
    ];
    for (req, needles) in list {
        expect_status(
            client.list_cases(req.clone()).await,
            Code::InvalidArgument,
            needles,
        );
    }
    // The edges of the allowed page sizes are fine.
    for page_size in [1, 500] {
        let page = app
            .list(pb::ListCasesRequest {
                page_size,
                ..Default::default()
            })
            .await;
        assert_eq!(page.cases.len(), 1);
    }
    assert_nothing_written(&app, &case).await;
    app.stop().await;
}
