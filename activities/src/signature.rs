//! The webhook signature, both sides of it.
//!
//! A webhook request carries `X-Aijia-Timestamp: <unix seconds>` and
//! `X-Aijia-Signature: v1=<hex>`, where `<hex>` is the lowercase hex HMAC-SHA256, keyed with
//! the target's shared secret, of the bytes `"{timestamp}.{body}"` (the timestamp header's
//! text, a full stop, then the raw request body). A receiver recomputes it over the body it
//! read *before* parsing it, compares in constant time, and refuses timestamps outside its
//! tolerance so that a captured request cannot be replayed later. [`verify_signature`] does
//! all of that. The header may hold several comma-separated `v1=` values (a sender rotating
//! secrets); one match is enough.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-aijia-signature";
pub const TIMESTAMP_HEADER: &str = "x-aijia-timestamp";
pub const IDEMPOTENCY_HEADER: &str = "x-aijia-idempotency-key";
/// The version prefix of the signature scheme described above.
pub const SCHEME: &str = "v1";

/// The `X-Aijia-Signature` value for a body sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("{SCHEME}={}", hex::encode(tag))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the timestamp header {0:?} is not unix seconds")]
    BadTimestamp(String),
    #[error("the timestamp is {skew_secs}s away from now, more than the {tolerance_secs}s allowed")]
    Stale { skew_secs: i64, tolerance_secs: u64 },
    #[error("the signature header holds no {SCHEME}=<hex> value")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Check a received webhook: `timestamp` and `header` are the `X-Aijia-Timestamp` and
/// `X-Aijia-Signature` header values, `body` the raw body bytes, `now` the receiver's clock.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp(timestamp.to_owned()))?;
    let skew = now.timestamp().saturating_sub(sent);
    if skew.unsigned_abs() > tolerance.as_secs() {
        return Err(SignatureError::Stale {
            skew_secs: skew,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    let candidates: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(|h| hex::decode(h).ok())
        .collect();
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matches = candidates.iter().any(|tag| {
        mac(secret, timestamp.trim(), body)
            .verify_slice(tag)
            .is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}
