//! PLACEHOLDER: replaced by the statig machines (one per workflow type).

use chrono::{DateTime, Utc};

use crate::event::Event;
use crate::model::{Case, CaseState, Customer, IdentityStatus, NewCase, Waiting};
use crate::policy::TimerPolicy;
use crate::{Decision, Refusal};

pub fn start(new: &NewCase, now: DateTime<Utc>, _policy: &TimerPolicy) -> Decision {
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
        state: CaseState::WaitingForCustomer,
        waiting: Some(Waiting {
            party: crate::Party::Customer,
            what: "reply".into(),
            checklist: vec![],
            since: now,
        }),
        next_step: String::new(),
        review_needed: false,
        resume_state: None,
        created_at: now,
        updated_at: now,
    };
    Decision { case, effects: vec![] }
}

pub fn decide(
    case: &Case,
    event: &Event,
    now: DateTime<Utc>,
    _policy: &TimerPolicy,
) -> Result<Decision, Refusal> {
    let mut next = case.clone();
    next.updated_at = now;
    match event {
        Event::Cancel { .. } if !case.state.is_terminal() => next.state = CaseState::Cancelled,
        Event::Complete { .. } if !case.state.is_terminal() => next.state = CaseState::Completed,
        Event::CustomerReplied { .. } if !case.state.is_terminal() => {}
        _ => {
            return Err(Refusal::NotAccepted {
                workflow_type: case.workflow_type,
                state: case.state,
                event: event.kind(),
            });
        }
    }
    Ok(Decision { case: next, effects: vec![] })
}
