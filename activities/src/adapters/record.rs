//! The record adapter: sends nothing, logs and remembers what would have been sent. It is the
//! default for `aijia dev`, so the quick start needs nothing external, and the adapter tests
//! read its log. The payload is customer-facing text, so it is logged at DEBUG only; INFO
//! names the delivery by its ids.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::delivery::{Adapter, Delivery, Receipt};
use crate::error::ActivityError;

/// How many deliveries the log keeps by default; older ones are dropped so that a long
/// `aijia dev` session does not grow without bound.
pub const DEFAULT_LOG_CAPACITY: usize = 1024;

/// Records deliveries instead of sending them. Clones share one log.
#[derive(Debug, Clone)]
pub struct RecordAdapter {
    log: Arc<Mutex<VecDeque<Delivery>>>,
    capacity: usize,
    /// A canned answer returned in every receipt's `reply`, for activities that read one
    /// (e.g. `{"authorized": true}` for `verify_authorized` in a demo).
    reply: Option<serde_json::Value>,
}

impl Default for RecordAdapter {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordAdapter {
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_LOG_CAPACITY)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        RecordAdapter {
            log: Arc::new(Mutex::new(VecDeque::new())),
            capacity: capacity.max(1),
            reply: None,
        }
    }

    /// Answer every delivery with `reply` (shared log kept).
    pub fn with_reply(mut self, reply: serde_json::Value) -> Self {
        self.reply = Some(reply);
        self
    }

    /// The deliveries recorded so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().iter().cloned().collect()
    }

    /// Forget what was recorded.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Delivery>> {
        // The log holds plain data; a panic elsewhere cannot leave it half-written.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Adapter for RecordAdapter {
    async fn deliver(&self, delivery: &Delivery) -> Result<Receipt, ActivityError> {
        tracing::info!(
            target_name = %delivery.target,
            kind = %delivery.kind,
            idempotency_key = %delivery.idempotency_key,
            "recorded a delivery; nothing was sent"
        );
        tracing::debug!(idempotency_key = %delivery.idempotency_key, payload = %delivery.payload,
                        "recorded delivery payload");
        {
            let mut log = self.lock();
            if log.len() >= self.capacity {
                log.pop_front();
            }
            log.push_back(delivery.clone());
        }
        Ok(Receipt {
            adapter: "record".into(),
            target: delivery.target.clone(),
            recorded: true,
            status: None,
            body: None,
            reply: self.reply.clone(),
            delivery: Some(delivery.clone()),
        })
    }
}
