//! Automation policy versions: the version in force, mode changes with the pass-rate bar,
//! the global pause, rollback and the version history, each change appended as a new version
//! (racing writers retried, a repeated request answered with what it made).

use aijia_workflows::Actor;
use aijia_workflows::automation::{ActionType, AutomationPolicy, Mode, OpeningRule, ReviewTally};
use chrono::TimeDelta;
use tracing::{info, instrument};

use super::{APPEND_ATTEMPTS, system};
use crate::engine::review::RailsError;
use crate::engine::{Engine, EngineError};
use crate::ids::RequestId;
use crate::store::automation::{Appended, PolicyVersionRow, RiskActivation};

/// The active policies as operators see them.
#[derive(Debug, Clone)]
pub struct PolicyOverview {
    /// The version the call made or found (the active one, for a read).
    pub policy: PolicyVersionRow,
    pub risk: RiskActivation,
    pub risk_rules: usize,
    /// Review decisions per action type over the opening window.
    pub tallies: Vec<(ActionType, ReviewTally)>,
    pub opening: OpeningRule,
    /// False when the call changed nothing.
    pub changed: bool,
}

impl Engine {
    /// The automation version in force, without touching risk policies (the state machines'
    /// hot path needs only this).
    pub(super) async fn automation_in_force(&self) -> Result<PolicyVersionRow, EngineError> {
        for _ in 0..APPEND_ATTEMPTS {
            match self.store.active_policies().await?.automation {
                Some(automation) => return Ok(automation),
                None => self.seed_automation().await?,
            }
        }
        Err(EngineError::Store(crate::store::StoreError::Corrupt {
            what: "automation policy in force",
            detail: "no automation policy version could be read or written".to_owned(),
        }))
    }

    /// Writes version 1 of the automation policy, unless a racing writer did.
    pub(super) async fn seed_automation(&self) -> Result<(), EngineError> {
        let initial = PolicyVersionRow {
            version: 1,
            policy: AutomationPolicy::initial(),
            change: "initial policy".to_owned(),
            reason: "the shipped initial policy: every action type in review".to_owned(),
            forced: false,
            actor: system(),
            request_id: None,
            request_fingerprint: None,
            created_at: self.clock.now(),
        };
        self.store.append_policy_version(&initial).await?;
        Ok(())
    }

    /// The active policies, pass rates included.
    pub async fn automation_overview(&self) -> Result<PolicyOverview, RailsError> {
        let in_force = self.in_force().await?;
        self.overview(in_force.automation, in_force.risk, false)
            .await
    }

    async fn overview(
        &self,
        policy: PolicyVersionRow,
        risk: RiskActivation,
        changed: bool,
    ) -> Result<PolicyOverview, RailsError> {
        let compiled = self.risk_policy(&risk.version).await?;
        let opening = self.rails.config.opening;
        let since = self.clock.now() - TimeDelta::days(i64::from(opening.window_days));
        let tallies = self
            .store
            .review_tallies(since)
            .await
            .map_err(EngineError::from)?;
        Ok(PolicyOverview {
            policy,
            risk,
            risk_rules: compiled.rule_ids().count(),
            tallies: ActionType::ALL
                .iter()
                .map(|&t| (t, tallies.get(t.as_str()).copied().unwrap_or_default()))
                .collect(),
            opening,
            changed,
        })
    }

