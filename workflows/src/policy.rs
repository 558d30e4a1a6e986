//! Waiting-state timers: how long each waiting state may last before the case is reminded,
//! escalated or expired.

use chrono::Duration;

use crate::effect::TimerKind;
use crate::model::{CaseState, WorkflowType};

/// The timer policy a decision consults when a case enters a waiting state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerPolicy {
    /// (workflow type or any, state, kind, delay); the most specific entry wins.
    entries: Vec<(Option<WorkflowType>, CaseState, TimerKind, Duration)>,
}

impl Default for TimerPolicy {
    /// Conservative defaults: remind after a working day, escalate after two.
    fn default() -> Self {
        let mut entries = Vec::new();
        for state in CaseState::ALL
            .iter()
            .copied()
            .filter(|s| s.waiting_for().is_some())
        {
            let (remind, escalate) = match state {
                CaseState::WaitingForReview => (Duration::hours(4), Duration::hours(8)),
                CaseState::WaitingForPartner => (Duration::hours(48), Duration::hours(96)),
                _ => (Duration::hours(24), Duration::hours(48)),
            };
            entries.push((None, state, TimerKind::Remind, remind));
            entries.push((None, state, TimerKind::Escalate, escalate));
        }
        TimerPolicy { entries }
    }
}

impl TimerPolicy {
    pub fn empty() -> Self {
        TimerPolicy {
            entries: Vec::new(),
        }
    }

    /// Set the delay of one timer, for one workflow type or (with `None`) for all.
    pub fn set(
        &mut self,
        workflow_type: Option<WorkflowType>,
        state: CaseState,
        kind: TimerKind,
        delay: Duration,
    ) {
        self.entries
            .retain(|(w, s, k, _)| !(*w == workflow_type && *s == state && *k == kind));
        self.entries.push((workflow_type, state, kind, delay));
    }

    /// The timers to start on entering `state`, in a stable order.
    pub fn timers_for(
        &self,
        workflow_type: WorkflowType,
        state: CaseState,
    ) -> Vec<(TimerKind, Duration)> {
        TimerKind::ALL
            .iter()
            .filter_map(|&kind| {
                let pick = |w: Option<WorkflowType>| {
                    self.entries
                        .iter()
                        .find(|(ew, es, ek, _)| *ew == w && *es == state && *ek == kind)
                        .map(|(_, _, _, d)| (kind, *d))
                };
                pick(Some(workflow_type)).or_else(|| pick(None))
            })
            .collect()
    }
}
