//! Reviewers, the review queue's cases, decision tallies and customer context on SQLite.

use std::collections::HashMap;

use aijia_workflows::automation::ReviewTally;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, from_micros, micros};
use crate::store::review::{CustomerContext, ReviewCaseFilter, Reviewer, tally};
use crate::store::{StoreError, StoredCase, db, decode_json, encode_json};

fn reviewer(row: &SqliteRow) -> Result<Reviewer, StoreError> {
    Ok(Reviewer {
        id: row.get("id"),
        display_name: row.get("display_name"),
        teams: decode_json("reviewer teams", row.get("teams"))?,
        active: row.get("active"),
        added_by: row.get("added_by"),
        added_at: from_micros("reviewer", row.get("added_at"))?,
        updated_at: from_micros("reviewer", row.get("updated_at"))?,
    })
}

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

    pub async fn review_cases(&self, f: &ReviewCaseFilter) -> Result<Vec<StoredCase>, StoreError> {
        let queued = f.status == aijia_workflows::review::DraftStatus::PendingReview;
        let rows = sqlx::query(
            "SELECT id, version, data FROM cases
             WHERE (?1 = 0 OR state = 'waiting_for_review')
               AND EXISTS (SELECT 1 FROM json_each(cases.data, '$.rails.drafts') AS d
                           WHERE json_extract(d.value, '$.status') = ?2)
               AND (?3 IS NULL OR id = ?3)
             ORDER BY id
             LIMIT ?4",
        )
        .bind(queued)
        .bind(f.status.as_str())
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
            "SELECT json_extract(payload, '$.action_type') AS action_type,
                    json_extract(payload, '$.decision.kind') AS kind,
                    count(*) AS n
             FROM case_events
             WHERE event_type = 'draft_decided' AND at >= ?1
               AND coalesce(json_extract(payload, '$.templated'), 0) = 0
             GROUP BY 1, 2",
        )
        .bind(micros(since))
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
        row.map(|row| {
            Ok(CustomerContext {
                customer_id: row.get("customer_id"),
                context: decode_json("customer context", row.get("context"))?,
                updated_by: row.get("updated_by"),
                updated_at: from_micros("customer context", row.get("updated_at"))?,
            })
        })
        .transpose()
    }
}
