//! The webhook adapter against a real HTTP server on loopback: what it sends, how the
//! receiver verifies it, and which answers are worth a retry.

use std::time::Duration;

use aijia_activities::{
    Adapter, Delivery, ErrorKind, SignatureError, WebhookAdapter, codes, sign, verify_signature,
};
use chrono::{TimeZone, Utc};
use serde_json::json;

use super::receiver::{self, Reply, SECRET};

fn delivery() -> Delivery {
    Delivery {
        target: "partner".into(),
        kind: "send_message".into(),
        payload: json!({ "to": "partner", "text": "the invoice is attached", "items": ["invoice"] }),
        idempotency_key: "0191c7a0-case:7:send_message".into(),
    }
}

fn adapter(url: &str) -> WebhookAdapter {
    WebhookAdapter::new(url, SECRET, Duration::from_secs(5)).expect("a valid webhook")
}

#[tokio::test]
async fn webhook_posts_signed_json_that_the_receiver_verifies() {
    let server = receiver::start(Reply::json(200, json!({ "accepted": true }))).await;
    let receipt = adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect("delivered");

    let got = server.single();
    assert_eq!(got.verified, Ok(()), "the receiver verifies the signature");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.header("x-aijia-idempotency-key"),
        "0191c7a0-case:7:send_message"
    );
    assert!(got.header("x-aijia-signature").starts_with("v1="));
    let body = got.json();
    assert_eq!(body["kind"], "send_message");
    assert_eq!(body["target"], "partner");
    assert_eq!(body["idempotency_key"], "0191c7a0-case:7:send_message");
    assert_eq!(body["payload"], delivery().payload);
    let sent_at = body["sent_at"].as_str().expect("sent_at is text");
    assert!(
        chrono::DateTime::parse_from_rfc3339(sent_at).is_ok(),
        "{sent_at}"
    );

    assert_eq!(receipt.adapter, "webhook");
    assert_eq!(receipt.target, "partner");
    assert!(!receipt.recorded);
    assert_eq!(receipt.status, Some(200));
    assert_eq!(receipt.reply, Some(json!({ "accepted": true })));
}

#[tokio::test]
async fn every_attempt_of_a_task_carries_the_same_idempotency_key() {
    let server = receiver::start(Reply::status(204)).await;
    let webhook = adapter(&server.url);
    webhook.deliver(&delivery()).await.expect("first attempt");
    webhook.deliver(&delivery()).await.expect("second attempt");
    let keys: Vec<String> = server
        .received()
        .iter()
        .map(|r| r.header("x-aijia-idempotency-key").to_owned())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn a_tampered_body_fails_verification() {
    let server = receiver::start(Reply::status(200)).await;
    adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect("delivered");
    let got = server.single();
    let timestamp = got.header("x-aijia-timestamp").to_owned();
    let signature = got.header("x-aijia-signature").to_owned();
    let verify = |secret: &str, body: &[u8], header: &str| {
        verify_signature(
            secret.as_bytes(),
            &timestamp,
            body,
            header,
            Utc::now(),
            Duration::from_secs(300),
        )
    };
    assert_eq!(verify(SECRET, &got.body, &signature), Ok(()));

    let tampered = String::from_utf8(got.body.to_vec())
        .expect("utf-8")
        .replace("the invoice is attached", "the invoice is not needed");
    assert_eq!(
        verify(SECRET, tampered.as_bytes(), &signature),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify("another-secret", &got.body, &signature),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(SECRET, &got.body, "sha256=abc"),
        Err(SignatureError::Malformed)
    );
    // Several values (a sender rotating secrets): one match is enough.
    let rotated = format!("v1=00ff, {signature}");
    assert_eq!(verify(SECRET, &got.body, &rotated), Ok(()));
}

#[test]
fn a_replayed_request_outside_the_tolerance_is_refused() {
    let sent = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("a time");
    let body = br#"{"kind":"send_message"}"#;
    let header = sign(b"k", sent.timestamp(), body);
    let ts = sent.timestamp().to_string();
    let tolerance = Duration::from_secs(300);
    let at = |secs: i64| sent + chrono::Duration::seconds(secs);
    assert_eq!(
        verify_signature(b"k", &ts, body, &header, at(299), tolerance),
        Ok(())
    );
    assert_eq!(
        verify_signature(b"k", &ts, body, &header, at(301), tolerance),
        Err(SignatureError::Stale {
            skew_secs: 301,
            tolerance_secs: 300
        })
    );
    assert!(matches!(
        verify_signature(b"k", "yesterday", body, &header, at(0), tolerance),
        Err(SignatureError::BadTimestamp(_))
    ));
}

#[test]
fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
    assert_eq!(
        sign(b"secret", 1_700_000_000, b"{}"),
        "v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
    );
}

