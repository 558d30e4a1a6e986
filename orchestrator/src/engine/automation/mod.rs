//! Automation and risk policies, engine side. This module owns the rails' per-engine state
//! and the versions in force (read per draft from the database, so every process follows a
//! change at once; the first server to need them writes version 1 of each). Its files own one
//! job each: `versions` the automation policy versions (modes, pause, rollback, history),
//! `risk` the compiled risk policy cache and risk policy loading, `replay` the policy replay
//! report, `catch_up` bringing a case up to the automation version in force. No SQL and no
//! gRPC here.

mod catch_up;
mod replay;
mod risk;
mod versions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aijia_workflows::automation::OpeningRule;
use aijia_workflows::risk::RiskPolicy;
use aijia_workflows::{Actor, ActorRole};

use super::{Engine, EngineError};
use crate::store::automation::{PolicyVersionRow, RiskActivation};

pub(crate) use catch_up::governed;
pub use replay::{ReplayEntry, ReplayReport, RouteTotals};
pub use versions::PolicyOverview;

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
}
