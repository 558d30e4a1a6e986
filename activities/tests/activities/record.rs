//! The record adapter: what `aijia dev` uses so that nothing leaves the process.

use aijia_activities::{Adapter, Delivery, RecordAdapter};
use serde_json::json;

fn delivery(n: u32) -> Delivery {
    Delivery {
        target: "customer".into(),
        kind: "send_message".into(),
        payload: json!({ "n": n }),
        idempotency_key: format!("case:{n}:send_message"),
    }
}

#[tokio::test]
async fn the_record_adapter_sends_nothing_and_keeps_the_full_delivery() {
    let record = RecordAdapter::new();
    let receipt = record.deliver(&delivery(1)).await.expect("recorded");
    assert!(receipt.recorded);
    assert_eq!(receipt.adapter, "record");
    assert_eq!(receipt.target, "customer");
    assert_eq!(receipt.delivery, Some(delivery(1)));
    assert_eq!(receipt.status, None);
    // Clones share one log.
    assert_eq!(record.clone().deliveries(), vec![delivery(1)]);
    record.clear();
    assert!(record.deliveries().is_empty());
}

#[tokio::test]
async fn the_record_log_keeps_only_the_newest_deliveries() {
    let record = RecordAdapter::with_capacity(3);
    for n in 1..=5 {
        record.deliver(&delivery(n)).await.expect("recorded");
    }
    assert_eq!(
        record.deliveries(),
        vec![delivery(3), delivery(4), delivery(5)]
    );
}
