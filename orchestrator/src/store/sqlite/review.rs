//! Reviewers, the review queue, decision tallies and customer context on SQLite.

use std::collections::HashMap;

use aijia_workflows::automation::ReviewTally;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{SqliteStore, micros};
use crate::store::review::{
    CustomerContext, DraftRow, ReviewQuery, Reviewer, customer_context, queued_draft, reviewer,
    tallies,
};
use crate::store::{StoreError, StoredCase, db, encode_json};

impl SqliteStore {
    pub async fn upsert_reviewer(&self, r: &Reviewer) -> Result<Reviewer, StoreError> {
        let row = sqlx::query(
            "INSERT INTO reviewers (id, display_name, teams, active, added_by, added_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                 teams = excluded.teams, active = excluded.active, updated_at = excluded.updated_at
             RETURNING id, display_name, teams, active, added_by, added_at, updated_at",
        )
        .bind(&r.id)
        .bind(&r.display_name)
        .bind(encode_json(&r.teams))
        .bind(r.active)
        .bind(&r.added_by)
        .bind(micros(r.updated_at))
        .fetch_one(&self.pool)
        .await
        .map_err(db("registering a reviewer"))?;
        reviewer(&row)
    }

    pub async fn get_reviewer(&self, id: &str) -> Result<Option<Reviewer>, StoreError> {
        let row = sqlx::query(
            "SELECT id, display_name, teams, active, added_by, added_at, updated_at
             FROM reviewers WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a reviewer"))?;
        row.as_ref().map(reviewer).transpose()
    }

    pub async fn list_reviewers(&self) -> Result<Vec<Reviewer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, display_name, teams, active, added_by, added_at, updated_at
             FROM reviewers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing reviewers"))?;
        rows.iter().map(reviewer).collect()
    }

    pub async fn review_queue(
        &self,
        q: &ReviewQuery,
    ) -> Result<Vec<(u32, StoredCase)>, StoreError> {
        let (after_at, after_case, after_number) = q.start();
        let rows = sqlx::query(
            "SELECT d.number, c.id, c.version, c.data
             FROM drafts d JOIN cases c ON c.id = d.case_id
             WHERE d.status = ?1
               AND (?2 IS NULL OR (d.assignee_kind = 'reviewer' AND d.assignee = ?2))
               AND (?3 IS NULL OR (d.assignee_kind = 'team' AND d.assignee = ?3))
               AND (NOT ?4 OR d.assignee_kind IS NULL)
               AND (?5 IS NULL OR d.action_type = ?5)
               AND (?6 IS NULL OR d.case_id = ?6)
               AND (?7 IS NULL OR d.submitted_at <= ?7)
               AND (?8 IS NULL OR d.waited_us >= ?8)
               AND (d.submitted_at, d.case_id, d.number) > (?9, ?10, ?11)
             ORDER BY d.submitted_at, d.case_id, d.number
             LIMIT ?12",
        )
        .bind(q.status.as_str())
        .bind(q.reviewer.as_deref())
        .bind(q.team.as_deref())
        .bind(q.unassigned)
        .bind(q.action_type.map(|a| a.as_str()))
        .bind(q.case_id)
        .bind(q.submitted_before.map(micros))
        .bind(q.waited_at_least_us)
        .bind(micros(after_at))
        .bind(after_case)
        .bind(after_number)
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the review queue"))?;
        rows.iter().map(queued_draft).collect()
    }

    pub async fn review_tallies(
        &self,
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, ReviewTally>, StoreError> {
        let rows = sqlx::query(
            "SELECT action_type, status, count(*) AS n
             FROM drafts
             WHERE decided_at >= ?1 AND status IN ('approved', 'edited', 'rejected')
               AND (NOT templated OR reason = 'mode_review')
             GROUP BY 1, 2",
        )
        .bind(micros(since))
        .fetch_all(&self.pool)
        .await
        .map_err(db("counting review decisions"))?;
        Ok(tallies(rows.iter().map(|row| {
            (row.get("action_type"), row.get("status"), row.get("n"))
        })))
    }

    pub async fn put_customer_context(&self, c: &CustomerContext) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO customer_contexts (customer_id, context, updated_by, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (customer_id) DO UPDATE SET context = excluded.context,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(&c.customer_id)
        .bind(encode_json(&c.context))
        .bind(&c.updated_by)
        .bind(micros(c.updated_at))
        .execute(&self.pool)
        .await
        .map_err(db("storing a customer's context"))?;
        Ok(())
    }

    pub async fn customer_context(
        &self,
        customer_id: &str,
    ) -> Result<Option<CustomerContext>, StoreError> {
        let row = sqlx::query(
            "SELECT customer_id, context, updated_by, updated_at
             FROM customer_contexts WHERE customer_id = ?1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a customer's context"))?;
        row.as_ref().map(customer_context).transpose()
    }
}

/// Writes the review queue index rows of the drafts a commit changed.
pub(super) async fn write_drafts(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    case_id: uuid::Uuid,
    drafts: &[DraftRow],
) -> Result<(), sqlx::Error> {
    for d in drafts {
        sqlx::query(
            "INSERT INTO drafts (case_id, number, status, action_type, templated, reason,
                                 automation_version, assignee_kind, assignee, submitted_at,
                                 decided_at, waited_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?12, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (case_id, number) DO UPDATE
             SET status = excluded.status, assignee_kind = excluded.assignee_kind,
                 assignee = excluded.assignee, decided_at = excluded.decided_at,
                 waited_us = excluded.waited_us",
        )
        .bind(case_id)
        .bind(i64::from(d.number))
        .bind(d.status.as_str())
        .bind(d.action_type.as_str())
        .bind(d.templated)
        .bind(d.reason.as_str())
        .bind(d.assignee_kind)
        .bind(d.assignee.as_deref())
        .bind(micros(d.submitted_at))
        .bind(d.decided_at.map(micros))
        .bind(d.waited_us)
        .bind(d.automation_version)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
