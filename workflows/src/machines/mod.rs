//! One statig state machine per workflow type, and the two entry points the engine calls.
//!
//! Each machine is rebuilt for every event: statig is handed the stored state, initialised
//! (which runs entry actions only; the machines have none, so re-initialising is free of
//! effects), and given the one event. Handlers write into a `Step` context; the
//! `after_transition` hook does the bookkeeping every state change shares. Nothing here reads
//! a clock: time is the `now` the engine passes in.
//!
//! - `activity`: task outcomes (completed, failed, retried, cancelled), taken in every state.
//! - `common`: the rules of every non-terminal state (cancel, review, wait for, reassign).
//! - `review`: drafts and their review, take-over, identity, automation holds (every type).
//! - `step`: the context handlers write into, and what every transition does.
//! - `text`: what a case tells people it waits for and what comes next.
//! - one file per workflow type with its own transition table.

mod activity;
mod appointment_confirmation;
mod common;
mod completion_feedback;
mod material_collection;
mod partner_cooperation_request;
mod progress_inquiry;
mod review;
mod step;
mod text;

use chrono::{DateTime, Utc};

use crate::event::Event;
use crate::model::WorkflowType;
use crate::model::{Case, CaseState, ChecklistItem, Customer, IdentityStatus, NewCase, Party};
use crate::policy::TimerPolicy;
use crate::{Decision, Refusal};

use step::Step;

/// What sets one workflow type apart, besides its machine's transition table.
pub(super) struct Profile {
    /// The parties a case of this type may be parked on with `wait_for`.
    parties: &'static [Party],
    /// The state its machine starts in.
    initial: fn() -> CaseState,
    /// What the case waits for first, if the type keeps a checklist.
    checklist: fn(&Case) -> Vec<ChecklistItem>,
    /// What a waiting state waits for when neither an event nor a checklist says.
    what: fn(&Case, CaseState) -> String,
    /// The next step while the case is `received`.
    received: &'static str,
    /// Run the type's machine from the case's state on one event.
    handle: fn(&mut Step<'_>, &Event),
}

fn profile(workflow_type: WorkflowType) -> &'static Profile {
    match workflow_type {
        WorkflowType::MaterialCollection => &material_collection::PROFILE,
        WorkflowType::ProgressInquiry => &progress_inquiry::PROFILE,
        WorkflowType::AppointmentConfirmation => &appointment_confirmation::PROFILE,
        WorkflowType::PartnerCooperationRequest => &partner_cooperation_request::PROFILE,
        WorkflowType::CompletionFeedback => &completion_feedback::PROFILE,
    }
}

/// The waiting states a case of `workflow_type` can stand in: those of the parties it may wait
/// for, and review.
pub(crate) fn waiting_states(workflow_type: WorkflowType) -> Vec<CaseState> {
    let mut states: Vec<CaseState> = profile(workflow_type)
        .parties
        .iter()
        .map(|p| p.waiting_state())
        .collect();
    states.push(CaseState::WaitingForReview);
    states
}

/// Open a case: its first state, what it waits for, and that state's timers. The case's own
/// `timers.*` attributes override `policy` (the engine checks them with
/// [`TimerPolicy::with_overrides_for`] before it starts a case; here unusable ones are ignored).
pub fn start(new: &NewCase, now: DateTime<Utc>, policy: &TimerPolicy) -> Decision {
    let policy = policy.for_case(&new.attributes);
    let profile = profile(new.workflow_type);
    let initial = (profile.initial)();
    let case = Case {
        workflow_type: new.workflow_type,
        business_key: new.business_key.clone(),
        customer: Customer {
            id: new.customer_id.clone(),
            display_name: new.customer_display_name.clone(),
            identity: IdentityStatus::Unknown,
        },
        subject: new.subject.clone(),
        owner: new.owner.clone(),
        attributes: new.attributes.clone(),
        state: initial,
        waiting: None,
        next_step: String::new(),
        review_needed: false,
        resume_state: None,
        created_at: now,
        updated_at: now,
        attention: Vec::new(),
        rails: Default::default(),
    };
    let mut step = Step::new(case, profile, "started", now, &policy);
    let checklist = (profile.checklist)(&step.case);
    step.wait(None, checklist);
    step.entered(None, initial);
    step.decision()
}

/// Apply one event to a case. A refused event changes nothing: the case passed in is the
/// case that stands. The case's `timers.*` attributes override `policy`, as in [`start`].
pub fn decide(
    case: &Case,
    event: &Event,
    now: DateTime<Utc>,
    policy: &TimerPolicy,
) -> Result<Decision, Refusal> {
    let policy = policy.for_case(&case.attributes);
    let profile = profile(case.workflow_type);
    let mut step = Step::new(case.clone(), profile, event.kind(), now, &policy);
    // Task outcomes and the safety rails' events are taken in every state, before any
    // machine can refuse them; after a machine's own transition, `review::settle` holds the
    // templated activities automation does not allow now.
    let mut decision = if activity::handle(&mut step, event) || review::handle(&mut step, event) {
        step.finish()?
    } else {
        (profile.handle)(&mut step, event);
        review::settle(step.finish()?)
    };
    decision.drafts_changed = decision
        .case
        .rails
        .drafts
        .iter()
        .filter(|d| case.rails.draft(d.number) != Some(*d))
        .map(|d| d.number)
        .collect();
    Ok(decision)
}

/// Writes what every machine shares: `State::of` and `State::case_state`, which map the
/// machine's statig `State` from and to [`CaseState`], the machine's `after_transition`
/// hook, which hands every transition to [`Step::entered`], and the profile's `handle`, which
/// restores the machine in the case's state and runs the event through it. It relies on statig naming each
/// state's variant after its handler, so `fn waiting_for_customer` is
/// `State::WaitingForCustomer`, as in `CaseState`. After the machine's states come the case
/// states it never enters (`of` gives `None` for them): listed, not matched with `_`, so that a
/// new `CaseState` does not compile until every machine says whether it has it.
///
/// ```text
/// case_states!(CompletionFeedback {
///     WaitingForCustomer, WaitingForReview, Received, Completed, Cancelled,
/// } never { WaitingForExecutor, WaitingForPartner });
/// ```
macro_rules! case_states {
    ($machine:ident { $($state:ident),+ $(,)? } $(never { $($absent:ident),+ $(,)? })?) => {
        impl $machine {
            fn after_transition(
                &mut self,
                source: &State,
                target: &State,
                step: &mut $crate::machines::step::Step<'_>,
            ) {
                step.entered(Some(source.case_state()), target.case_state());
            }
        }

        /// Runs `event` through the machine, restored in the case's state (a state this type
        /// never enters refuses everything).
        fn handle(step: &mut $crate::machines::step::Step<'_>, event: &$crate::event::Event) {
            let Some(state) = State::of(step.state()) else {
                step.not_accepted::<()>();
                return;
            };
            let mut machine = $machine.uninitialized_state_machine();
            *machine.state_mut() = state;
            machine
                .init_with_context(step)
                .handle_with_context(event, step);
        }

        impl State {
            fn of(state: $crate::model::CaseState) -> Option<State> {
                match state {
                    $($crate::model::CaseState::$state => Some(State::$state {}),)+
                    $($($crate::model::CaseState::$absent => None,)+)?
                }
            }

            fn case_state(&self) -> $crate::model::CaseState {
                match self {
                    $(State::$state {} => $crate::model::CaseState::$state,)+
                }
            }
        }
    };
}
use case_states;
