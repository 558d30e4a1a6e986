//! How an activity fails: [`ActivityError`] says whether a retry can help ([`ErrorKind`]) and
//! names the failure with a stable [`code`](codes) that retry policies and operators match on.

use serde::{Deserialize, Serialize};

/// Whether running the activity again may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A passing condition (network, timeout, a busy or failing receiver): retry per policy.
    Retryable,
    /// Running again gives the same answer (bad input, a refusal): give up at once.
    NonRetryable,
}

/// The stable error codes the built-in activities and adapters use. Other activities and
/// remote workers may add their own; codes are short `snake_case` words.
pub mod codes {
    /// The input JSON does not fit the activity's input type, or its content is invalid.
    pub const BAD_INPUT: &str = "bad_input";
    /// No activity is registered under the task's name.
    pub const UNKNOWN_ACTIVITY: &str = "unknown_activity";
    /// The receiver answered 2xx but not in the form the activity needs.
    pub const BAD_REPLY: &str = "bad_reply";
    /// The verification endpoint refused the authorization.
    pub const NOT_AUTHORIZED: &str = "not_authorized";
    /// Connecting or talking to the receiver failed (refused, reset, DNS, TLS).
    pub const NETWORK: &str = "network";
    /// The receiver did not answer within the adapter's timeout (or answered 408).
    pub const TIMEOUT: &str = "timeout";
    /// The receiver asked us to slow down (HTTP 429).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The receiver failed (HTTP 5xx).
    pub const HTTP_5XX: &str = "http_5xx";
    /// The receiver refused the request (HTTP 4xx other than 408 and 429).
    pub const HTTP_4XX: &str = "http_4xx";
    /// The receiver redirected; webhooks do not follow redirects, so the URL is wrong.
    pub const HTTP_3XX: &str = "http_3xx";
    /// A bug on our side (e.g. an output that does not serialize).
    pub const INTERNAL: &str = "internal";
}

/// A failed activity run. The engine stores it as the task's last error; `details` carries
/// what an operator needs (an HTTP status, a truncated response body, a retry-after hint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ActivityError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: serde_json::Value,
}

impl ActivityError {
    pub fn retryable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Retryable, code, message)
    }

    pub fn non_retryable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NonRetryable, code, message)
    }

    /// Invalid input: non-retryable with code [`codes::BAD_INPUT`].
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::non_retryable(codes::BAD_INPUT, message)
    }

    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        ActivityError {
            kind,
            code: code.into(),
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }

    /// Attach details (replacing any).
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }
}
