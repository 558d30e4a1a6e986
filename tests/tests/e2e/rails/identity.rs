//! Identity before context over gRPC: a customer's private context is refused (and the
//! refusal recorded in the case's history) until identity is confirmed, then given; drafts
//! with customer-specific progress wait for review until then, while requests for
//! identifying information may go out.

use aijia_proto::v1 as pb;
use aijia_tests::requests::{actor, unique};
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

use super::support::*;
use crate::support::assert_unchanged;

fn confirm(case_id: &str, method: &str, evidence: &str) -> pb::ConfirmIdentityRequest {
    pb::ConfirmIdentityRequest {
        request_id: unique("identity"),
        case_id: case_id.to_owned(),
        method: method.to_owned(),
        evidence: evidence.to_owned(),
        actor: Some(actor("identity", "identity-agent")),
        status: String::new(),
    }
}

fn ask(case_id: &str) -> pb::GetCustomerContextRequest {
    pb::GetCustomerContextRequest {
        case_id: case_id.to_owned(),
        actor: Some(actor("knowledge", "knowledge-agent")),
        purpose: "draft a progress update".into(),
        request_id: String::new(),
        task_id: 0,
    }
}

on_both_stores!(context_is_refused_and_recorded_before_confirmation_and_given_after);
async fn context_is_refused_and_recorded_before_confirmation_and_given_after(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = material_case(&app).await;
    let customer = case.customer.clone().unwrap().id;
    identity(&app)
        .put_customer_context(pb::PutCustomerContextRequest {
            customer_id: customer.clone(),
            context_json: r#"{"orders": ["58213"], "vip": true}"#.into(),
            actor: Some(actor("backend", "crm")),
        })
        .await
        .expect("PutCustomerContext");

    for attempt in 1..=2 {
        let status = expect_status(
            identity(&app).get_customer_context(ask(&case.id)).await,
            Code::PermissionDenied,
            &["identity is unknown", "not confirmed", "recorded"],
        );
        assert!(
            status.message().contains(&format!("#{}", attempt + 1)),
            "{}",
            status.message()
        );
    }
    let refusals = events_of(&app, &case.id, "context_access_refused").await;
    assert_eq!(refusals.len(), 2, "every refusal is recorded");
    assert_eq!(refusals[0].0, "knowledge:knowledge-agent");
    assert_eq!(refusals[0].1["identity"], "unknown");
    // A claim is not a confirmation.
    let mut claim = confirm(&case.id, "", "");
    claim.status = "claimed".into();
    identity(&app)
        .confirm_identity(claim)
        .await
        .expect("claimed");
    expect_status(
        identity(&app).get_customer_context(ask(&case.id)).await,
        Code::PermissionDenied,
        &["identity is claimed"],
    );

    let change = identity(&app)
        .confirm_identity(confirm(
            &case.id,
            "order_number_match",
            "order 58213 and phone match",
        ))
        .await
        .expect("ConfirmIdentity")
        .into_inner()
        .change
        .unwrap();
    assert_eq!(change.case.unwrap().customer.unwrap().identity, "confirmed");
    let recorded = events_of(&app, &case.id, "identity_recorded").await;
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].0, "identity:identity-agent");
    assert_eq!(recorded[1].1["method"], "order_number_match");

    let given = identity(&app)
        .get_customer_context(ask(&case.id))
        .await
        .expect("GetCustomerContext")
        .into_inner();
    assert!(given.found);
    assert_eq!(given.customer_id, customer);
    let context: serde_json::Value = serde_json::from_str(&given.context_json).unwrap();
    assert_eq!(context["vip"], true);
    assert_eq!(given.updated_by, "backend:crm");
    // The granted read is in the history too, at the seq the answer names.
    let history = app.history(&case.id).await;
    let read = history
        .iter()
        .find(|e| e.event_type == "context_access_granted")
        .expect("the granted read is recorded");
    assert_eq!(read.seq, given.recorded_seq);
    assert_eq!(
        read.actor.as_ref().map(|a| a.id.as_str()),
        Some("knowledge-agent")
    );
    assert!(read.payload_json.contains("draft a progress update"));
    assert_eq!(
        events_of(&app, &case.id, "context_access_refused")
            .await
            .len(),
        3
    );
    // A repeated request id is the same read, recorded once.
    let mut again = ask(&case.id);
    again.request_id = "read-once".into();
    let first = identity(&app)
        .get_customer_context(again.clone())
        .await
        .expect("read")
        .into_inner();
    let second = identity(&app)
        .get_customer_context(again)
        .await
        .expect("read")
        .into_inner();
    assert_eq!(first.recorded_seq, second.recorded_seq);
    assert_eq!(
        events_of(&app, &case.id, "context_access_granted")
            .await
            .len(),
        2
    );
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(customer_specific_drafts_wait_for_review_until_identity_is_confirmed);
async fn customer_specific_drafts_wait_for_review_until_identity_is_confirmed(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "progress_reminder", "auto").await;
    force_mode(&app, "authorized_verification", "auto").await;
    force_mode(&app, "standard_faq", "auto").await;
    let case = app
        .open(aijia_tests::requests::start("progress_inquiry"))
        .await;

    let held = submit(&app, &case.id, CUSTOMER_SPECIFIC, "progress_reminder").await;
    assert_eq!(held.status, "pending_review");
    let categories: Vec<String> = held
        .assessment
        .unwrap()
        .findings
        .into_iter()
        .map(|f| f.category)
        .collect();
    assert!(
        categories.contains(&"uncertain_identity".to_owned()),
        "{categories:?}"
    );
    // Asking for identifying information, and public knowledge, may go out.
    let asks = submit(&app, &case.id, ASKS_FOR_IDENTITY, "authorized_verification").await;
    assert_eq!(asks.status, "sent");
    let faq = submit(&app, &case.id, LOW_RISK_ZH, "standard_faq").await;
    assert_eq!(faq.status, "sent");

    identity(&app)
        .confirm_identity(confirm(&case.id, "phone_match", "phone ending 5521"))
        .await
        .expect("ConfirmIdentity");
    let after = submit(&app, &case.id, CUSTOMER_SPECIFIC, "progress_reminder").await;
    assert_eq!(after.status, "sent");
    assert_eq!(after.customer_identity, "confirmed");
    app.stop().await;
}

