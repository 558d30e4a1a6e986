//! Automation and risk policies, engine side: the versions in force (read per draft from the
//! database, so every process follows a change at once), compiled risk policies cached by
//! version, mode changes with the pass-rate bar, the global pause, rollback, risk policy
//! loading, policy replay, and bringing a case up to the automation version in force before
//! an event whose templated activities the policy governs. No SQL and no gRPC here.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use aijia_workflows::automation::{
    self, ActionType, AutomationPolicy, AutomationStamp, Mode, OpeningRule, ReplayedDraft,
    ReviewTally, Route, Routing,
};
use aijia_workflows::review::evidence as rails_evidence;
use aijia_workflows::risk::{BUILTIN_POLICY, PolicyError, RiskPolicy, Verdict};
use aijia_workflows::{Actor, ActorRole, Decision, Effect, Event};
use chrono::{DateTime, TimeDelta, Utc};
use tracing::{info, instrument};

use super::review::RailsError;
use super::{Engine, EngineError};
use crate::ids::{CaseId, RequestId};
use crate::store::automation::{Appended, PolicyVersionRow, RiskActivation};
use crate::store::{Commit, CommitError, StoredCase};

/// How the safety rails are configured for one server.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RailsConfig {
    /// What opening an action type to `auto` needs.
    pub opening: OpeningRule,
}

/// Per-engine state of the rails: the configuration and the compiled risk policies.
#[derive(Debug)]
pub(crate) struct RailsState {
    pub(crate) config: RailsConfig,
    risk: Mutex<HashMap<String, Arc<RiskPolicy>>>,
}

impl RailsState {
    pub(crate) fn new(config: RailsConfig) -> RailsState {
        RailsState {
            config,
            risk: Mutex::new(HashMap::new()),
        }
    }
}

/// The versions in force.
#[derive(Debug, Clone)]
pub struct InForce {
    pub automation: PolicyVersionRow,
    pub risk: RiskActivation,
}

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

/// One replayed draft: a submitted one, judged again by the risk gate and routed again, or a
/// templated activity (held or queued for review), routed again.
#[derive(Debug, Clone)]
pub struct ReplayEntry {
    pub case_id: CaseId,
    pub number: u32,
    pub at: DateTime<Utc>,
    pub action_type: ActionType,
    pub templated: bool,
    pub recorded: Routing,
    /// The gate's verdict and risk policy version as recorded; `None` for a templated
    /// activity, which has no text to judge.
    pub recorded_gate: Option<(Verdict, String)>,
    pub recorded_automation_version: i64,
    pub replayed: Routing,
    /// The gate's judgement under the replayed risk policy; `None` for a templated activity.
    pub replayed_gate: Option<ReplayedDraft>,
    pub changed: bool,
}

/// Sent / reviewed / held counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteTotals {
    pub sent: u64,
    pub reviewed: u64,
    pub held: u64,
}

