//! Small builders for `aijia.v1` requests, so that a test says only what matters to it.
//! Every builder fills in a fresh request id (and a start, a fresh business key and customer).

use aijia_proto::v1 as pb;
use aijia_proto::v1::signal_case_request::Event;

/// A unique name with a readable prefix, e.g. `start-0190f0c27b1e7c3a…`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

pub fn actor(role: &str, id: &str) -> pb::Actor {
    pb::Actor {
        role: role.to_owned(),
        id: id.to_owned(),
    }
}

pub fn operator() -> pb::Actor {
    actor("operator", "alice")
}

/// A start request for `workflow_type` with a fresh request id, business key and customer.
pub fn start(workflow_type: &str) -> pb::StartCaseRequest {
    pb::StartCaseRequest {
        request_id: unique("start"),
        workflow_type: workflow_type.to_owned(),
        business_key: unique("order"),
        customer: Some(pb::CustomerRef {
            id: unique("cust"),
            display_name: "Li Wei".to_owned(),
        }),
        subject: "Warranty claim".to_owned(),
        owner: "alice".to_owned(),
        attributes: Default::default(),
        actor: Some(actor("reception", "reception-agent")),
    }
}

/// Chained tweaks of a start request.
pub trait StartExt: Sized {
    fn request_id(self, id: &str) -> Self;
    fn business_key(self, key: &str) -> Self;
    fn customer(self, id: &str) -> Self;
    fn owner(self, owner: &str) -> Self;
    fn subject(self, subject: &str) -> Self;
    fn attr(self, key: &str, value: &str) -> Self;
}

impl StartExt for pb::StartCaseRequest {
    fn request_id(mut self, id: &str) -> Self {
        self.request_id = id.to_owned();
        self
    }
    fn business_key(mut self, key: &str) -> Self {
        self.business_key = key.to_owned();
        self
    }
    fn customer(mut self, id: &str) -> Self {
        self.customer = Some(pb::CustomerRef {
            id: id.to_owned(),
            display_name: format!("Customer {id}"),
        });
        self
    }
    fn owner(mut self, owner: &str) -> Self {
        self.owner = owner.to_owned();
        self
    }
    fn subject(mut self, subject: &str) -> Self {
        self.subject = subject.to_owned();
        self
    }
    fn attr(mut self, key: &str, value: &str) -> Self {
        self.attributes.insert(key.to_owned(), value.to_owned());
        self
    }
}

/// A signal with a fresh request id, sent by the actor who would naturally send `event`.
pub fn signal(case_id: &str, event: Event) -> pb::SignalCaseRequest {
    pb::SignalCaseRequest {
        request_id: unique("sig"),
        case_id: case_id.to_owned(),
        actor: Some(natural_actor(&event)),
        expected_version: None,
        event: Some(event),
    }
}

/// Chained tweaks of a signal request.
pub trait SignalExt: Sized {
    fn request_id(self, id: &str) -> Self;
    fn expected_version(self, version: i64) -> Self;
    fn actor(self, role: &str, id: &str) -> Self;
}

impl SignalExt for pb::SignalCaseRequest {
    fn request_id(mut self, id: &str) -> Self {
        self.request_id = id.to_owned();
        self
    }
    fn expected_version(mut self, version: i64) -> Self {
        self.expected_version = Some(version);
        self
    }
    fn actor(mut self, role: &str, id: &str) -> Self {
        self.actor = Some(actor(role, id));
        self
    }
}

pub fn cancel(case_id: &str, reason: &str) -> pb::CancelCaseRequest {
    pb::CancelCaseRequest {
        request_id: unique("cancel"),
        case_id: case_id.to_owned(),
        reason: reason.to_owned(),
        actor: Some(operator()),
    }
}

fn natural_actor(event: &Event) -> pb::Actor {
    match event {
        Event::CustomerReplied(_) | Event::MaterialProvided(_) => actor("customer", "li-wei"),
        Event::ExecutorDone(_) => actor("executor", "fitter-7"),
        Event::PartnerDone(_) | Event::PartnerWaitsForCustomer(_) => actor("partner", "acme"),
        Event::ReviewDecided(_) => actor("reviewer", "rev-1"),
        Event::RequestReview(_) => actor("case", "case-agent"),
        Event::MaterialReceived(_)
        | Event::WaitFor(_)
        | Event::Complete(_)
        | Event::ReassignOwner(_) => operator(),
    }
}

/// One builder per signal event kind of the API.
pub mod ev {
    use aijia_proto::v1 as pb;
    use aijia_proto::v1::signal_case_request::Event;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    pub fn customer_replied(text: &str) -> Event {
        Event::CustomerReplied(pb::CustomerReplied {
            text: text.to_owned(),
        })
    }
    pub fn material_provided(items: &[&str], note: &str) -> Event {
        Event::MaterialProvided(pb::MaterialProvided {
            items: strings(items),
            note: note.to_owned(),
        })
    }
    pub fn executor_done(note: &str) -> Event {
        Event::ExecutorDone(pb::ExecutorDone {
            note: note.to_owned(),
        })
    }
    pub fn partner_done(note: &str) -> Event {
        Event::PartnerDone(pb::PartnerDone {
            note: note.to_owned(),
        })
    }
    pub fn partner_waits_for_customer(what: &str) -> Event {
        Event::PartnerWaitsForCustomer(pb::PartnerWaitsForCustomer {
            what: what.to_owned(),
        })
    }
    pub fn material_received(items: &[&str]) -> Event {
        Event::MaterialReceived(pb::MaterialReceived {
            items: strings(items),
        })
    }
    pub fn request_review(reason: &str) -> Event {
        Event::RequestReview(pb::RequestReview {
            reason: reason.to_owned(),
        })
    }
    pub fn review_decided(approved: bool, note: &str) -> Event {
        Event::ReviewDecided(pb::ReviewDecided {
            approved,
            note: note.to_owned(),
        })
    }
    pub fn wait_for(party: &str, what: &str, checklist: &[&str]) -> Event {
        Event::WaitFor(pb::WaitFor {
            party: party.to_owned(),
            what: what.to_owned(),
            checklist: strings(checklist),
        })
    }
    pub fn complete(note: &str) -> Event {
        Event::Complete(pb::Complete {
            note: note.to_owned(),
        })
    }
    pub fn reassign_owner(owner: &str) -> Event {
        Event::ReassignOwner(pb::ReassignOwner {
            owner: owner.to_owned(),
        })
    }
}
