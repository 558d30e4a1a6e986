//! Automation policy versions, risk policy versions and their activations, and the submitted
//! drafts a policy replay reads. Versions are append-only rows: the highest automation
//! version and the latest risk activation are in force, for every process sharing the
//! database.

use aijia_workflows::automation::{ActionType, AutomationPolicy, Route, RouteReason, Routing};
use aijia_workflows::{Actor, Event};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::columns::Columns;
use super::{Store, StoreError, actor};

/// One automation policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRow {
    pub version: i64,
    pub policy: AutomationPolicy,
    /// What changed, in words.
    pub change: String,
    pub reason: String,
    pub forced: bool,
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The fingerprint of the request that made this version (`ids::RequestId`).
    pub request_fingerprint: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One time a risk policy became the active one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskActivation {
    pub seq: i64,
    pub version: String,
    pub reason: String,
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The fingerprint of the request that made this activation (`ids::RequestId`).
    pub request_fingerprint: Option<String>,
    pub at: DateTime<Utc>,
}

/// The versions in force, as one read finds them; `None` before the first one is written.
#[derive(Debug, Clone, Default)]
pub struct ActivePolicies {
    pub automation: Option<PolicyVersionRow>,
    pub risk: Option<RiskActivation>,
}

/// What appending a version row came to.
#[derive(Debug, Clone)]
pub enum Appended<T> {
    Appended(T),
    /// The request id was applied before: its row.
    Repeated(T),
    /// A racing writer took the version (or seq) number: read again and retry.
    Taken,
}

/// A `draft_submitted` history event.
#[derive(Debug, Clone)]
pub struct SubmittedDraftEvent {
    pub case_id: Uuid,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub event: Event,
}

impl Store {
    /// The automation version and the risk activation in force, in one read.
    pub async fn active_policies(&self) -> Result<ActivePolicies, StoreError> {
        dispatch!(self, s => s.active_policies().await)
    }

    pub async fn append_policy_version(
        &self,
        row: &PolicyVersionRow,
    ) -> Result<Appended<PolicyVersionRow>, StoreError> {
        dispatch!(self, s => s.append_policy_version(row).await)
    }

    pub async fn policy_version(
        &self,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        dispatch!(self, s => s.policy_version(version).await)
    }

    pub async fn policy_version_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        dispatch!(self, s => s.policy_version_by_request(request_id).await)
    }

    pub async fn risk_activation_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<RiskActivation>, StoreError> {
        dispatch!(self, s => s.risk_activation_by_request(request_id).await)
    }

    /// Versions below `before` (all when `None`), newest first.
    pub async fn policy_versions(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        dispatch!(self, s => s.policy_versions(before, limit).await)
    }

    /// A stored risk policy file by its version.
    pub async fn risk_policy_text(&self, version: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.risk_policy_text(version).await)
    }

    /// Stores a risk policy file; false (and nothing written) if the version is stored.
    pub async fn insert_risk_policy(
        &self,
        version: &str,
        toml: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.insert_risk_policy(version, toml, at).await)
    }

    pub async fn append_risk_activation(
        &self,
        activation: &RiskActivation,
    ) -> Result<Appended<RiskActivation>, StoreError> {
        dispatch!(self, s => s.append_risk_activation(activation).await)
    }

    /// Activations, newest first.
    pub async fn risk_activations(&self, limit: u32) -> Result<Vec<RiskActivation>, StoreError> {
        dispatch!(self, s => s.risk_activations(limit).await)
    }

    /// Templated drafts (activities held or queued for review) made with
    /// `from <= submitted_at < to`, oldest first, at most `limit`.
    pub async fn templated_drafts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TemplatedDraft>, StoreError> {
        dispatch!(self, s => s.templated_drafts(from, to, limit).await)
    }

    /// `draft_submitted` events with `from <= at < to`, oldest first, at most `limit`.
    pub async fn drafts_submitted(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SubmittedDraftEvent>, StoreError> {
        dispatch!(self, s => s.drafts_submitted(from, to, limit).await)
    }
}

