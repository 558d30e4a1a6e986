//! Completion feedback: once the service is done, ask the customer how it went and write
//! their answer back to the business system; staff then complete the case.
//!
//! | state | event | goes to | also |
//! | --- | --- | --- | --- |
//! | waiting_for_customer | customer_replied | received | customer_reply evidence, writeback_completion_feedback |
//! | received | complete | completed | completion evidence |
//!
//! Wait-for parties: customer only.

use serde_json::json;
use statig::prelude::*;

use crate::effect::activity;
use crate::event::Event;
use crate::model::{Case, CaseState, Party};

use super::step::Step;
use super::{Profile, case_states, common};

pub(super) const PROFILE: Profile = Profile {
    parties: &[Party::Customer],
    initial: || CompletionFeedback::initial().case_state(),
    checklist: |_| Vec::new(),
    what,
    received: "complete the case: the customer's feedback is written back",
    handle,
};

fn what(case: &Case, _state: CaseState) -> String {
    format!("give feedback on {}", case.subject)
}

pub(super) struct CompletionFeedback;

#[state_machine(
    initial = "State::waiting_for_customer()",
    context_identifier = "step",
    after_transition = "Self::after_transition",
    visibility = "pub(super)"
)]
impl CompletionFeedback {
    #[state(superstate = "open")]
    fn waiting_for_customer(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::CustomerReplied { text } => {
                common::keep_reply(step, text);
                step.enqueue(
                    activity::WRITEBACK_COMPLETION_FEEDBACK,
                    json!({ "text": text }),
                );
                Transition(State::received())
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

case_states!(CompletionFeedback {
    WaitingForCustomer, WaitingForReview, Received, Completed, Cancelled,
} never { WaitingForExecutor, WaitingForPartner });
