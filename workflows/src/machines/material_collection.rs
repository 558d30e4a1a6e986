//! Material collection: the customer sends the documents a checklist asks for; once every item
//! is in, the case is received and the customer is told so; staff then complete it.
//!
//! | state | event | goes to | also |
//! | --- | --- | --- | --- |
//! | waiting_for_customer | material_provided / material_received, items left | (stays) | ticks items off |
//! | waiting_for_customer | material_provided / material_received, last items | received | confirm_material_received |
//! | waiting_for_executor | executor_done | received | |
//! | received | material_received | (stays) | material_confirmed evidence |
//! | received | complete | completed | completion evidence |
//!
//! Wait-for parties: customer, executor. The checklist comes from the `materials` attribute
//! (comma-separated); without it the customer may send anything and the first items complete it.

use std::collections::HashSet;

use serde_json::json;
use statig::prelude::*;

use crate::effect::{activity, evidence};
use crate::event::Event;
use crate::model::{Case, CaseState, ChecklistItem, Party};

use super::step::Step;
use super::{Profile, case_states, common, text};

pub(super) const PROFILE: Profile = Profile {
    parties: &[Party::Customer, Party::Executor],
    initial: || MaterialCollection::initial().case_state(),
    checklist,
    what,
    received: "check the received materials and complete the case",
    handle,
};

fn checklist(case: &Case) -> Vec<ChecklistItem> {
    let materials = case.attributes.get("materials").map_or("", String::as_str);
    text::checklist(text::names(materials.split(',')))
}

fn what(case: &Case, state: CaseState) -> String {
    match state {
        CaseState::WaitingForCustomer => format!("send the materials for {}", case.subject),
        _ => format!("check the materials for {}", case.subject),
    }
}

pub(super) struct MaterialCollection;

#[state_machine(
    initial = "State::waiting_for_customer()",
    context_identifier = "step",
    after_transition = "Self::after_transition",
    visibility = "pub(super)"
)]
impl MaterialCollection {
    #[state(superstate = "open")]
    fn waiting_for_customer(step: &mut Step<'_>, event: &Event) -> Outcome<State> {
        match event {
            Event::MaterialProvided { items, .. } | Event::MaterialReceived { items } => {
                tick_off(step, items)
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
            Event::MaterialReceived { items } => {
                let items = text::names(items.iter().map(String::as_str));
                if items.is_empty() {
                    return step.invalid("name at least one item");
                }
                step.evidence(evidence::MATERIAL_CONFIRMED, items.join(", "));
                Handled
            }
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

case_states!(MaterialCollection {
    WaitingForCustomer, WaitingForExecutor, WaitingForReview, Received, Completed, Cancelled,
} never { WaitingForPartner });

/// Tick the named items off the checklist (an open checklist takes them as they come); with
/// nothing missing any more the case is received and the customer gets a confirmation.
fn tick_off(step: &mut Step<'_>, items: &[String]) -> Outcome<State> {
    let items = text::names(items.iter().map(String::as_str));
    if items.is_empty() {
        return step.invalid("name at least one item");
    }
    let mut checklist = step.checklist().to_vec();
    if checklist.is_empty() {
        checklist = items
            .into_iter()
            .map(|name| ChecklistItem { name, done: true })
            .collect();
    } else {
        // Sets, so that ticking off is linear in the items and the checklist.
        let listed: HashSet<&str> = checklist.iter().map(|c| c.name.as_str()).collect();
        if let Some(unknown) = items.iter().find(|i| !listed.contains(i.as_str())) {
            let message = format!(
                "{} is not on the checklist: {}",
                crate::bounds::echo(unknown),
                text::joined(&checklist)
            );
            return step.invalid(message);
        }
        let ticked: HashSet<&str> = items.iter().map(String::as_str).collect();
        for item in checklist
            .iter_mut()
            .filter(|c| ticked.contains(c.name.as_str()))
        {
            item.done = true;
        }
    }
    if checklist.iter().all(|item| item.done) {
        let names: Vec<&str> = checklist.iter().map(|i| i.name.as_str()).collect();
        step.enqueue(
            activity::CONFIRM_MATERIAL_RECEIVED,
            json!({ "items": names }),
        );
        Transition(State::received())
    } else {
        step.update_checklist(checklist);
        Handled
    }
}
