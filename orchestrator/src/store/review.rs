//! The review side of the safety rails in storage: the reviewers registry, the cases whose
//! drafts are in the queue, review decisions counted for pass rates, and customers' private
//! context. Drafts themselves are part of their case (`cases.data`, `rails.drafts`), written
//! by the ordinary commit of the event that changes them.

use std::collections::HashMap;

use aijia_workflows::automation::ReviewTally;
use aijia_workflows::review::DraftStatus;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError, StoredCase};

/// Someone who may decide drafts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    pub id: String,
    pub display_name: String,
    pub teams: Vec<String>,
    pub active: bool,
    /// `role:id` of who registered them.
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A customer's private context, as a backend service put it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerContext {
    pub customer_id: String,
    pub context: serde_json::Value,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// Which cases to read drafts from.
#[derive(Debug, Clone)]
pub struct ReviewCaseFilter {
    /// Cases with at least one draft in this status.
    pub status: DraftStatus,
    pub case_id: Option<Uuid>,
    pub limit: u32,
}

impl Store {
    /// Adds a reviewer, or updates the name, teams and active flag of an existing one (who
    /// added them and when stay). Returns the stored row.
    pub async fn upsert_reviewer(&self, reviewer: &Reviewer) -> Result<Reviewer, StoreError> {
        dispatch!(self, s => s.upsert_reviewer(reviewer).await)
    }

    pub async fn get_reviewer(&self, id: &str) -> Result<Option<Reviewer>, StoreError> {
        dispatch!(self, s => s.get_reviewer(id).await)
    }

    /// Every reviewer, by id.
    pub async fn list_reviewers(&self) -> Result<Vec<Reviewer>, StoreError> {
        dispatch!(self, s => s.list_reviewers().await)
    }

    /// Cases with a draft in the filter's status (queued drafts only in `waiting_for_review`
    /// cases, which the state index finds), by id.
    pub async fn review_cases(
        &self,
        filter: &ReviewCaseFilter,
    ) -> Result<Vec<StoredCase>, StoreError> {
        dispatch!(self, s => s.review_cases(filter).await)
    }

    /// Reviewers' decisions on submitted drafts (approve, edit, reject; not templated
    /// activities, not transfers) since `since`, per action type.
    pub async fn review_tallies(
        &self,
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, ReviewTally>, StoreError> {
        dispatch!(self, s => s.review_tallies(since).await)
    }

    pub async fn put_customer_context(&self, context: &CustomerContext) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_customer_context(context).await)
    }

    pub async fn customer_context(
        &self,
        customer_id: &str,
    ) -> Result<Option<CustomerContext>, StoreError> {
        dispatch!(self, s => s.customer_context(customer_id).await)
    }
}

/// Adds one `(action type, decision kind, count)` row to the tallies.
pub(crate) fn tally(
    tallies: &mut HashMap<String, ReviewTally>,
    action_type: String,
    kind: &str,
    count: i64,
) {
    let entry = tallies.entry(action_type).or_default();
    let count = u64::try_from(count).unwrap_or(0);
    match kind {
        "approve" => entry.approved += count,
        "edit" => entry.edited += count,
        "reject" => entry.rejected += count,
        _ => {}
    }
}
