//! Reviewers, the review queue, decision tallies and customer context on PostgreSQL.

use std::collections::HashMap;

use aijia_workflows::automation::ReviewTally;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::types::Json;

use super::PgStore;
use crate::store::review::{
    CustomerContext, ReviewQuery, Reviewer, customer_context, queued_draft, reviewer, tallies,
};
use crate::store::{StoreError, StoredCase, db};

impl PgStore {
    pub async fn upsert_reviewer(&self, r: &Reviewer) -> Result<Reviewer, StoreError> {
        let row = sqlx::query(
            "INSERT INTO reviewers (id, display_name, teams, active, added_by, added_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
                 teams = EXCLUDED.teams, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
             RETURNING id, display_name, teams, active, added_by, added_at, updated_at",
        )
        .bind(&r.id)
        .bind(&r.display_name)
        .bind(Json(&r.teams))
        .bind(r.active)
        .bind(&r.added_by)
        .bind(r.updated_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db("registering a reviewer"))?;
        reviewer(&row)
    }

    pub async fn get_reviewer(&self, id: &str) -> Result<Option<Reviewer>, StoreError> {
        let row = sqlx::query(
            "SELECT id, display_name, teams, active, added_by, added_at, updated_at
             FROM reviewers WHERE id = $1",
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
        // The page is chosen in the index first and joined to its cases after, so a page
        // reads its own cases only.
        let rows = sqlx::query(
            "SELECT d.number, c.id, c.version, c.data
             FROM (SELECT case_id, number, submitted_at FROM drafts
                   WHERE status = $1
                     AND (submitted_at, case_id, number) > ($9, $10::uuid, $11::integer)
                     AND ($2::text IS NULL OR (assignee_kind = 'reviewer' AND assignee = $2))
                     AND ($3::text IS NULL OR (assignee_kind = 'team' AND assignee = $3))
                     AND (NOT $4 OR assignee_kind IS NULL)
                     AND ($5::text IS NULL OR action_type = $5)
                     AND ($6::uuid IS NULL OR case_id = $6)
                     AND ($7::timestamptz IS NULL OR submitted_at <= $7)
                     AND ($8::bigint IS NULL OR waited_us >= $8)
                   ORDER BY submitted_at, case_id, number
                   LIMIT $12) d
             JOIN cases c ON c.id = d.case_id
             ORDER BY d.submitted_at, d.case_id, d.number",
        )
        .bind(q.status.as_str())
        .bind(q.reviewer.as_deref())
        .bind(q.team.as_deref())
        .bind(q.unassigned)
        .bind(q.action_type.map(|a| a.as_str()))
        .bind(q.case_id)
        .bind(q.submitted_before)
        .bind(q.waited_at_least_us)
        .bind(after_at)
        .bind(after_case)
        .bind(after_number)
        .bind(i64::from(q.limit))
        // Planned for each call's filters: a plan cached for one mix of filters (the head of
        // the queue) is a poor one for another (a team, a cursor deep in the queue).
        .persistent(false)
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
             WHERE decided_at >= $1 AND status IN ('approved', 'edited', 'rejected')
               AND (NOT templated OR reason = 'mode_review')
             GROUP BY 1, 2",
        )
        .bind(since)
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
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (customer_id) DO UPDATE SET context = EXCLUDED.context,
                 updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
        )
        .bind(&c.customer_id)
        .bind(Json(&c.context))
        .bind(&c.updated_by)
        .bind(c.updated_at)
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
             FROM customer_contexts WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a customer's context"))?;
        row.as_ref().map(customer_context).transpose()
    }
}
