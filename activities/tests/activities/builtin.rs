//! Each built-in activity run through the registry, on the inputs the workflow machines emit:
//! what it delivers where, and that bad input is a non-retryable `bad_input`.

use std::sync::Arc;
use std::time::Duration;

use aijia_activities::builtin::evidence_digest;
use aijia_activities::{
    ActivityContext, ActivityError, Adapters, Delivery, ErrorKind, RecordAdapter, Registry,
    WebhookAdapter, codes,
};
use aijia_workflows::activity;
use serde_json::{Value, json};

use super::receiver::{self, Reply, SECRET};

fn ctx(activity: &str) -> ActivityContext {
    ActivityContext {
        case_id: "0191c7a0-0000-7000-8000-000000000001".into(),
        task_id: 42,
        attempt: 1,
        idempotency_key: format!("0191c7a0-0000-7000-8000-000000000001:3:{activity}"),
    }
}

/// A registry whose every target is recorded, and the record adapter's log.
fn recording() -> (Registry, RecordAdapter) {
    let record = RecordAdapter::new();
    (Registry::builtin(Adapters::record(record.clone())), record)
}

async fn run(registry: &Registry, name: &str, input: Value) -> Result<Value, ActivityError> {
    registry.run(name, &ctx(name), input).await
}

/// Run on a recording registry; the single delivery and the output.
async fn run_recorded(name: &str, input: Value) -> (Delivery, Value) {
    let (registry, record) = recording();
    let output = run(&registry, name, input)
        .await
        .expect("the activity runs");
    let mut deliveries = record.deliveries();
    assert_eq!(deliveries.len(), 1, "one delivery: {deliveries:?}");
    let delivery = deliveries.remove(0);
    assert_eq!(delivery.kind, name);
    assert_eq!(delivery.idempotency_key, ctx(name).idempotency_key);
    assert_eq!(delivery.payload["case_id"], ctx(name).case_id);
    assert_eq!(output["receipt"]["recorded"], true);
    assert_eq!(output["receipt"]["adapter"], "record");
    (delivery, output)
}

#[test]
fn the_registry_serves_every_activity_the_workflows_can_enqueue() {
    let (registry, _) = recording();
    let mut expected = vec![
        activity::SEND_MESSAGE,
        activity::CONFIRM_MATERIAL_RECEIVED,
        activity::SEND_PROGRESS_REMINDER,
        activity::WRITEBACK_COMPLETION_FEEDBACK,
        activity::CAPTURE_EVIDENCE,
        activity::VERIFY_AUTHORIZED,
    ];
    expected.sort_unstable();
    assert_eq!(registry.names(), expected);
}

#[tokio::test]
async fn an_unknown_activity_is_not_retryable() {
    let (registry, _) = recording();
    let err = run(&registry, "send_fax", json!({}))
        .await
        .expect_err("unknown");
    assert_eq!(err.kind, ErrorKind::NonRetryable);
    assert_eq!(err.code, codes::UNKNOWN_ACTIVITY);
    assert!(err.message.contains("send_message"), "{}", err.message);
}

#[tokio::test]
async fn send_message_goes_to_the_named_recipient() {
    // As partner_cooperation_request emits it.
    let (delivery, output) = run_recorded(
        activity::SEND_MESSAGE,
        json!({ "to": "partner", "text": "here is what you asked for", "items": ["invoice"] }),
    )
    .await;
    assert_eq!(delivery.target, "partner");
    assert_eq!(delivery.payload["text"], "here is what you asked for");
    assert_eq!(delivery.payload["items"], json!(["invoice"]));
    assert_eq!(output["target"], "partner");

    // An escalation to the owner.
    let (delivery, _) = run_recorded(
        activity::SEND_MESSAGE,
        json!({ "to": "owner", "text": "case waited too long" }),
    )
    .await;
    assert_eq!(delivery.target, "owner");
    assert_eq!(delivery.payload["items"], json!([]));
}

#[tokio::test]
async fn confirm_material_received_tells_the_customer() {
    // As material_collection emits it.
    let (delivery, output) = run_recorded(
        activity::CONFIRM_MATERIAL_RECEIVED,
        json!({ "items": ["invoice", "photo of the device"] }),
    )
    .await;
    assert_eq!(delivery.target, "customer");
    assert_eq!(
        delivery.payload["items"],
        json!(["invoice", "photo of the device"])
    );
    assert_eq!(output["target"], "customer");
}

#[tokio::test]
async fn send_progress_reminder_reports_a_note_to_the_customer() {
    // As progress_inquiry emits it.
    let (delivery, _) = run_recorded(
        activity::SEND_PROGRESS_REMINDER,
        json!({ "note": "the technician comes on Monday" }),
    )
    .await;
    assert_eq!(delivery.target, "customer");
    assert_eq!(delivery.payload["note"], "the technician comes on Monday");
}

