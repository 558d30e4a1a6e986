//! Identifiers parsed once at the edge, so the engine never sees an invalid one.

use std::fmt;

use aijia_workflows::bounds::echo;
use uuid::Uuid;

/// A case id: a UUID (v7 for cases we create).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// A caller's idempotency key for one mutating call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

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
        Ok(RequestId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
