//! The standard gRPC services beside `aijia.v1`: health and reflection.

use aijia_tests::process::health;
use aijia_tests::{TestDb, on_both_stores, spawn_app};
use futures::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

on_both_stores!(health_check_reports_the_server_and_case_service_serving);
async fn health_check_reports_the_server_and_case_service_serving(db: TestDb) {
    let app = spawn_app(&db).await;
    assert_eq!(
        health(app.channel.clone(), "").await,
        Some(ServingStatus::Serving)
    );
    assert_eq!(
        health(app.channel.clone(), "aijia.v1.CaseService").await,
        Some(ServingStatus::Serving)
    );
    app.stop().await;
}

on_both_stores!(reflection_lists_the_case_service);
async fn reflection_lists_the_case_service(db: TestDb) {
    let app = spawn_app(&db).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(app.channel.clone())
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .next()
        .await
        .expect("one response")
        .expect("a successful response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a list of services, got {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in ["aijia.v1.CaseService", "grpc.health.v1.Health"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    drop(responses);
    app.stop().await;
}