impl RouteTotals {
    fn add(&mut self, route: Route) {
        match route {
            Route::Send => self.sent += 1,
            Route::Review => self.reviewed += 1,
            Route::Hold => self.held += 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub risk_version: String,
    pub automation_version: i64,
    pub entries: Vec<ReplayEntry>,
    pub recorded: RouteTotals,
    pub replayed: RouteTotals,
    pub changed: u64,
    pub truncated: bool,
}

/// The most drafts one replay covers.
const REPLAY_LIMIT: u32 = 10_000;
/// How often a version append is retried when racing writers take the number.
const APPEND_ATTEMPTS: u32 = 50;

fn system() -> Actor {
    Actor {
        role: ActorRole::System,
        id: "aijia".to_owned(),
    }
}

impl Engine {
    /// The versions in force; the first server to need them writes version 1 of each (every
    /// type in review; the shipped risk policy).
    pub async fn in_force(&self) -> Result<InForce, EngineError> {
        for _ in 0..APPEND_ATTEMPTS {
            let active = self.store.active_policies().await?;
            match (active.automation, active.risk) {
                (Some(automation), Some(risk)) => return Ok(InForce { automation, risk }),
                (automation, risk) => {
                    if automation.is_none() {
                        self.seed_automation().await?;
                    }
                    if risk.is_none() {
                        self.seed_risk().await?;
                    }
                }
            }
        }
        Err(EngineError::Store(crate::store::StoreError::Corrupt {
            what: "policies in force",
            detail: "no automation or risk policy version could be read or written".to_owned(),
        }))
    }

    /// The automation version in force, without touching risk policies (the state machines'
    /// hot path needs only this).
    async fn automation_in_force(&self) -> Result<PolicyVersionRow, EngineError> {
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
    async fn seed_automation(&self) -> Result<(), EngineError> {
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

    /// Stores and activates the shipped risk policy (compiled once per process), unless a
    /// racing writer did.
    async fn seed_risk(&self) -> Result<(), EngineError> {
        static BUILTIN: LazyLock<Arc<RiskPolicy>> =
            LazyLock::new(|| Arc::new(RiskPolicy::builtin()));
        let builtin = off_runtime(|| BUILTIN.clone()).await;
        let version = builtin.version().to_owned();
        let now = self.clock.now();
        self.store
            .insert_risk_policy(&version, BUILTIN_POLICY, now)
            .await?;
        let activation = RiskActivation {
            seq: 1,
            version: version.clone(),
            reason: "the risk policy shipped with this version of Aijia".to_owned(),
            actor: system(),
            request_id: None,
            request_fingerprint: None,
            at: now,
        };
        self.store.append_risk_activation(&activation).await?;
        self.rails_cache().insert(version, builtin);
        Ok(())
    }

    /// The compiled risk policy of a stored version (compiled once per process).
    pub(crate) async fn risk_policy(&self, version: &str) -> Result<Arc<RiskPolicy>, RailsError> {
        if let Some(found) = self.rails_cache().get(version) {
            return Ok(found.clone());
        }
        let text = self
            .store
            .risk_policy_text(version)
            .await
            .map_err(EngineError::from)?
            .ok_or_else(|| RailsError::NoSuchRiskPolicy(version.to_owned()))?;
        let policy = compile(text).await.map_err(|e| {
            EngineError::Store(crate::store::StoreError::Corrupt {
                what: "risk policy",
                detail: e.to_string(),
            })
        })?;
        let policy = Arc::new(policy);
        self.rails_cache()
            .insert(version.to_owned(), policy.clone());
        Ok(policy)
    }

    fn rails_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RiskPolicy>>> {
        // A poisoned cache only ever held fully built policies: keep using it.
        self.rails
            .risk
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    pub async fn risk_activations(&self, limit: u32) -> Result<Vec<RiskActivation>, RailsError> {
        self.in_force().await?;
        Ok(self
            .store
            .risk_activations(limit)
            .await
            .map_err(EngineError::from)?)
    }

    /// Checks a risk policy file and makes it the active one. A file that does not parse is
    /// refused and changes nothing; a version already stored with other rules is refused; the
    /// same file again re-activates its version (false when it is already active).
    #[instrument(skip_all)]
    pub async fn load_risk_policy(
        &self,
        request_id: RequestId,
        toml: &str,
        actor: Actor,
        reason: String,
    ) -> Result<(RiskActivation, Arc<RiskPolicy>, bool), RailsError> {
        if let Some(found) = self
            .store
            .risk_activation_by_request(request_id.as_str())
            .await
            .map_err(EngineError::from)?
        {
            request_id
                .answers_to(found.request_fingerprint.as_deref())
                .map_err(EngineError::from)?;
        }
        let policy = Arc::new(
            compile(toml.to_owned())
                .await
                .map_err(RailsError::BadRiskPolicy)?,
        );
        let version = policy.version().to_owned();
        let stored = self
            .store
            .risk_policy_text(&version)
            .await
            .map_err(EngineError::from)?;
        match stored {
            Some(text) => {
                let same = compile(text).await.is_ok_and(|p| p == *policy);
                if !same {
                    return Err(RailsError::RiskVersionTaken(version));
                }
            }
            None => {
                self.store
                    .insert_risk_policy(&version, toml, self.clock.now())
                    .await
                    .map_err(EngineError::from)?;
            }
        }
        for _ in 0..APPEND_ATTEMPTS {
            let current = self.in_force().await?.risk;
            if current.version == version {
                return Ok((current, policy, false));
            }
            let activation = RiskActivation {
                seq: current.seq + 1,
                version: version.clone(),
                reason: reason.clone(),
                actor: actor.clone(),
                request_id: Some(request_id.as_str().to_owned()),
                request_fingerprint: request_id.fingerprint().map(str::to_owned),
                at: self.clock.now(),
            };
            match self
                .store
                .append_risk_activation(&activation)
                .await
                .map_err(EngineError::from)?
            {
                Appended::Appended(a) => {
                    info!(version = %a.version, actor = %actor.id, "risk policy activated");
                    self.rails_cache().insert(version.clone(), policy.clone());
                    return Ok((a, policy, true));
                }
                Appended::Repeated(a) => {
                    request_id
                        .answers_to(a.request_fingerprint.as_deref())
                        .map_err(EngineError::from)?;
                    return Ok((a, policy, false));
                }
                Appended::Taken => continue,
            }
        }
        Err(EngineError::Store(crate::store::StoreError::Corrupt {
            what: "risk policy activations",
            detail: "too many concurrent loads; retry with the same request id".to_owned(),
        })
        .into())
    }

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
        let truncated = events.len() + templated.len() > REPLAY_LIMIT as usize;
        let mut report = ReplayReport {
            risk_version,
            automation_version: automation.version,
            entries: Vec::new(),
            recorded: RouteTotals::default(),
            replayed: RouteTotals::default(),
            changed: 0,
            truncated,
        };
        for stored in events.iter().take(REPLAY_LIMIT as usize) {
            let Event::DraftSubmitted(submitted) = &stored.event else {
                continue;
            };
            let replayed =
                automation::replay_draft(submitted, Some(&risk), Some(&automation.policy));
            report.entries.push(ReplayEntry {
                case_id: CaseId(stored.case_id),
                number: submitted.draft,
                at: stored.at,
                action_type: submitted.action_type,
                templated: false,
                recorded: submitted.routing,
                recorded_gate: Some((
                    submitted.assessment.verdict,
                    submitted.assessment.policy_version.clone(),
                )),
                recorded_automation_version: submitted.automation_policy_version,
                replayed: replayed.routing,
                replayed_gate: Some(replayed),
                changed: false,
            });
        }
        for draft in &templated {
            report.entries.push(ReplayEntry {
                case_id: CaseId(draft.case_id),
                number: draft.number,
                at: draft.submitted_at,
                action_type: draft.action_type,
                templated: true,
                recorded: draft.routing,
                recorded_gate: None,
                recorded_automation_version: draft.automation_version,
                replayed: automation::replay_activity(
                    draft.action_type,
                    draft.routing,
                    &automation.policy,
                ),
                replayed_gate: None,
                changed: false,
            });
        }
        report
            .entries
            .sort_by_key(|e| (e.at, e.case_id.0, e.number));
        report.entries.truncate(REPLAY_LIMIT as usize);
        for entry in &mut report.entries {
            entry.changed = entry.replayed.route != entry.recorded.route;
            report.recorded.add(entry.recorded.route);
            report.replayed.add(entry.replayed.route);
            report.changed += u64::from(entry.changed);
        }
        Ok(report)
    }

    /// For a decision that [`governed`] says automation shaped: if the case still runs under
    /// an older automation version than the one in force, apply `automation_policy_applied`
    /// first (its own commit, once per case and version) and answer true, so the caller reads
    /// and decides again under the new version. The state machines then gate the activity
    /// from history alone. The commit of such a decision is fenced on the case's version too
    /// (`Commit::automation_fence`), so this read is only needed once a fence failed.
    pub(crate) async fn automation_catch_up(
        &self,
        stored: &StoredCase,
    ) -> Result<bool, EngineError> {
        let active = self.automation_in_force().await?;
        if active.version <= stored.case.rails.automation_stamp().version {
            return Ok(false);
        }
        let now = self.clock.now();
        let event = Event::AutomationPolicyApplied(AutomationStamp {
            version: active.version,
            policy: active.policy,
        });
        let applied = aijia_workflows::decide(&stored.case, &event, now, &self.policy)?;
        let mut commit = Commit::new(
            stored.id,
            stored.version,
            event,
            Actor {
                role: ActorRole::System,
                id: "automation".to_owned(),
            },
            &RequestId::internal(format!("automation-policy:v{}", active.version)),
            now,
            applied,
        );
        match self.commit(&mut commit).await {
            Ok(()) => Ok(true),
            Err(CommitError::VersionConflict | CommitError::DuplicateRequest) => Ok(true),
            Err(CommitError::Store(e)) => Err(e.into()),
        }
    }
}

/// Whether automation shaped this decision: it enqueues a templated activity of a governed
/// action type, or held or queued one. Such a decision stands only under the automation
/// version in force.
pub(crate) fn governed(decision: &Decision) -> bool {
    decision.effects.iter().any(|effect| match effect {
        Effect::EnqueueActivity { activity, .. } => ActionType::of_activity(activity).is_some(),
        Effect::RecordEvidence { kind, .. } => {
            kind == rails_evidence::ACTIVITY_HELD || kind == rails_evidence::ACTIVITY_FOR_REVIEW
        }
        _ => false,
    })
}

/// Checks and compiles a risk policy file off the async runtime.
async fn compile(text: String) -> Result<RiskPolicy, PolicyError> {
    off_runtime(move || RiskPolicy::parse(&text)).await
}

/// Runs `work` on the blocking pool: compiling a risk policy can hold a core for a while
/// (within the size limits of `aijia_workflows::risk`), and must not stall the calls sharing
/// its runtime thread.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()))
}