on_both_stores!(bad_identity_input_is_refused_and_changes_nothing);
async fn bad_identity_input_is_refused_and_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = material_case(&app).await;
    expect_status(
        identity(&app)
            .confirm_identity(confirm(&case.id, "guess", "x"))
            .await,
        Code::InvalidArgument,
        &["method", "order_number_match"],
    );
    expect_status(
        identity(&app)
            .confirm_identity(confirm(&case.id, "", "x"))
            .await,
        Code::InvalidArgument,
        &["method", "required"],
    );
    expect_status(
        identity(&app)
            .confirm_identity(confirm(&case.id, "email_code", " "))
            .await,
        Code::InvalidArgument,
        &["evidence"],
    );
    let mut unknown = confirm(&case.id, "", "");
    unknown.status = "unknown".into();
    expect_status(
        identity(&app).confirm_identity(unknown).await,
        Code::InvalidArgument,
        &["status"],
    );
    expect_status(
        identity(&app)
            .put_customer_context(pb::PutCustomerContextRequest {
                customer_id: "c-1".into(),
                context_json: "[1, 2]".into(),
                actor: Some(actor("backend", "crm")),
            })
            .await,
        Code::InvalidArgument,
        &["context_json", "object"],
    );
    let mut no_actor = ask(&case.id);
    no_actor.actor = None;
    expect_status(
        identity(&app).get_customer_context(no_actor).await,
        Code::InvalidArgument,
        &["actor"],
    );
    assert_unchanged(&app, &case).await;
    app.stop().await;
}

on_both_stores!(an_activity_reading_context_is_gated_and_named_in_the_history);
async fn an_activity_reading_context_is_gated_and_named_in_the_history(db: TestDb) {
    let app = spawn_app(&db).await;
    aijia_tests::automate_templated_activities(app.channel.clone()).await;
    let case = material_case(&app).await;
    app.send(
        &case.id,
        aijia_tests::requests::ev::material_provided(&["invoice", "photo"], ""),
    )
    .await;
    let task = tasks_of(&app, &case.id).await.remove(0);
    let other = material_case(&app).await;
    let as_task = |case_id: &str, task_id: i64| pb::GetCustomerContextRequest {
        case_id: case_id.to_owned(),
        actor: Some(actor("execution", "worker-1")),
        purpose: "personalise the confirmation".into(),
        request_id: String::new(),
        task_id,
    };
    // Before confirmation the activity is refused like anyone, and named in the refusal.
    expect_status(
        identity(&app)
            .get_customer_context(as_task(&case.id, task.id))
            .await,
        Code::PermissionDenied,
        &["identity is unknown"],
    );
    let refused = events_of(&app, &case.id, "context_access_refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "execution:worker-1");
    assert_eq!(refused[0].1["task_id"], task.id);
    // A task of another case, or no task at all, is refused before anything is recorded.
    let before = app.history(&other.id).await.len();
    expect_status(
        identity(&app)
            .get_customer_context(as_task(&other.id, task.id))
            .await,
        Code::InvalidArgument,
        &["task_id", "has no task"],
    );
    expect_status(
        identity(&app)
            .get_customer_context(as_task(&other.id, -3))
            .await,
        Code::InvalidArgument,
        &["task_id"],
    );
    assert_eq!(app.history(&other.id).await.len(), before);

    identity(&app)
        .confirm_identity(confirm(&case.id, "phone_match", "phone on file"))
        .await
        .expect("ConfirmIdentity");
    let read = identity(&app)
        .get_customer_context(as_task(&case.id, task.id))
        .await
        .expect("allowed once confirmed")
        .into_inner();
    assert!(!read.found, "nothing was put for this customer");
    let granted = events_of(&app, &case.id, "context_access_granted").await;
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].1["task_id"], task.id);
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}
