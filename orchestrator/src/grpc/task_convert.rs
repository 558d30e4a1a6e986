//! Proto ↔ domain conversions of `WorkerService` and `TaskService` (the case ones are in
//! `convert.rs`). Requests are validated here, once; every refusal names the field.

use std::time::Duration;

use aijia_proto::v1 as pb;
use serde_json::Value;
use tonic::Status;

use super::convert::timestamp;
use super::status::invalid;
use crate::engine::{TaskToken, WorkerView};
use crate::store::{DEFAULT_QUEUE, TaskError, TaskRow, TaskState};

/// The longest a poll may wait, and the wait when none is asked for.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// Leases a worker may ask for, and the one it gets when it does not.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
const MIN_LEASE: Duration = Duration::from_secs(1);
const MAX_LEASE: Duration = Duration::from_secs(3600);
/// The largest JSON document a worker may report (output, details).
pub const MAX_JSON: usize = 1 << 20;
const MAX_TYPES: usize = 64;
/// ListWorkers' window when none is asked for, and the longest (workers are forgotten after a
/// day).
pub const DEFAULT_SEEN_WITHIN: Duration = Duration::from_secs(5 * 60);
const MAX_SEEN_WITHIN: Duration = Duration::from_secs(24 * 3600);

pub fn token(text: &str) -> Result<TaskToken, Status> {
    TaskToken::parse(text).map_err(|m| invalid("task_token", m))
}

pub fn task_id(field: &str, id: i64) -> Result<i64, Status> {
    if id <= 0 {
        return Err(invalid(
            field,
            format!("must be a task id (positive), not {id}"),
        ));
    }
    Ok(id)
}

/// `""` means the default queue.
pub fn task_queue(text: &str) -> Result<String, Status> {
    match text.trim() {
        "" => Ok(DEFAULT_QUEUE.to_owned()),
        name => super::convert::name("task_queue", name),
    }
}

pub fn activity_types(types: &[String]) -> Result<Vec<String>, Status> {
    if types.is_empty() {
        return Err(invalid(
            "activity_types",
            "name at least one activity type this worker runs, e.g. send_message",
        ));
    }
    super::convert::capped("activity_types", types.len(), MAX_TYPES)?;
    types
        .iter()
        .map(|t| super::convert::name("activity_types", t))
        .collect()
}

/// A duration within `[min, max]`, or `default` when unset.
pub fn bounded(
    field: &str,
    d: Option<&prost_types::Duration>,
    default: Duration,
    min: Duration,
    max: Duration,
) -> Result<Duration, Status> {
    let Some(d) = super::convert::duration(field, d)? else {
        return Ok(default);
    };
    let d = d
        .to_std()
        .map_err(|_| invalid(field, "must not be negative"))?;
    if d < min || d > max {
        return Err(invalid(
            field,
            format!("must be between {min:?} and {max:?}, not {d:?}"),
        ));
    }
    Ok(d)
}

pub fn wait(d: Option<&prost_types::Duration>) -> Result<Duration, Status> {
    bounded("wait", d, DEFAULT_WAIT, Duration::ZERO, MAX_WAIT)
}

pub fn lease(d: Option<&prost_types::Duration>) -> Result<Duration, Status> {
    bounded("lease", d, DEFAULT_LEASE, MIN_LEASE, MAX_LEASE)
}