#[tokio::test]
async fn a_5xx_answer_is_retryable() {
    let server = receiver::start(Reply::json(503, json!({ "error": "maintenance" }))).await;
    let err = adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect_err("503 fails");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.code, codes::HTTP_5XX);
    assert_eq!(err.details["status"], 503);
    assert_eq!(err.details["body"], r#"{"error":"maintenance"}"#);
}

#[tokio::test]
async fn a_4xx_answer_is_not_retryable() {
    for status in [400, 401, 404, 422] {
        let server = receiver::start(Reply::status(status)).await;
        let err = adapter(&server.url)
            .deliver(&delivery())
            .await
            .expect_err("4xx fails");
        assert_eq!(err.kind, ErrorKind::NonRetryable, "{status}");
        assert_eq!(err.code, codes::HTTP_4XX, "{status}");
        assert_eq!(err.details["status"], status);
    }
}

#[tokio::test]
async fn a_429_answer_is_retryable_and_keeps_the_retry_after_hint() {
    let server = receiver::start(Reply::status(429).header("retry-after", "7")).await;
    let err = adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect_err("429 fails");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.code, codes::RATE_LIMITED);
    assert_eq!(err.details["retry_after_secs"], 7);
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_not_retryable() {
    let server = receiver::start(Reply::status(301).header("location", "http://elsewhere/")).await;
    let err = adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect_err("3xx fails");
    assert_eq!(err.kind, ErrorKind::NonRetryable);
    assert_eq!(err.code, codes::HTTP_3XX);
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_is_a_retryable_timeout() {
    let server = receiver::start(Reply::status(200).after(Duration::from_secs(3))).await;
    let webhook = WebhookAdapter::new(&server.url, SECRET, Duration::from_millis(200))
        .expect("a valid webhook");
    let started = std::time::Instant::now();
    let err = webhook
        .deliver(&delivery())
        .await
        .expect_err("the receiver is too slow");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up in time"
    );
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.code, codes::TIMEOUT);
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_network_error() {
    let url = receiver::refused_url().await;
    let err = adapter(&url)
        .deliver(&delivery())
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.code, codes::NETWORK);
    assert!(err.message.contains("127.0.0.1"), "{}", err.message);
}

#[tokio::test]
async fn a_long_answer_is_truncated_in_the_receipt() {
    let server = receiver::start(Reply {
        body: "x".repeat(100_000),
        ..Reply::status(200)
    })
    .await;
    let receipt = adapter(&server.url)
        .deliver(&delivery())
        .await
        .expect("delivered");
    let body = receipt.body.expect("a body");
    assert!(body.len() < 4 * 1024, "kept {} bytes", body.len());
    assert!(body.ends_with('…'));
    assert_eq!(receipt.reply, None);
}

#[test]
fn a_webhook_needs_an_http_url_a_secret_and_a_timeout() {
    let five = Duration::from_secs(5);
    for url in [
        "partner.example.com/hook",
        "ftp://partner.example.com/",
        "http://",
        "::",
    ] {
        let err = WebhookAdapter::new(url, "s", five).expect_err(url);
        assert!(err.to_string().contains(url), "{err}");
    }
    assert!(WebhookAdapter::new("https://partner.example.com/hook", "", five).is_err());
    assert!(WebhookAdapter::new("https://partner.example.com/hook", "s", Duration::ZERO).is_err());
    let ok = WebhookAdapter::new("https://partner.example.com/hook?token=abc", "s", five)
        .expect("https is supported");
    let debug = format!("{ok:?}");
    assert!(
        !debug.contains("token=abc") && !debug.contains("\"s\""),
        "{debug}"
    );
}

#[tokio::test]
async fn an_https_url_is_spoken_through_rustls() {
    // The receiver speaks plain HTTP, so the TLS handshake fails: that shows the https path
    // (rustls on the ring provider) is wired, and that a handshake failure is retryable.
    let server = receiver::start(Reply::status(200)).await;
    let url = server.url.replace("http://", "https://");
    let err = adapter(&url)
        .deliver(&delivery())
        .await
        .expect_err("no TLS on the other side");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.code, codes::NETWORK);
    assert!(server.received().is_empty());
}
