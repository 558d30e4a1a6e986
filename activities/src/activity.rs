//! The typed activity contract: a stable [`Activity::NAME`], serde input and output, and a
//! `run` that says through [`ActivityError`] whether a failure is worth retrying.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ActivityError;

/// What a run knows about the task it serves. The engine builds it from the task row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityContext {
    pub case_id: String,
    pub task_id: i64,
    /// 1 for the first run, 2 for the first retry, …
    pub attempt: u32,
    /// The task's idempotency key (unique in the database). Every delivery carries it, so a
    /// receiver can drop the duplicates that at-least-once execution produces.
    pub idempotency_key: String,
}

/// One activity type. Implementors write `async fn run(…)`; the future must be `Send` so that
/// the engine can run it on any worker thread.
pub trait Activity: Send + Sync + 'static {
    /// The stable name tasks are enqueued under (see `aijia_workflows::activity`).
    const NAME: &'static str;
    type Input: DeserializeOwned + Send;
    type Output: Serialize;

    fn run(
        &self,
        ctx: &ActivityContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, ActivityError>> + Send;
}
