//! The review side of the safety rails in storage: the reviewers registry, the review queue
//! (the `drafts` index), review decisions counted for pass rates, and customers' private
//! context. Drafts themselves are part of their case (`cases.data`, `rails.drafts`); the
//! commit of the event that changes a draft writes its index row with it ([`DraftRow`]).

use std::collections::HashMap;

use aijia_workflows::automation::{ActionType, ReviewTally, RouteReason};
use aijia_workflows::review::{Assignee, CaseDraft, DraftStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::columns::Columns;
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

/// A draft as the review queue's index keeps it (`drafts`, migrations 0005).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftRow {
    pub number: u32,
    pub status: DraftStatus,
    pub action_type: ActionType,
    pub templated: bool,
    pub reason: RouteReason,
    /// The automation policy version it was routed under.
    pub automation_version: i64,
    /// `reviewer` or `team`; `None`: anyone's.
    pub assignee_kind: Option<&'static str>,
    pub assignee: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// How long it waited for its decision, in microseconds.
    pub waited_us: Option<i64>,
}

impl DraftRow {
    pub fn of(draft: &CaseDraft) -> DraftRow {
        let (assignee_kind, assignee) = match &draft.assigned_to {
            Some(Assignee::Reviewer(id)) => (Some("reviewer"), Some(id.clone())),
            Some(Assignee::Team(team)) => (Some("team"), Some(team.clone())),
            None => (None, None),
        };
        let decided_at = draft.decision.as_ref().map(|d| d.at);
        DraftRow {
            number: draft.number,
            status: draft.status,
            action_type: draft.action_type,
            templated: draft.is_templated(),
            reason: draft.routing.reason,
            automation_version: draft.automation_policy_version,
            assignee_kind,
            assignee,
            submitted_at: draft.submitted_at,
            decided_at,
            waited_us: decided_at.map(|at| {
                (at - draft.submitted_at)
                    .num_microseconds()
                    .unwrap_or(i64::MAX)
            }),
        }
    }
}

/// A page of the review queue: drafts in one status, oldest first (submitted at, case,
/// number); `None` matches anything.
#[derive(Debug, Clone)]
pub struct ReviewQuery {
    pub status: DraftStatus,
    pub reviewer: Option<String>,
    pub team: Option<String>,
    pub unassigned: bool,
    pub action_type: Option<ActionType>,
    pub case_id: Option<Uuid>,
    /// Only drafts submitted at or before this time.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Only decided drafts that waited at least this long for their decision (microseconds).
    pub waited_at_least_us: Option<i64>,
    /// Only drafts after this (submitted at, case, number).
    pub after: Option<(DateTime<Utc>, Uuid, u32)>,
    pub limit: u32,
}

impl ReviewQuery {
    /// Where the page starts: after the cursor, or before every draft. Always a bound, so
    /// the queries seek in the `drafts_queue` index instead of scanning up to the page.
    pub(crate) fn start(&self) -> (DateTime<Utc>, Uuid, i64) {
        match self.after {
            Some((at, case_id, number)) => (at, case_id, i64::from(number)),
            None => (DateTime::UNIX_EPOCH, Uuid::nil(), 0),
        }
    }
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

    /// The drafts `query` selects, as (draft number, its case), oldest first.
    pub async fn review_queue(
        &self,
        query: &ReviewQuery,
    ) -> Result<Vec<(u32, StoredCase)>, StoreError> {
        dispatch!(self, s => s.review_queue(query).await)
    }

    /// Reviewers' decisions (approved, edited, rejected; transfers are not decisions) made
    /// since `since`, per action type: on submitted drafts, and on templated activities that
    /// review mode queued (a release of one held while paused, off or taken over judges no
    /// AI output).
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

/// A reviewer row: every column of `reviewers`.
pub(crate) fn reviewer(row: &impl Columns) -> Result<Reviewer, StoreError> {
    Ok(Reviewer {
        id: row.text("id")?,
        display_name: row.text("display_name")?,
        teams: row.json("teams")?,
        active: row.flag("active")?,
        added_by: row.text("added_by")?,
        added_at: row.time("added_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A customer context row: every column of `customer_contexts`.
pub(crate) fn customer_context(row: &impl Columns) -> Result<CustomerContext, StoreError> {
    Ok(CustomerContext {
        customer_id: row.text("customer_id")?,
        context: row.json("context")?,
        updated_by: row.text("updated_by")?,
        updated_at: row.time("updated_at")?,
    })
}

/// The `number` column of a drafts index row.
pub(crate) fn draft_number(row: &impl Columns) -> Result<u32, StoreError> {
    let number = row.int("number")?;
    u32::try_from(number).map_err(|_| StoreError::Corrupt {
        what: "draft number",
        detail: number.to_string(),
    })
}

/// A review queue row: the draft's number and its case (`number, id, version, data`).
pub(crate) fn queued_draft(row: &impl Columns) -> Result<(u32, StoredCase), StoreError> {
    Ok((draft_number(row)?, super::stored_case(row)?))
}

/// The tallies of `(action type, draft status, count)` rows.
pub(crate) fn tallies(
    rows: impl IntoIterator<Item = (String, String, i64)>,
) -> HashMap<String, ReviewTally> {
    let mut tallies: HashMap<String, ReviewTally> = HashMap::new();
    for (action_type, status, count) in rows {
        let entry = tallies.entry(action_type).or_default();
        let count = u64::try_from(count).unwrap_or(0);
        match status.as_str() {
            "approved" => entry.approved += count,
            "edited" => entry.edited += count,
            "rejected" => entry.rejected += count,
            _ => {}
        }
    }
    tallies
}
