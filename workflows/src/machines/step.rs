//! The context every state machine handler works on: the draft of the next case, the effects
//! asked for so far, and the refusal if there is one. It also owns the bookkeeping every
//! transition shares (timers, waiting information, review fields, next step), so that the
//! per-type machines only say *where* a case goes and *why*.

use chrono::{DateTime, Utc};
use statig::Outcome;

use crate::effect::{Effect, TimerAction, TimerKey, TimerKind};
use crate::model::{Case, CaseState, ChecklistItem, Party, Waiting};
use crate::policy::TimerPolicy;
use crate::{Decision, Refusal};

use super::Profile;
use super::text;

/// What the next waiting state waits for, when the handler that chose it knows better than
/// the workflow type's default.
pub(super) struct Pending {
    /// `None`: describe it from the checklist, or else with the type's default.
    pub what: Option<String>,
    pub checklist: Vec<ChecklistItem>,
}

pub(super) struct Step<'a> {
    pub(super) case: Case,
    pub(super) profile: &'static Profile,
    policy: &'a TimerPolicy,
    now: DateTime<Utc>,
    event_kind: &'static str,
    /// Timer changes come first in a decision so a reader sees the move before its effects.
    timers: Vec<Effect>,
    effects: Vec<Effect>,
    pending: Option<Pending>,
    refusal: Option<Refusal>,
}

impl<'a> Step<'a> {
    pub(super) fn new(
        case: Case,
        profile: &'static Profile,
        event_kind: &'static str,
        now: DateTime<Utc>,
        policy: &'a TimerPolicy,
    ) -> Self {
        Step {
            case,
            profile,
            policy,
            now,
            event_kind,
            timers: Vec::new(),
            effects: Vec::new(),
            pending: None,
            refusal: None,
        }
    }

    pub(super) fn state(&self) -> CaseState {
        self.case.state
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The checklist of the current waiting state (empty outside waiting states).
    pub(super) fn checklist(&self) -> &[ChecklistItem] {
        self.case
            .waiting
            .as_ref()
            .map_or(&[], |w| w.checklist.as_slice())
    }

    /// Refuse the event; whatever the handler drafted is thrown away.
    pub(super) fn refuse<S>(&mut self, refusal: Refusal) -> Outcome<S> {
        self.refusal = Some(refusal);
        Outcome::Handled
    }

    pub(super) fn not_accepted<S>(&mut self) -> Outcome<S> {
        self.refuse(Refusal::NotAccepted {
            workflow_type: self.case.workflow_type,
            state: self.case.state,
            event: self.event_kind,
        })
    }

    pub(super) fn invalid<S>(&mut self, message: impl Into<String>) -> Outcome<S> {
        self.refuse(Refusal::Invalid(message.into()))
    }

    pub(super) fn enqueue(&mut self, activity: &str, input: serde_json::Value) {
        self.effects.push(Effect::EnqueueActivity {
            activity: activity.to_owned(),
            input,
        });
    }

    pub(super) fn evidence(&mut self, kind: &str, detail: impl Into<String>) {
        self.effects.push(Effect::RecordEvidence {
            kind: kind.to_owned(),
            detail: detail.into(),
        });
    }

    pub(super) fn request_review(&mut self, reason: &str) {
        self.effects.push(Effect::RequestReview {
            reason: reason.to_owned(),
        });
    }

    /// Start (or move) one timer of the current state; timer changes lead the decision.
    pub(super) fn start_timer(
        &mut self,
        key: TimerKey,
        fire_at: DateTime<Utc>,
        action: TimerAction,
    ) {
        self.timers.push(Effect::StartTimer {
            key,
            fire_at,
            action,
        });
    }

    /// Say what the state the handler is about to transition to waits for.
    pub(super) fn wait(&mut self, what: Option<String>, checklist: Vec<ChecklistItem>) {
        self.pending = Some(Pending { what, checklist });
    }

    /// Update the current waiting state's checklist in place; the state (and so its timers and
    /// `since`) stays as it is.
    pub(super) fn update_checklist(&mut self, checklist: Vec<ChecklistItem>) {
        let state = self.case.state;
        let what = self.describe(state, &checklist);
        if let Some(waiting) = self.case.waiting.as_mut() {
            waiting.what = what;
            waiting.checklist = checklist;
        }
    }

    /// The bookkeeping of every state change, run by each machine's `after_transition` hook
    /// (and by `start` for the initial state). Statig runs no hook when a machine is merely
    /// initialised in its stored state, so nothing here happens twice. (Not
    /// `before_transition`: statig 0.4.1 hands that hook source and target swapped.)
    pub(super) fn entered(&mut self, from: Option<CaseState>, to: CaseState) {
        if let Some(left) = from.filter(|s| s.waiting_for().is_some()) {
            self.timers
                .extend(TimerKind::ALL.iter().map(|&kind| Effect::CancelTimer {
                    key: TimerKey { state: left, kind },
                }));
        }
        let pending = self.pending.take();
        self.case.state = to;
        self.case.review_needed = to == CaseState::WaitingForReview;
        self.case.resume_state = from.filter(|_| self.case.review_needed);
        self.case.waiting = to
            .waiting_for()
            .map(|party| self.waiting(party, to, pending));
        if to.waiting_for().is_some() {
            let timers = self.policy.timers_for(self.case.workflow_type, to);
            self.timers
                .extend(timers.into_iter().map(|t| Effect::StartTimer {
                    key: TimerKey {
                        state: to,
                        kind: t.kind,
                    },
                    fire_at: self.now + t.after,
                    action: t.action,
                }));
        }
    }

    fn waiting(&self, party: Party, state: CaseState, pending: Option<Pending>) -> Waiting {
        let Pending { what, checklist } = pending.unwrap_or(Pending {
            what: None,
            checklist: Vec::new(),
        });
        Waiting {
            party,
            what: what.unwrap_or_else(|| self.describe(state, &checklist)),
            checklist,
            since: self.now,
            reminders_sent: 0,
        }
    }

    fn describe(&self, state: CaseState, checklist: &[ChecklistItem]) -> String {
        text::missing(checklist).unwrap_or_else(|| (self.profile.what)(&self.case, state))
    }

    pub(super) fn finish(mut self) -> Result<Decision, Refusal> {
        match self.refusal.take() {
            Some(refusal) => Err(refusal),
            None => Ok(self.decision()),
        }
    }

    /// The drafted case and its effects, for a step that cannot have been refused.
    pub(super) fn decision(self) -> Decision {
        let mut case = self.case;
        case.updated_at = self.now;
        case.next_step = text::next_step(&case, self.profile);
        let mut effects = self.timers;
        effects.extend(self.effects);
        Decision {
            case,
            effects,
            drafts_changed: Vec::new(),
        }
    }
}