    /// Appends the version `next(current)` gives, retrying when racing writers take the number.
    /// `next` answers `None` for a change that changes nothing.
    async fn append_version<F>(
        &self,
        request_id: &RequestId,
        actor: &Actor,
        reason: &str,
        mut next: F,
    ) -> Result<PolicyOverview, RailsError>
    where
        F: FnMut(&PolicyVersionRow) -> Result<Option<(AutomationPolicy, String, bool)>, RailsError>,
    {
        if let Some(found) = self
            .store
            .policy_version_by_request(request_id.as_str())
            .await
            .map_err(EngineError::from)?
        {
            request_id
                .answers_to(found.request_fingerprint.as_deref())
                .map_err(EngineError::from)?;
            let risk = self.in_force().await?.risk;
            return self.overview(found, risk, false).await;
        }
        for _ in 0..APPEND_ATTEMPTS {
            let in_force = self.in_force().await?;
            let current = in_force.automation;
            let Some((policy, change, forced)) = next(&current)? else {
                return self.overview(current, in_force.risk, false).await;
            };
            let row = PolicyVersionRow {
                version: current.version + 1,
                policy,
                change,
                reason: reason.to_owned(),
                forced,
                actor: actor.clone(),
                request_id: Some(request_id.as_str().to_owned()),
                request_fingerprint: request_id.fingerprint().map(str::to_owned),
                created_at: self.clock.now(),
            };
            match self
                .store
                .append_policy_version(&row)
                .await
                .map_err(EngineError::from)?
            {
                Appended::Appended(row) => {
                    info!(version = row.version, change = %row.change, actor = %actor.id, "automation policy changed");
                    return self.overview(row, in_force.risk, true).await;
                }
                Appended::Repeated(row) => {
                    request_id
                        .answers_to(row.request_fingerprint.as_deref())
                        .map_err(EngineError::from)?;
                    return self.overview(row, in_force.risk, false).await;
                }
                Appended::Taken => continue,
            }
        }
        Err(EngineError::Store(crate::store::StoreError::Corrupt {
            what: "automation policy versions",
            detail: "too many concurrent changes; retry with the same request id".to_owned(),
        })
        .into())
    }

    /// Sets one action type's mode. Opening to `auto` needs the type's review pass rate over
    /// the window to meet the bar, unless forced (with the reason, recorded as forced).
    #[instrument(skip_all, fields(action_type = %action, mode = %mode))]
    pub async fn set_action_mode(
        &self,
        request_id: RequestId,
        action: ActionType,
        mode: Mode,
        actor: Actor,
        reason: String,
        force: bool,
    ) -> Result<PolicyOverview, RailsError> {
        let opening = self.rails.config.opening;
        let tally = if mode == Mode::Auto {
            let since = self.clock.now() - TimeDelta::days(i64::from(opening.window_days));
            self.store
                .review_tallies(since)
                .await
                .map_err(EngineError::from)?
                .get(action.as_str())
                .copied()
                .unwrap_or_default()
        } else {
            ReviewTally::default()
        };
        self.append_version(&request_id, &actor, &reason, |current| {
            let was = current.policy.mode(action);
            if was == mode {
                return Ok(None);
            }
            let mut forced = false;
            if mode == Mode::Auto
                && let Err(below) = opening.check(action, &tally)
            {
                if !force {
                    return Err(RailsError::BelowBar(below));
                }
                forced = true;
            }
            let mut change = format!("{action}: {was} -> {mode}");
            if forced {
                change.push_str(&format!(
                    " (forced below the bar: pass rate {})",
                    tally.pass_rate().map_or_else(
                        || "not measured".to_owned(),
                        |r| format!("{:.1}%", r * 100.0)
                    )
                ));
            }
            Ok(Some((
                current.policy.with_mode(action, mode),
                change,
                forced,
            )))
        })
        .await
    }

    /// The one switch: pause (or resume) all automation.
    pub async fn set_paused(
        &self,
        request_id: RequestId,
        paused: bool,
        actor: Actor,
        reason: String,
    ) -> Result<PolicyOverview, RailsError> {
        self.append_version(&request_id, &actor, &reason, |current| {
            if current.policy.paused == paused {
                return Ok(None);
            }
            let change = if paused { "paused" } else { "resumed" };
            Ok(Some((
                current.policy.with_paused(paused),
                change.to_owned(),
                false,
            )))
        })
        .await
    }

    /// A new version equal to version `to`.
    pub async fn rollback_policy(
        &self,
        request_id: RequestId,
        to: i64,
        actor: Actor,
        reason: String,
    ) -> Result<PolicyOverview, RailsError> {
        let target = self
            .store
            .policy_version(to)
            .await
            .map_err(EngineError::from)?
            .ok_or(RailsError::NoSuchPolicyVersion(to))?;
        self.append_version(&request_id, &actor, &reason, |current| {
            let same = current.policy.all_modes() == target.policy.all_modes()
                && current.policy.paused == target.policy.paused;
            if same {
                return Ok(None);
            }
            Ok(Some((
                target.policy.clone(),
                format!("rollback to v{to}"),
                false,
            )))
        })
        .await
    }

    /// Automation versions below `before`, newest first.
    pub async fn policy_versions(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PolicyVersionRow>, RailsError> {
        self.in_force().await?;
        Ok(self
            .store
            .policy_versions(before, limit)
            .await
            .map_err(EngineError::from)?)
    }
}