/// A JSON document; `""` is `null`.
pub fn json(field: &str, text: &str) -> Result<Value, Status> {
    if text.len() > MAX_JSON {
        return Err(invalid(
            field,
            format!("is {} bytes; at most {MAX_JSON}", text.len()),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let value =
        serde_json::from_str(text).map_err(|e| invalid(field, format!("is not JSON: {e}")))?;
    super::convert::json_without_nul(field, &value)?;
    Ok(value)
}

/// An optional JSON document; `""` is none.
pub fn optional_json(field: &str, text: &str) -> Result<Option<Value>, Status> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    json(field, text).map(Some)
}

pub fn state(text: &str) -> Result<Option<TaskState>, Status> {
    match text.trim() {
        "" => Ok(None),
        s => TaskState::parse(s)
            .map(Some)
            .map_err(|m| invalid("state", m)),
    }
}

/// How long a client is prepared to wait, from the `grpc-timeout` header (e.g. `30S`).
pub fn client_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let text = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (value, unit) = text.split_at(text.len().checked_sub(1)?);
    let value: u64 = value.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(value.saturating_mul(3600)),
        "M" => Duration::from_secs(value.saturating_mul(60)),
        "S" => Duration::from_secs(value),
        "m" => Duration::from_millis(value),
        "u" => Duration::from_micros(value),
        "n" => Duration::from_nanos(value),
        _ => return None,
    })
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub fn task_error(e: &TaskError) -> pb::TaskError {
    pb::TaskError {
        code: e.code.clone(),
        message: e.message.clone(),
        retryable: e.retryable,
        details_json: if e.details.is_null() {
            String::new()
        } else {
            json_text(&e.details)
        },
        attempt: e.attempt,
        at: e.at.map(timestamp),
    }
}

pub fn task(t: &TaskRow) -> pb::Task {
    pb::Task {
        id: t.id,
        case_id: t.case_id.to_string(),
        activity: t.activity.clone(),
        task_queue: t.task_queue.clone(),
        state: t.state.to_string(),
        input_json: json_text(&t.input),
        idempotency_key: t.idempotency_key.clone(),
        attempts: t.attempts,
        run_at: Some(timestamp(t.run_at)),
        lease_owner: t.lease_owner.clone().unwrap_or_default(),
        lease_expires_at: t.lease_expires_at.map(timestamp),
        retry_policy_json: serde_json::to_string(&t.retry_policy).unwrap_or_default(),
        last_error: t.last_error.as_ref().map(task_error),
        result_json: t.result.as_ref().map(json_text).unwrap_or_default(),
        created_at: Some(timestamp(t.created_at)),
        updated_at: Some(timestamp(t.updated_at)),
        completed_at: t.completed_at.map(timestamp),
        // GetTask says why an unfinished task waits; lists do not pay for it.
        why: String::new(),
    }
}

/// ListWorkers' `seen_within`: unset means 5 minutes; 1s to 24h.
pub fn seen_within(d: Option<&prost_types::Duration>) -> Result<Duration, Status> {
    let Some(d) = super::convert::duration("seen_within", d)? else {
        return Ok(DEFAULT_SEEN_WITHIN);
    };
    let d = d.to_std().unwrap_or(Duration::ZERO);
    if d < Duration::from_secs(1) || d > MAX_SEEN_WITHIN {
        return Err(invalid(
            "seen_within",
            "must be between 1s and 24h (workers not seen for a day are forgotten)",
        ));
    }
    Ok(d)
}

pub fn worker(w: &WorkerView) -> pb::WorkerInfo {
    pb::WorkerInfo {
        worker_id: w.worker_id.clone(),
        node: w.node.clone(),
        activity_types: w.activities.iter().cloned().collect(),
        task_queues: w.task_queues.iter().cloned().collect(),
        first_seen_at: Some(timestamp(w.first_seen_at)),
        last_poll_at: Some(timestamp(w.last_poll_at)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic::metadata::MetadataMap;

    use super::client_timeout;

    fn timeout(value: &str) -> Option<Duration> {
        let mut metadata = MetadataMap::new();
        metadata.insert("grpc-timeout", value.parse().expect("a header value"));
        client_timeout(&metadata)
    }

    #[test]
    fn reads_the_grpc_timeout_header() {
        assert_eq!(timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(timeout("5x"), None);
        assert_eq!(timeout("S"), None);
        assert_eq!(client_timeout(&MetadataMap::new()), None);
    }
}
