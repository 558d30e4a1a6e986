//! Risk policies, engine side: the compiled policies cached per engine by version (a stored
//! version's rules never change), seeding the shipped policy, loading and activating a policy
//! file, and the activation history. Compiling runs off the async runtime.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use aijia_workflows::Actor;
use aijia_workflows::risk::{BUILTIN_POLICY, PolicyError, RiskPolicy};
use tracing::{info, instrument};

use super::{APPEND_ATTEMPTS, system};
use crate::engine::review::RailsError;
use crate::engine::{Engine, EngineError};
use crate::ids::RequestId;
use crate::store::automation::{Appended, RiskActivation};

impl Engine {
    /// Stores and activates the shipped risk policy (compiled once per process), unless a
    /// racing writer did.
    pub(super) async fn seed_risk(&self) -> Result<(), EngineError> {
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