#[tokio::test]
async fn send_progress_reminder_reminds_the_party_a_case_waits_for() {
    // As a remind timer asks for it.
    let (delivery, _) = run_recorded(
        activity::SEND_PROGRESS_REMINDER,
        json!({ "party": "executor", "what": "report progress on Warranty claim",
                "subject": "Warranty claim", "reminder": 2 }),
    )
    .await;
    assert_eq!(delivery.target, "executor");
    assert_eq!(
        delivery.payload["what"],
        "report progress on Warranty claim"
    );
    assert_eq!(delivery.payload["subject"], "Warranty claim");
    assert_eq!(delivery.payload["reminder"], 2);

    // A case waiting for a review reminds its owner.
    let (delivery, _) = run_recorded(
        activity::SEND_PROGRESS_REMINDER,
        json!({ "party": "review", "what": "decide: refund over limit" }),
    )
    .await;
    assert_eq!(delivery.target, "owner");
    assert_eq!(delivery.payload["party"], "review");
}

#[tokio::test]
async fn writeback_completion_feedback_goes_to_the_back_office() {
    // As completion_feedback and partner_cooperation_request emit it.
    let (delivery, _) = run_recorded(
        activity::WRITEBACK_COMPLETION_FEEDBACK,
        json!({ "text": "very happy with the repair" }),
    )
    .await;
    assert_eq!(delivery.target, "backoffice");
    assert_eq!(delivery.payload["text"], "very happy with the repair");

    // An empty completion note is still a completion.
    let (delivery, _) = run_recorded(
        activity::WRITEBACK_COMPLETION_FEEDBACK,
        json!({ "text": "", "to": "partner" }),
    )
    .await;
    assert_eq!(delivery.target, "partner");
}

