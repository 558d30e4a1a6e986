//! Partner request for customer cooperation: a partner works on the customer's matter and may
//! need the customer to do something first; whatever the customer sends goes back to the
//! partner. When the partner is done the case is received; completing it writes the result back.
//!
//! | state | event | goes to | also |
//! | --- | --- | --- | --- |
//! | waiting_for_partner | partner_waits_for_customer | waiting_for_customer | waits for what the partner asked |
//! | waiting_for_partner | partner_done | received | |
//! | waiting_for_customer | customer_replied | waiting_for_partner | customer_reply evidence, send_message to the partner |
//! | waiting_for_customer | material_provided | waiting_for_partner | send_message to the partner |
//! | waiting_for_executor | executor_done | received | |
//! | received | complete | completed | completion evidence, writeback_completion_feedback |
//!
//! Wait-for parties: partner, customer, executor.

use serde_json::json;
use statig::prelude::*;

use crate::effect::activity;
use crate::event::Event;
use crate::model::{Case, CaseState, Party};

use super::step::Step;
use super::{Profile, case_states, common, text};

pub(super) const PROFILE: Profile = Profile {
    parties: &[Party::Partner, Party::Customer, Party::Executor],
    initial: || PartnerCooperationRequest::initial().case_state(),
    checklist: |_| Vec::new(),
    what,
    received: "complete the case and write the result back",
    handle,
};

fn what(case: &Case, state: CaseState) -> String {
    match state {
        CaseState::WaitingForCustomer => format!("do what the partner needs for {}", case.subject),
        CaseState::WaitingForExecutor => format!("help with the partner request {}", case.subject),
        _ => format!("handle the request {}", case.subject),
    }
}

pub(super) struct PartnerCooperationRequest;

#[state_machine(
    initial = "State::waiting_for_partner()",
    context_identifier = "step",
    after_transition = "Self::after_transition",
    visibility = "pub(super)"
)]
impl PartnerCooperationRequest {
    #[state(superstate = "open")]
    fn waiting_for_partner(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::PartnerWaitsForCustomer { what } => {
                let what = what.trim();
                if what.is_empty() {
                    return step.invalid("say what the partner needs from the customer");
                }
                step.wait(Some(what.to_owned()), Vec::new());
                Transition(State::waiting_for_customer())
            }
            Event::PartnerDone { .. } => Transition(State::received()),
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn waiting_for_customer(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::CustomerReplied { text } => {
                common::keep_reply(step, text);
                forward(step, text, Vec::new())
            }
            Event::MaterialProvided { items, note } => {
                let items = text::names(items.iter().map(String::as_str));
                if items.is_empty() {
                    return step.invalid("name at least one item");
                }
                forward(step, note, items)
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
                step.enqueue(
                    activity::WRITEBACK_COMPLETION_FEEDBACK,
                    json!({ "text": note.trim() }),
                );
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

case_states!(PartnerCooperationRequest {
    WaitingForCustomer,
    WaitingForExecutor,
    WaitingForReview,
    WaitingForPartner,
    Received,
    Completed,
    Cancelled,
});

/// What the customer sent goes to the partner, and the case waits for the partner again.
fn forward(step: &mut Step<'_>, text: &str, items: Vec<String>) -> Outcome<State> {
    step.enqueue(
        activity::SEND_MESSAGE,
        json!({ "to": "partner", "text": text, "items": items }),
    );
    Transition(State::waiting_for_partner())
}
