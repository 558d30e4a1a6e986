//! `capture_evidence`: fix a piece of evidence with a digest and file it with the evidence
//! target. The digest is the lowercase hex SHA-256 of the evidence's canonical JSON,
//! `{"detail":…,"kind":…,"payload":…}` with object keys sorted at every level and no
//! whitespace ([`canonical_json`]), so that anyone holding the evidence can recompute it
//! ([`evidence_digest`]) even after a JSONB column has reordered its keys.

use aijia_workflows::activity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::deliver;
use crate::activity::{Activity, ActivityContext};
use crate::adapters::Adapters;
use crate::delivery::{Receipt, target};
use crate::error::ActivityError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureEvidenceInput {
    /// What the evidence is (e.g. one of `aijia_workflows::evidence`).
    pub kind: String,
    #[serde(default)]
    pub detail: String,
    /// Any structured content the evidence carries.
    #[serde(default)]
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureEvidenceOutput {
    pub kind: String,
    /// Always `sha256`.
    pub algorithm: String,
    /// Lowercase hex.
    pub digest: String,
    pub receipt: Receipt,
}

#[derive(Debug, Clone)]
pub struct CaptureEvidence {
    adapters: Adapters,
}

impl CaptureEvidence {
    pub fn new(adapters: Adapters) -> Self {
        CaptureEvidence { adapters }
    }
}

/// The digest of a piece of evidence, as `capture_evidence` computes it.
pub fn evidence_digest(kind: &str, detail: &str, payload: &Value) -> String {
    let document = json!({ "kind": kind, "detail": detail, "payload": payload });
    hex::encode(Sha256::digest(canonical_json(&document).as_bytes()))
}

/// JSON with object keys sorted at every level and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl Activity for CaptureEvidence {
    const NAME: &'static str = activity::CAPTURE_EVIDENCE;
    type Input = CaptureEvidenceInput;
    type Output = CaptureEvidenceOutput;

    async fn run(
        &self,
        ctx: &ActivityContext,
        input: CaptureEvidenceInput,
    ) -> Result<CaptureEvidenceOutput, ActivityError> {
        let kind = input.kind.trim();
        if kind.is_empty() {
            return Err(ActivityError::bad_input("evidence needs a kind"));
        }
        let digest = evidence_digest(kind, &input.detail, &input.payload);
        let payload = json!({
            "kind": kind,
            "detail": input.detail,
            "payload": input.payload,
            "algorithm": "sha256",
            "digest": digest,
        });
        let receipt = deliver(&self.adapters, ctx, target::EVIDENCE, Self::NAME, payload).await?;
        Ok(CaptureEvidenceOutput {
            kind: kind.to_owned(),
            algorithm: "sha256".into(),
            digest,
            receipt,
        })
    }
}
