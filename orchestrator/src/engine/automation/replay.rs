//! The policy replay, engine side: checks the window, resolves the versions (the ones in
//! force by default) and loads the drafts; `aijia_workflows::automation::replay` computes the
//! report. Reads only.

use aijia_workflows::Event;
use aijia_workflows::automation::replay::{self, PastActivity, PastDraft, REPLAY_LIMIT};
use chrono::{DateTime, Utc};

use crate::engine::review::RailsError;
use crate::engine::{Engine, EngineError};
use crate::ids::CaseId;

pub use aijia_workflows::automation::replay::RouteTotals;
pub type ReplayEntry = replay::ReplayEntry<CaseId>;
pub type ReplayReport = replay::ReplayReport<CaseId>;

impl Engine {
    /// Runs the drafts submitted in `[from, to)` through the given versions (the active ones
    /// when `None`) and reports what would have changed. Reads only.
    pub async fn replay_policy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        risk_version: Option<String>,
        automation_version: Option<i64>,
    ) -> Result<ReplayReport, RailsError> {
        if to <= from {
            return Err(RailsError::invalid("to", "must be after from"));
        }
        let in_force = self.in_force().await?;
        let risk_version = risk_version.unwrap_or(in_force.risk.version);
        let risk = self.risk_policy(&risk_version).await?;
        let automation = match automation_version {
            None => in_force.automation,
            Some(v) => self
                .store
                .policy_version(v)
                .await
                .map_err(EngineError::from)?
                .ok_or(RailsError::NoSuchPolicyVersion(v))?,
        };
        let events = self
            .store
            .drafts_submitted(from, to, REPLAY_LIMIT + 1)
            .await
            .map_err(EngineError::from)?;
        let templated = self
            .store
            .templated_drafts(from, to, REPLAY_LIMIT + 1)
            .await
            .map_err(EngineError::from)?;
        let drafts: Vec<PastDraft<'_, CaseId>> = events
            .iter()
            .filter_map(|stored| match &stored.event {
                Event::DraftSubmitted(submitted) => Some(PastDraft {
                    case_id: CaseId(stored.case_id),
                    at: stored.at,
                    submitted,
                }),
                _ => None,
            })
            .collect();
        let activities: Vec<PastActivity<CaseId>> = templated
            .into_iter()
            .map(|draft| PastActivity {
                case_id: CaseId(draft.case_id),
                number: draft.number,
                at: draft.submitted_at,
                action_type: draft.action_type,
                routing: draft.routing,
                automation_version: draft.automation_version,
            })
            .collect();
        Ok(replay::report(
            &drafts,
            &activities,
            &risk,
            risk_version,
            &automation.policy,
            automation.version,
        ))
    }
}
