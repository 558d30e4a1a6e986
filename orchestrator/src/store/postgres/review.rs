//! Reviewers, the review queue's cases, decision tallies and customer context on PostgreSQL.

use std::collections::HashMap;

use aijia_workflows::automation::ReviewTally;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::PgStore;
use crate::store::review::{CustomerContext, ReviewCaseFilter, Reviewer, tally};
use crate::store::{StoreError, StoredCase, db};

fn reviewer(row: &PgRow) -> Reviewer {
    Reviewer {
        id: row.get("id"),
        display_name: row.get("display_name"),
        teams: row.get::<Json<Vec<String>>, _>("teams").0,
        active: row.get("active"),
        added_by: row.get("added_by"),
        added_at: row.get("added_at"),
        updated_at: row.get("updated_at"),
    }
}

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
        Ok(reviewer(&row))
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
        Ok(row.as_ref().map(reviewer))
    }

    pub async fn list_reviewers(&self) -> Result<Vec<Reviewer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, display_name, teams, active, added_by, added_at, updated_at
             FROM reviewers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing reviewers"))?;
        Ok(rows.iter().map(reviewer).collect())
    }

    pub async fn review_cases(&self, f: &ReviewCaseFilter) -> Result<Vec<StoredCase>, StoreError> {
        let queued = f.status == aijia_workflows::review::DraftStatus::PendingReview;
        let rows = sqlx::query(
            "SELECT id, version, data FROM cases
             WHERE ($1::boolean = false OR state = 'waiting_for_review')
               AND data->'rails'->'drafts' @> $2::jsonb
               AND ($3::uuid IS NULL OR id = $3)
             ORDER BY id
             LIMIT $4",
        )
        .bind(queued)
        .bind(Json(serde_json::json!([{ "status": f.status }])))
        .bind(f.case_id)
        .bind(i64::from(f.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the review queue"))?;
        rows.iter().map(super::stored_case).collect()
    }

    pub async fn review_tallies(
        &self,
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, ReviewTally>, StoreError> {
        let rows = sqlx::query(
            "SELECT payload->>'action_type' AS action_type,
                    payload->'decision'->>'kind' AS kind,
                    count(*) AS n
             FROM case_events
             WHERE event_type = 'draft_decided' AND at >= $1
               AND coalesce((payload->>'templated')::boolean, false) = false
             GROUP BY 1, 2",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db("counting review decisions"))?;
        let mut tallies = HashMap::new();
        for row in rows {
            let action: Option<String> = row.get("action_type");
            let kind: Option<String> = row.get("kind");
            if let (Some(action), Some(kind)) = (action, kind) {
                tally(&mut tallies, action, &kind, row.get("n"));
            }
        }
        Ok(tallies)
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
        Ok(row.map(|row| CustomerContext {
            customer_id: row.get("customer_id"),
            context: row.get::<Json<serde_json::Value>, _>("context").0,
            updated_by: row.get("updated_by"),
            updated_at: row.get("updated_at"),
        }))
    }
}
