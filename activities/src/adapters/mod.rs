//! Which adapter serves which target. [`Adapters`] routes each [`Delivery`] by its `target`
//! to the adapter configured for it, or to the default (the record adapter unless configured
//! otherwise).

mod record;
mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use record::{DEFAULT_LOG_CAPACITY, RecordAdapter};
pub(crate) use webhook::parse_url as webhook_url;
pub use webhook::{DEFAULT_TIMEOUT, WebhookAdapter, WebhookSetupError};

use crate::delivery::{Adapter, Delivery, Receipt};
use crate::error::ActivityError;

/// The adapters by target. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Adapters {
    default: Arc<dyn Adapter>,
    targets: BTreeMap<String, Arc<dyn Adapter>>,
    /// The log shared by the record adapters these adapters were built with.
    record: RecordAdapter,
}

impl Default for Adapters {
    /// Everything goes to one record adapter: nothing leaves the process.
    fn default() -> Self {
        Self::record(RecordAdapter::new())
    }
}

impl Adapters {
    /// Every target served by `record` (whose log [`Adapters::record_log`] returns).
    pub fn record(record: RecordAdapter) -> Self {
        Adapters {
            default: Arc::new(record.clone()),
            targets: BTreeMap::new(),
            record,
        }
    }

    /// Every target served by `default` unless [`Adapters::with_target`] says otherwise.
    pub fn new(default: Arc<dyn Adapter>) -> Self {
        Adapters {
            default,
            targets: BTreeMap::new(),
            record: RecordAdapter::new(),
        }
    }

    /// Serve `target` with `adapter`.
    pub fn with_target(mut self, target: impl Into<String>, adapter: Arc<dyn Adapter>) -> Self {
        self.targets.insert(target.into(), adapter);
        self
    }

    pub(crate) fn with_record_log(mut self, record: RecordAdapter) -> Self {
        self.record = record;
        self
    }

    /// The adapter that serves `target`.
    pub fn for_target(&self, target: &str) -> &Arc<dyn Adapter> {
        self.targets.get(target).unwrap_or(&self.default)
    }

    /// The targets with an adapter of their own, sorted.
    pub fn targets(&self) -> Vec<&str> {
        self.targets.keys().map(String::as_str).collect()
    }

    /// What the record adapters built with these adapters have recorded.
    pub fn record_log(&self) -> &RecordAdapter {
        &self.record
    }

    /// Hand `delivery` to the adapter of its target.
    pub async fn deliver(&self, delivery: &Delivery) -> Result<Receipt, ActivityError> {
        self.for_target(&delivery.target).deliver(delivery).await
    }
}
