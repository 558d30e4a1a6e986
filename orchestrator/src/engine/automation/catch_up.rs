//! Bringing a case up to the automation version in force before a decision that automation
//! shapes, so the state machines gate templated activities from the case's history alone.

use aijia_workflows::automation::{ActionType, AutomationStamp};
use aijia_workflows::review::evidence as rails_evidence;
use aijia_workflows::{Actor, ActorRole, Decision, Effect, Event};

use crate::engine::{Engine, EngineError};
use crate::ids::RequestId;
use crate::store::{Commit, CommitError, StoredCase};

impl Engine {
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
