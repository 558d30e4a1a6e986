//! GetCase by business key: the open case with the key, else the most recently opened closed
//! one; NOT_FOUND naming the key when there is none; and `aijia case get --type --business-key`.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{self, StartExt};
use aijia_tests::{TestApp, TestDb, expect_status, on_both_stores, spawn_app};
use tonic::{Code, Status};

use crate::support::cli;

async fn by_key(app: &TestApp, workflow_type: &str, key: &str) -> Result<pb::Case, Status> {
    app.client()
        .get_case(pb::GetCaseRequest {
            workflow_type: workflow_type.to_owned(),
            business_key: key.to_owned(),
            ..Default::default()
        })
        .await
        .map(|r| {
            r.into_inner()
                .case
                .expect("GetCase answered without a case")
        })
}

on_both_stores!(get_case_by_business_key_prefers_the_open_case_else_the_newest_closed_one);
async fn get_case_by_business_key_prefers_the_open_case_else_the_newest_closed_one(db: TestDb) {
    let app = spawn_app(&db).await;
    let key = requests::unique("order");
    let start = || requests::start("progress_inquiry").business_key(&key);
    let first = app.open(start()).await;
    // Another type with the same key is another case.
    app.open(requests::start("material_collection").business_key(&key))
        .await;
    assert_eq!(
        by_key(&app, "progress_inquiry", &key).await.unwrap().id,
        first.id
    );

    app.cancel(requests::cancel(&first.id, "opened twice"))
        .await;
    let second = app.open(start()).await;
    let found = by_key(&app, "progress_inquiry", &key).await.unwrap();
    assert_eq!(found.id, second.id, "the open case, not the closed one");
    assert_eq!(found.state, "waiting_for_executor");

    app.cancel(requests::cancel(&second.id, "done elsewhere"))
        .await;
    let found = by_key(&app, "progress_inquiry", &key).await.unwrap();
    assert_eq!(found.id, second.id, "no open case: the newest closed one");
    assert_eq!(found.state, "cancelled");

    // Named, the case answers as by id, pending timers included.
    let third = app.open(start()).await;
    let found = by_key(&app, " progress_inquiry ", &format!(" {key} "))
        .await
        .unwrap();
    assert_eq!(found, app.get(&third.id).await);
    app.stop().await;
}

on_both_stores!(get_case_by_an_unknown_business_key_is_not_found_naming_the_key);
async fn get_case_by_an_unknown_business_key_is_not_found_naming_the_key(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    expect_status(
        by_key(&app, "progress_inquiry", "order-404").await,
        Code::NotFound,
        &["progress_inquiry", "order-404"],
    );
    expect_status(
        by_key(&app, "material_collection", &case.business_key).await,
        Code::NotFound,
        &["material_collection", &case.business_key],
    );
    expect_status(
        by_key(&app, "no_such_type", "k").await,
        Code::InvalidArgument,
        &["workflow_type"],
    );
    expect_status(
        by_key(&app, "progress_inquiry", "").await,
        Code::InvalidArgument,
        &["business_key"],
    );
    let both = app
        .client()
        .get_case(pb::GetCaseRequest {
            case_id: case.id.clone(),
            workflow_type: "progress_inquiry".into(),
            business_key: case.business_key.clone(),
        })
        .await;
    expect_status(both, Code::InvalidArgument, &["case_id", "not both"]);
    app.stop().await;
}

on_both_stores!(cli_case_get_finds_a_case_by_type_and_business_key);
async fn cli_case_get_finds_a_case_by_type_and_business_key(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = app.open(requests::start("progress_inquiry")).await;
    let key = case.business_key.as_str();
    let (ok, stdout, stderr) = cli(
        &app,
        &[
            "case",
            "get",
            "--json",
            "--type",
            "progress_inquiry",
            "--business-key",
            key,
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(shown["id"], case.id.as_str());

    let (ok, _, stderr) = cli(
        &app,
        &[
            "case",
            "get",
            "--type",
            "progress_inquiry",
            "--business-key",
            "order-404",
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("NOT_FOUND") && stderr.contains("order-404"),
        "{stderr}"
    );
    app.stop().await;
}
