//! Identifiers parsed once at the edge, so the engine never sees an invalid one.

use std::fmt;

use aijia_workflows::bounds::echo;
use uuid::Uuid;

/// A case id: a UUID (v7 for cases we create).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId(pub Uuid);

impl CaseId {
    pub fn new() -> Self {
        CaseId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Uuid::parse_str(text.trim()).map(CaseId).map_err(|_| {
            format!(
                "{} is not a case id (a UUID such as 0190f0c2-7b1e-7c3a-8d4e-5f6a7b8c9d0e)",
                echo(text)
            )
        })
    }
}

impl Default for CaseId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A caller's idempotency key for one mutating call, with the fingerprint of the request it
/// came with (`grpc/idempotency.rs`). The fingerprint is stored with the answer, so a reuse of
/// the id for another request is told apart from a retry; keys the server makes for itself
/// (timer fires, schedule fires, task outcomes) have none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId {
    id: String,
    fingerprint: Option<String>,
}

impl RequestId {
    pub const MAX_LEN: usize = 200;

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required: a unique id per logical request, reused on retries".into());
        }
        if text.len() > Self::MAX_LEN {
            return Err(format!(
                "is {} bytes long; at most {} allowed",
                text.len(),
                Self::MAX_LEN
            ));
        }
        if text.contains('\0') {
            return Err("must not contain NUL characters (\\0); remove them".into());
        }
        Ok(RequestId {
            id: text.to_owned(),
            fingerprint: None,
        })
    }

    /// A key the server makes for its own events (timer fires, task outcomes): well formed by
    /// construction, with no fingerprint.
    pub fn internal(id: String) -> Self {
        RequestId {
            id,
            fingerprint: None,
        }
    }

    /// This id, answering only to requests with `fingerprint` (`kind:digest`).
    pub fn with_fingerprint(mut self, fingerprint: String) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }

    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// Whether an answer stored under this id with `stored` may be given to this request.
    /// A record without a fingerprint (written before fingerprints were kept, or by the server
    /// itself) matches: there is nothing to tell the requests apart by.
    pub fn answers_to(&self, stored: Option<&str>) -> Result<(), RequestReused> {
        match (self.fingerprint(), stored) {
            (Some(mine), Some(theirs)) if mine != theirs => Err(RequestReused {
                request_id: self.id.clone(),
                earlier: theirs
                    .split_once(':')
                    .map_or("", |(kind, _)| kind)
                    .to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// A request id already used for a different request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "request_id: {request_id:?} was already used for another request{}; only an identical \
     retry gets the first answer: send this request with a new request_id",
    if earlier.is_empty() { String::new() } else { format!(" (a {earlier} with other fields)") }
)]
pub struct RequestReused {
    pub request_id: String,
    /// The kind of the earlier request (e.g. `SignalCase`), when known.
    pub earlier: String,
}
