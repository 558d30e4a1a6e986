//! Automation and risk policy versions on PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::types::Json;

use super::PgStore;
use crate::store::automation::{
    ActivePolicies, Appended, PolicyVersionRow, RiskActivation, SubmittedDraftEvent,
    TemplatedDraft, activation_row, policy_row, submitted_draft, templated_draft,
};
use crate::store::{StoreError, db};

macro_rules! policy_columns {
    () => {
        "version, modes, paused, change, reason, forced, actor_role, actor_id, request_id, created_at,
         request_fingerprint"
    };
}

macro_rules! activation_columns {
    () => {
        "seq, version, reason, actor_role, actor_id, request_id, at, request_fingerprint"
    };
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl PgStore {
    pub async fn active_policies(&self) -> Result<ActivePolicies, StoreError> {
        let row = sqlx::query(
            "SELECT a.version AS a_version, a.modes AS a_modes, a.paused AS a_paused,
                    a.change AS a_change, a.reason AS a_reason, a.forced AS a_forced,
                    a.actor_role AS a_actor_role, a.actor_id AS a_actor_id,
                    a.request_id AS a_request_id, a.created_at AS a_created_at,
                    a.request_fingerprint AS a_request_fingerprint,
                    r.seq AS r_seq, r.version AS r_version, r.reason AS r_reason,
                    r.actor_role AS r_actor_role, r.actor_id AS r_actor_id,
                    r.request_id AS r_request_id, r.at AS r_at,
                    r.request_fingerprint AS r_request_fingerprint
             FROM (SELECT 1) AS one
             LEFT JOIN (SELECT * FROM automation_policies ORDER BY version DESC LIMIT 1) AS a ON true
             LEFT JOIN (SELECT * FROM risk_policy_activations ORDER BY seq DESC LIMIT 1) AS r ON true",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db("reading the policies in force"))?;
        Ok(ActivePolicies {
            automation: policy_row(&row, "a_")?,
            risk: activation_row(&row, "r_")?,
        })
    }

    pub async fn append_policy_version(
        &self,
        p: &PolicyVersionRow,
    ) -> Result<Appended<PolicyVersionRow>, StoreError> {
        if let Some(request_id) = &p.request_id
            && let Some(found) = self.policy_version_by_request(request_id).await?
        {
            return Ok(Appended::Repeated(found));
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO automation_policies (",
            policy_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(p.version)
        .bind(Json(&p.policy.modes))
        .bind(p.policy.paused)
        .bind(&p.change)
        .bind(&p.reason)
        .bind(p.forced)
        .bind(p.actor.role.as_str())
        .bind(&p.actor.id)
        .bind(&p.request_id)
        .bind(p.created_at)
        .bind(&p.request_fingerprint)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(Appended::Appended(p.clone())),
            Err(e) if is_unique_violation(&e) => match &p.request_id {
                Some(request_id) => match self.policy_version_by_request(request_id).await? {
                    Some(found) => Ok(Appended::Repeated(found)),
                    None => Ok(Appended::Taken),
                },
                None => Ok(Appended::Taken),
            },
            Err(e) => Err(db("writing an automation policy version")(e)),
        }
    }

    pub async fn policy_version(
        &self,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            policy_columns!(),
            " FROM automation_policies WHERE version = $1"
        ))
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an automation policy version"))?;
        match row {
            Some(row) => policy_row(&row, ""),
            None => Ok(None),
        }
    }

    pub async fn policy_version_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            policy_columns!(),
            " FROM automation_policies WHERE request_id = $1"
        ))
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an automation policy version"))?;
        match row {
            Some(row) => policy_row(&row, ""),
            None => Ok(None),
        }
    }

    pub async fn policy_versions(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            policy_columns!(),
            " FROM automation_policies WHERE ($1::bigint IS NULL OR version < $1)
              ORDER BY version DESC LIMIT $2"
        ))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing automation policy versions"))?;
        rows.iter()
            .filter_map(|row| policy_row(row, "").transpose())
            .collect()
    }

    pub async fn risk_policy_text(&self, version: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT policy_toml FROM risk_policies WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a risk policy"))?;
        Ok(row.map(|r| r.get("policy_toml")))
    }

    pub async fn insert_risk_policy(
        &self,
        version: &str,
        toml: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO risk_policies (version, policy_toml, loaded_at) VALUES ($1, $2, $3)
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(toml)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db("storing a risk policy"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn risk_activation_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<RiskActivation>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            activation_columns!(),
            " FROM risk_policy_activations WHERE request_id = $1"
        ))
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a risk policy activation"))?;
        match row {
            Some(row) => activation_row(&row, ""),
            None => Ok(None),
        }
    }

    pub async fn append_risk_activation(
        &self,
        a: &RiskActivation,
    ) -> Result<Appended<RiskActivation>, StoreError> {
        if let Some(request_id) = &a.request_id
            && let Some(found) = self.risk_activation_by_request(request_id).await?
        {
            return Ok(Appended::Repeated(found));
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO risk_policy_activations (",
            activation_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(a.seq)
        .bind(&a.version)
        .bind(&a.reason)
        .bind(a.actor.role.as_str())
        .bind(&a.actor.id)
        .bind(&a.request_id)
        .bind(a.at)
        .bind(&a.request_fingerprint)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(Appended::Appended(a.clone())),
            Err(e) if is_unique_violation(&e) => match &a.request_id {
                Some(request_id) => match self.risk_activation_by_request(request_id).await? {
                    Some(found) => Ok(Appended::Repeated(found)),
                    None => Ok(Appended::Taken),
                },
                None => Ok(Appended::Taken),
            },
            Err(e) => Err(db("activating a risk policy")(e)),
        }
    }

    pub async fn risk_activations(&self, limit: u32) -> Result<Vec<RiskActivation>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            activation_columns!(),
            " FROM risk_policy_activations ORDER BY seq DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing risk policy activations"))?;
        rows.iter()
            .filter_map(|row| activation_row(row, "").transpose())
            .collect()
    }

    pub async fn templated_drafts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TemplatedDraft>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id, number, action_type, reason, automation_version, submitted_at
             FROM drafts
             WHERE templated AND submitted_at >= $1 AND submitted_at < $2
             ORDER BY submitted_at, case_id, number
             LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading templated drafts"))?;
        rows.iter().map(templated_draft).collect()
    }

    pub async fn drafts_submitted(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SubmittedDraftEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id, seq, at, payload FROM case_events
             WHERE event_type = 'draft_submitted' AND at >= $1 AND at < $2
             ORDER BY at, case_id, seq
             LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading submitted drafts"))?;
        rows.iter().map(submitted_draft).collect()
    }
}