pub(crate) fn decode_policy(
    modes: serde_json::Value,
    paused: bool,
) -> Result<AutomationPolicy, StoreError> {
    let modes = serde_json::from_value(modes).map_err(|e| StoreError::Corrupt {
        what: "automation policy modes",
        detail: e.to_string(),
    })?;
    Ok(AutomationPolicy { modes, paused })
}

/// A policy version row whose columns carry `prefix`; `None` when its version is NULL (an
/// outer join found none).
pub(crate) fn policy_row(
    row: &impl Columns,
    prefix: &str,
) -> Result<Option<PolicyVersionRow>, StoreError> {
    let col = |name: &str| format!("{prefix}{name}");
    let Some(version) = row.opt_int(&col("version"))? else {
        return Ok(None);
    };
    Ok(Some(PolicyVersionRow {
        version,
        policy: decode_policy(row.json(&col("modes"))?, row.flag(&col("paused"))?)?,
        change: row.text(&col("change"))?,
        reason: row.text(&col("reason"))?,
        forced: row.flag(&col("forced"))?,
        actor: actor(row.text(&col("actor_role"))?, row.text(&col("actor_id"))?)?,
        request_id: row.opt_text(&col("request_id"))?,
        request_fingerprint: row.opt_text(&col("request_fingerprint"))?,
        created_at: row.time(&col("created_at"))?,
    }))
}

/// A risk policy activation row whose columns carry `prefix`; `None` when its seq is NULL.
pub(crate) fn activation_row(
    row: &impl Columns,
    prefix: &str,
) -> Result<Option<RiskActivation>, StoreError> {
    let col = |name: &str| format!("{prefix}{name}");
    let Some(seq) = row.opt_int(&col("seq"))? else {
        return Ok(None);
    };
    Ok(Some(RiskActivation {
        seq,
        version: row.text(&col("version"))?,
        reason: row.text(&col("reason"))?,
        actor: actor(row.text(&col("actor_role"))?, row.text(&col("actor_id"))?)?,
        request_id: row.opt_text(&col("request_id"))?,
        request_fingerprint: row.opt_text(&col("request_fingerprint"))?,
        at: row.time(&col("at"))?,
    }))
}

/// A templated draft as the drafts index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatedDraft {
    pub case_id: Uuid,
    pub number: u32,
    pub action_type: ActionType,
    pub routing: Routing,
    pub automation_version: i64,
    pub submitted_at: DateTime<Utc>,
}

/// A templated draft row: `case_id, number, action_type, reason, automation_version,
/// submitted_at` of the drafts index.
pub(crate) fn templated_draft(row: &impl Columns) -> Result<TemplatedDraft, StoreError> {
    let corrupt = |what: &'static str| {
        move |e: aijia_workflows::ParseError| StoreError::Corrupt {
            what,
            detail: e.to_string(),
        }
    };
    let reason: RouteReason = row
        .text("reason")?
        .parse()
        .map_err(corrupt("route reason"))?;
    Ok(TemplatedDraft {
        case_id: row.uuid("case_id")?,
        number: super::review::draft_number(row)?,
        action_type: row
            .text("action_type")?
            .parse()
            .map_err(corrupt("action type"))?,
        // A templated draft is either queued for review or held.
        routing: Routing {
            route: if reason == RouteReason::ModeReview {
                Route::Review
            } else {
                Route::Hold
            },
            reason,
        },
        automation_version: row.int("automation_version")?,
        submitted_at: row.time("submitted_at")?,
    })
}

/// A `draft_submitted` history row: `case_id, seq, at, payload`.
pub(crate) fn submitted_draft(row: &impl Columns) -> Result<SubmittedDraftEvent, StoreError> {
    Ok(SubmittedDraftEvent {
        case_id: row.uuid("case_id")?,
        seq: row.int("seq")?,
        at: row.time("at")?,
        event: row.json("payload")?,
    })
}
