//! Progress inquiry: the customer asks how their matter is going; the case waits for whoever
//! can tell (the executor, or a partner), and their answer goes to the customer as a progress
//! reminder.
//!
//! | state | event | goes to | also |
//! | --- | --- | --- | --- |
//! | waiting_for_executor | executor_done | received | send_progress_reminder |
//! | waiting_for_partner | partner_done | received | send_progress_reminder |
//! | waiting_for_customer | customer_replied | waiting_for_executor | customer_reply evidence |
//! | received | complete | completed | completion evidence |
//!
//! Wait-for parties: executor, customer, partner.

use serde_json::json;
use statig::prelude::*;

use crate::effect::activity;
use crate::event::Event;
use crate::model::{Case, CaseState, Party};

use super::step::Step;
use super::{Profile, case_states, common};

pub(super) const PROFILE: Profile = Profile {
    parties: &[Party::Executor, Party::Customer, Party::Partner],
    initial: || ProgressInquiry::initial().case_state(),
    checklist: |_| Vec::new(),
    what,
    received: "complete the case once the customer has the progress",
    handle,
};

fn what(case: &Case, state: CaseState) -> String {
    match state {
        CaseState::WaitingForCustomer => format!("answer the question about {}", case.subject),
        _ => format!("report progress on {}", case.subject),
    }
}

pub(super) struct ProgressInquiry;

#[state_machine(
    initial = "State::waiting_for_executor()",
    context_identifier = "step",
    after_transition = "Self::after_transition",
    visibility = "pub(super)"
)]
impl ProgressInquiry {
    #[state(superstate = "open")]
    fn waiting_for_executor(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::ExecutorDone { note } => report(step, note),
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn waiting_for_partner(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::PartnerDone { note } => report(step, note),
            _ => Super,
        }
    }

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

case_states!(ProgressInquiry {
    WaitingForCustomer,
    WaitingForExecutor,
    WaitingForReview,
    WaitingForPartner,
    Received,
    Completed,
    Cancelled,
});

/// Whoever was asked has answered: the answer goes to the customer.
fn report(step: &mut Step<'_>, note: &str) -> Outcome<State> {
    step.enqueue(activity::SEND_PROGRESS_REMINDER, json!({ "note": note }));
    Transition(State::received())
}
