//! Appointment confirmation: the customer confirms a proposed appointment, then the executor
//! confirms they will be there; with both, the case is received and staff complete it.
//!
//! | state | event | goes to | also |
//! | --- | --- | --- | --- |
//! | waiting_for_customer | customer_replied | waiting_for_executor | customer_reply evidence |
//! | waiting_for_executor | executor_done | received | |
//! | received | complete | completed | completion evidence |
//!
//! Wait-for parties: customer, executor. The `slot` attribute, when given, names the appointment.

use statig::prelude::*;

use crate::event::Event;
use crate::model::{Case, CaseState, Party};

use super::step::Step;
use super::{Profile, case_states, common};

pub(super) const PROFILE: Profile = Profile {
    parties: &[Party::Customer, Party::Executor],
    initial: || AppointmentConfirmation::initial().case_state(),
    checklist: |_| Vec::new(),
    what,
    received: "complete the case: the appointment is confirmed",
    handle,
};

fn what(case: &Case, _state: CaseState) -> String {
    match case.attributes.get("slot").map(|s| s.trim()) {
        Some(slot) if !slot.is_empty() => format!("confirm the appointment at {slot}"),
        _ => format!("confirm the appointment for {}", case.subject),
    }
}

pub(super) struct AppointmentConfirmation;

#[state_machine(
    initial = "State::waiting_for_customer()",
    context_identifier = "step",
    after_transition = "Self::after_transition",
    visibility = "pub(super)"
)]
impl AppointmentConfirmation {
    #[state(superstate = "open")]
    fn waiting_for_customer(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::CustomerReplied { text } => {
                common::keep_reply(step, text);
                Transition(State::waiting_for_executor())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn waiting_for_executor(event: &Event) -> Outcome<State> {
        match event {
            Event::ExecutorDone { .. } => Transition(State::received()),
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn waiting_for_review() -> Outcome<State> {
        Super
    }

    #[state(superstate = "open")]
    fn received(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::Complete { note } => {
                common::complete(step, note);
                Transition(State::completed())
            }
            _ => Super,
        }
    }

    #[state(superstate = "closed")]
    fn completed() -> Outcome<State> {
        Super
    }

    #[state(superstate = "closed")]
    fn cancelled() -> Outcome<State> {
        Super
    }

    #[superstate]
    fn open(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        let outcome = common::open(step, event);
        common::into_state(step, outcome, State::of)
    }

    #[superstate]
    fn closed(step: &mut Step<'_>) -> Outcome<State> {
        step.not_accepted()
    }
}

case_states!(AppointmentConfirmation {
    WaitingForCustomer, WaitingForExecutor, WaitingForReview, Received, Completed, Cancelled,
} never { WaitingForPartner });