#[tokio::test]
async fn capture_evidence_returns_a_digest_anyone_can_recompute() {
    let input = json!({ "kind": "customer_reply", "detail": "sent the invoice",
                        "payload": { "b": [1, 2], "a": "x" } });
    let (delivery, output) = run_recorded(activity::CAPTURE_EVIDENCE, input).await;
    assert_eq!(delivery.target, "evidence");
    let digest = output["digest"].as_str().expect("a digest");
    assert_eq!(output["algorithm"], "sha256");
    assert_eq!(digest.len(), 64);
    assert_eq!(delivery.payload["digest"], digest);
    // Key order does not matter (a JSONB column reorders keys).
    let reordered: Value = serde_json::from_str(r#"{"a":"x","b":[1,2]}"#).expect("json");
    assert_eq!(
        evidence_digest("customer_reply", "sent the invoice", &reordered),
        digest
    );
    // Any change does.
    assert_ne!(
        evidence_digest("customer_reply", "sent the invoice!", &reordered),
        digest
    );
    // The digest is SHA-256 of the canonical JSON, checked independently:
    // printf '{"detail":"d","kind":"k","payload":null}' | sha256sum
    assert_eq!(
        evidence_digest("k", "d", &Value::Null),
        "0b781d05eed555171597f6b34f41b3a5d6ee53c9fb6fae3b4cddac2b250047b3"
    );
}

#[tokio::test]
async fn bad_input_is_not_retryable() {
    let cases = [
        (activity::SEND_MESSAGE, json!({ "text": "no recipient" })),
        (
            activity::SEND_MESSAGE,
            json!({ "to": "everyone", "text": "hi" }),
        ),
        (
            activity::SEND_MESSAGE,
            json!({ "to": "customer", "text": "  " }),
        ),
        (activity::SEND_MESSAGE, json!("just text")),
        (
            activity::CONFIRM_MATERIAL_RECEIVED,
            json!({ "items": "invoice" }),
        ),
        (
            activity::CONFIRM_MATERIAL_RECEIVED,
            json!({ "items": [], "to": "nobody" }),
        ),
        (activity::SEND_PROGRESS_REMINDER, json!({})),
        (
            activity::SEND_PROGRESS_REMINDER,
            json!({ "party": "martians" }),
        ),
        (
            activity::WRITEBACK_COMPLETION_FEEDBACK,
            json!({ "text": 5 }),
        ),
        (
            activity::WRITEBACK_COMPLETION_FEEDBACK,
            json!({ "to": "customer" }),
        ),
        (activity::CAPTURE_EVIDENCE, json!({ "detail": "no kind" })),
        (activity::CAPTURE_EVIDENCE, json!({ "kind": " " })),
        (
            activity::VERIFY_AUTHORIZED,
            json!({ "scope": "private_context" }),
        ),
        (activity::VERIFY_AUTHORIZED, json!({ "customer_id": "" })),
    ];
    for (name, input) in cases {
        let (registry, record) = recording();
        let err = run(&registry, name, input.clone())
            .await
            .expect_err("bad input fails");
        assert_eq!(err.kind, ErrorKind::NonRetryable, "{name} {input}");
        assert_eq!(err.code, codes::BAD_INPUT, "{name} {input}: {err}");
        assert!(record.deliveries().is_empty(), "nothing sent for {input}");
    }
}

#[tokio::test]
async fn bad_input_names_the_activity_and_the_problem() {
    let (registry, _) = recording();
    let err = run(&registry, activity::SEND_MESSAGE, json!({ "text": "hi" }))
        .await
        .expect_err("no `to`");
    assert!(
        err.message.contains("send_message") && err.message.contains("`to`"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn verify_authorized_succeeds_only_on_an_explicit_yes() {
    let input = json!({ "customer_id": "c-42", "scope": "private_context",
                        "evidence": { "phone_last4": "1234" } });
    let yes = RecordAdapter::new().with_reply(json!({ "authorized": true }));
    let registry = Registry::builtin(Adapters::record(yes.clone()));
    let output = run(&registry, activity::VERIFY_AUTHORIZED, input.clone())
        .await
        .expect("authorized");
    assert_eq!(output["authorized"], true);
    assert_eq!(output["customer_id"], "c-42");
    let delivery = &yes.deliveries()[0];
    assert_eq!(delivery.target, "backoffice");
    assert_eq!(delivery.payload["evidence"]["phone_last4"], "1234");

    // The plain record adapter cannot say yes: fail closed.
    let (registry, _) = recording();
    let err = run(&registry, activity::VERIFY_AUTHORIZED, input.clone())
        .await
        .expect_err("no answer");
    assert_eq!(err.kind, ErrorKind::NonRetryable);
    assert_eq!(err.code, codes::BAD_REPLY);

    let no = RecordAdapter::new().with_reply(json!({ "authorized": false, "reason": "wrong pin" }));
    let registry = Registry::builtin(Adapters::record(no));
    let err = run(&registry, activity::VERIFY_AUTHORIZED, input)
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::NonRetryable);
    assert_eq!(err.code, codes::NOT_AUTHORIZED);
    assert!(err.message.contains("wrong pin"), "{}", err.message);
}

/// Built-ins whose back office is a webhook on loopback, everything else recorded.
fn with_backoffice(url: &str) -> (Registry, RecordAdapter) {
    let record = RecordAdapter::new();
    let webhook = WebhookAdapter::new(url, SECRET, Duration::from_secs(5)).expect("webhook");
    let adapters = Adapters::record(record.clone()).with_target("backoffice", Arc::new(webhook));
    (Registry::builtin(adapters), record)
}

#[tokio::test]
async fn verify_authorized_is_refused_for_good_on_a_403() {
    let server = receiver::start(Reply::json(
        403,
        json!({ "error": "identity not confirmed" }),
    ))
    .await;
    let (registry, _) = with_backoffice(&server.url);
    let err = run(
        &registry,
        activity::VERIFY_AUTHORIZED,
        json!({ "customer_id": "c-42" }),
    )
    .await
    .expect_err("403");
    assert_eq!(err.kind, ErrorKind::NonRetryable);
    assert_eq!(err.code, codes::NOT_AUTHORIZED);
    assert_eq!(err.details["status"], 403);
    assert_eq!(server.single().verified, Ok(()));
}

#[tokio::test]
async fn verify_authorized_through_a_webhook() {
    let server = receiver::start_with(|req| {
        let customer = req.json()["payload"]["customer_id"].clone();
        Reply::json(200, json!({ "authorized": customer == "c-42" }))
    })
    .await;
    let (registry, record) = with_backoffice(&server.url);
    let output = run(
        &registry,
        activity::VERIFY_AUTHORIZED,
        json!({ "subject": "c-42" }),
    )
    .await
    .expect("authorized");
    assert_eq!(output["receipt"]["status"], 200);
    let err = run(
        &registry,
        activity::VERIFY_AUTHORIZED,
        json!({ "customer_id": "c-7" }),
    )
    .await
    .expect_err("not this one");
    assert_eq!(err.code, codes::NOT_AUTHORIZED);

    // A 5xx from the back office stays retryable.
    let failing = receiver::start(Reply::status(502)).await;
    let (registry, _) = with_backoffice(&failing.url);
    let err = run(
        &registry,
        activity::VERIFY_AUTHORIZED,
        json!({ "customer_id": "c-42" }),
    )
    .await
    .expect_err("502");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert!(
        record.deliveries().is_empty(),
        "nothing went to the record adapter"
    );
}

#[tokio::test]
async fn each_target_goes_to_its_own_adapter() {
    let server = receiver::start(Reply::status(200)).await;
    let (registry, record) = with_backoffice(&server.url);
    run(
        &registry,
        activity::WRITEBACK_COMPLETION_FEEDBACK,
        json!({ "text": "done" }),
    )
    .await
    .expect("written back");
    run(
        &registry,
        activity::SEND_MESSAGE,
        json!({ "to": "customer", "text": "done" }),
    )
    .await
    .expect("sent");
    let hook = server.single().json();
    assert_eq!(hook["kind"], "writeback_completion_feedback");
    assert_eq!(hook["payload"]["text"], "done");
    let recorded = record.deliveries();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].target, "customer");
}
