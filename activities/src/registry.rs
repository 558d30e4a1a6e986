//! Activities by name: the engine and the in-process workers look a task's activity up here
//! and run it on JSON, without knowing its types.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use tracing::Instrument;

use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::builtin;
use crate::error::{ActivityError, codes};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An [`Activity`] with its types erased to JSON.
trait ErasedActivity: Send + Sync {
    fn run<'a>(
        &'a self,
        ctx: &'a ActivityContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ActivityError>>;
}

struct Typed<A>(A);

impl<A: Activity> ErasedActivity for Typed<A> {
    fn run<'a>(
        &'a self,
        ctx: &'a ActivityContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ActivityError>> {
        Box::pin(async move {
            let input: A::Input = serde_json::from_value(input).map_err(|e| {
                ActivityError::bad_input(format!("invalid input for {}: {e}", A::NAME))
            })?;
            let output = self.0.run(ctx, input).await?;
            serde_json::to_value(output).map_err(|e| {
                ActivityError::non_retryable(
                    codes::INTERNAL,
                    format!("the output of {} does not serialize: {e}", A::NAME),
                )
            })
        })
    }
}

/// Activities by their stable names. Cheap to clone; share one between workers.
#[derive(Clone, Default)]
pub struct Registry {
    activities: BTreeMap<&'static str, Arc<dyn ErasedActivity>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("activities", &self.names())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The six built-in activities, delivering through `adapters`.
    pub fn builtin(adapters: Adapters) -> Self {
        let mut registry = Self::new();
        builtin::register_all(&mut registry, adapters);
        registry
    }

    /// Add an activity under its `NAME`, replacing one registered under the same name.
    pub fn register<A: Activity>(&mut self, activity: A) -> &mut Self {
        self.activities.insert(A::NAME, Arc::new(Typed(activity)));
        self
    }

    pub fn contains(&self, name: &str) -> bool {
        self.activities.contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.activities.keys().copied().collect()
    }

    /// Run the activity `name` on a JSON input. An unknown name and an input that does not
    /// fit are non-retryable errors.
    pub async fn run(
        &self,
        name: &str,
        ctx: &ActivityContext,
        input: Value,
    ) -> Result<Value, ActivityError> {
        let Some(activity) = self.activities.get(name) else {
            return Err(ActivityError::non_retryable(
                codes::UNKNOWN_ACTIVITY,
                format!(
                    "no activity is registered as {name:?}; known: {}",
                    self.names().join(", ")
                ),
            ));
        };
        let span = tracing::info_span!(
            "activity",
            activity = name,
            case_id = %ctx.case_id,
            task_id = ctx.task_id,
            attempt = ctx.attempt,
        );
        let result = activity.run(ctx, input).instrument(span.clone()).await;
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!("activity succeeded"),
            // The message may quote what was sent or answered (customer text): DEBUG only.
            Err(e) => {
                tracing::warn!(kind = ?e.kind, code = %e.code, "activity failed");
                tracing::debug!(message = %e.message, "activity failure message");
            }
        });
        result
    }
}
