//! Builders shared by the rails tests: cases, submitted drafts routed as the engine would
//! route them, decisions.

use std::sync::LazyLock;

use aijia_workflows::automation::{self, ActionType, AutomationPolicy, Mode};
use aijia_workflows::review::{Assignee, DraftSubmitted, ReviewDecision};
use aijia_workflows::risk::{Audience, Draft, DraftFlags, RiskPolicy, assess};
use aijia_workflows::{
    Actor, ActorRole, Case, Decision, Event, NewCase, Refusal, TimerPolicy, WorkflowType, decide,
    start,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

static RISK: LazyLock<RiskPolicy> = LazyLock::new(RiskPolicy::builtin);

pub fn risk() -> &'static RiskPolicy {
    &RISK
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0)
        .single()
        .expect("a valid fixed time")
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn new_case(workflow_type: WorkflowType, attributes: &[(&str, &str)]) -> NewCase {
    NewCase {
        workflow_type,
        business_key: "order-42".into(),
        customer_id: "cust-7".into(),
        customer_display_name: "Li Wei".into(),
        subject: "order 42".into(),
        owner: "agent-1".into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

pub fn started(workflow_type: WorkflowType) -> Case {
    start(
        &new_case(workflow_type, &[("materials", "ID card, contract")]),
        t0(),
        &TimerPolicy::default(),
    )
    .case
}

pub fn apply(case: &Case, event: Event, now: DateTime<Utc>) -> Decision {
    decide(case, &event, now, &TimerPolicy::default())
        .unwrap_or_else(|refusal| panic!("{} should be accepted: {refusal}", event.kind()))
}

pub fn refuse(case: &Case, event: Event) -> Refusal {
    match decide(case, &event, at(1), &TimerPolicy::default()) {
        Ok(decision) => panic!(
            "{} should be refused, got {:?}",
            event.kind(),
            decision.case.state
        ),
        Err(refusal) => refusal,
    }
}

pub fn agent() -> Actor {
    Actor {
        role: ActorRole::Reception,
        id: "reception-agent".into(),
    }
}

/// A draft submitted to `case` and routed as the engine routes it, under `policy`.
pub fn submitted_under(
    case: &Case,
    text: &str,
    audience: Audience,
    action: ActionType,
    policy: &AutomationPolicy,
) -> Event {
    let draft = Draft::new(text, audience, action.as_str(), DraftFlags::default())
        .expect("a non-empty draft");
    let identity = case.customer.identity;
    let assessment = assess(&draft, identity, risk());
    let taken_over = case.rails.taken_over.is_some();
    let mode = policy.mode(action);
    let routing = automation::route(assessment.verdict, mode, policy.paused, taken_over);
    Event::DraftSubmitted(Box::new(DraftSubmitted {
        draft: case.rails.next_number(),
        text: text.into(),
        audience,
        action_type: action,
        flags: DraftFlags::default(),
        author: agent(),
        identity,
        assessment,
        mode,
        paused: policy.paused,
        taken_over,
        automation_policy_version: 2,
        routing,
    }))
}

/// A private reply of `action` under a policy that has that type in `mode`.
pub fn submitted(case: &Case, text: &str, action: ActionType, mode: Mode) -> Event {
    let policy = AutomationPolicy::initial().with_mode(action, mode);
    submitted_under(case, text, Audience::CustomerPrivate, action, &policy)
}

/// Low-risk texts (from the gate's labelled corpus): nothing found, identity or not.
pub const LOW_RISK: &str = "Thanks, we've received your documents and our team will go through them within 2 business days.";
pub const LOW_RISK_ZH: &str = "我们的营业时间是周一到周六 9:00-18:00，周日和法定节假日休息。";
/// A request for identifying information: may go out before identity is confirmed.
pub const ASKS_FOR_IDENTITY: &str =
    "Could you please share your order number so I can look into this for you?";
/// Customer-specific progress: held for review until identity is confirmed.
pub const CUSTOMER_SPECIFIC: &str =
    "Your order #58213 shipped this morning and should arrive on Thursday.";
pub const HIGH_RISK: &str =
    "We will refund 2000 yuan to your card and guarantee it arrives tomorrow.";

pub fn decided(case: &Case, number: u32, reviewer: &str, decision: ReviewDecision) -> Event {
    let draft = case.rails.draft(number).expect("the draft exists");
    Event::DraftDecided {
        draft: number,
        reviewer: reviewer.into(),
        action_type: draft.action_type,
        templated: draft.is_templated(),
        decision: Box::new(decision),
    }
}

pub fn approve() -> ReviewDecision {
    ReviewDecision::Approve { note: "ok".into() }
}

pub fn edit(text: &str) -> ReviewDecision {
    ReviewDecision::Edit {
        text: text.into(),
        note: "softer".into(),
    }
}

pub fn reject(reason: &str) -> ReviewDecision {
    ReviewDecision::Reject {
        reason: reason.into(),
    }
}

pub fn transfer_to_team(team: &str) -> ReviewDecision {
    ReviewDecision::Transfer {
        to: Assignee::Team(team.into()),
        note: String::new(),
    }
}
