//! Proto ↔ domain conversions of `ReviewService`, `AutomationService` and `IdentityService`
//! (the case ones are in `convert.rs`). Requests are validated here, once; every refusal names
//! the field.

use aijia_proto::v1 as pb;
use aijia_workflows::automation::{ActionType, ReviewTally};
use aijia_workflows::bounds::echo;
use aijia_workflows::review::{CaseDraft, DraftOrigin};
use aijia_workflows::risk::{Assessment, DraftFlags};
use aijia_workflows::{Actor, ActorRole};
use chrono::TimeDelta;
use tonic::Status;

use super::convert::{self, timestamp};
use super::status::invalid;
use crate::engine::{PolicyOverview, ReplayReport, ReviewItem, RouteTotals};
use crate::ids::CaseId;
use crate::store::automation::{PolicyVersionRow, RiskActivation};
use crate::store::review::Reviewer;

/// The largest policy file accepted.
const MAX_POLICY: usize = 1 << 20;
/// The largest customer context accepted.
const MAX_CONTEXT: usize = 1 << 20;
const MAX_TEAMS: usize = 32;

/// `<case id>/<number>` → the case and the draft number.
pub fn draft_id(text: &str) -> Result<(CaseId, u32), Status> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid("draft_id", "is required: \"<case id>/<number>\""));
    }
    let bad = || {
        invalid(
            "draft_id",
            format!(
                "{} is not a draft id; expected \"<case id>/<number>\", e.g. \"0190f0c2-7b1e-7c3a-8d4e-5f6a7b8c9d0e/1\"",
                echo(text)
            ),
        )
    };
    let (case, number) = text.rsplit_once('/').ok_or_else(bad)?;
    let case_id = CaseId::parse(case).map_err(|_| bad())?;
    let number: u32 = number.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
    Ok((case_id, number))
}

pub fn format_draft_id(case_id: CaseId, number: u32) -> String {
    format!("{case_id}/{number}")
}

/// A reviewer's id: required, bounded.
pub fn reviewer_id(field: &str, text: &str) -> Result<String, Status> {
    convert::name(field, text)
}

/// A required reason, in words.
pub fn reason(field: &str, text: &str) -> Result<String, Status> {
    let text = convert::text(field, text.trim())?;
    if text.is_empty() {
        return Err(invalid(field, "is required: say why, for the audit trail"));
    }
    Ok(text)
}

/// An actor, defaulting to nothing: required on every call that changes something.
pub fn actor(actor: Option<&pb::Actor>) -> Result<Actor, Status> {
    convert::actor(actor)
}

/// Who drafted a draft: an agent role or backend, and its id.
pub fn author(author: Option<&pb::Actor>) -> Result<Actor, Status> {
    let author = author.ok_or_else(|| {
        invalid(
            "author",
            "is required: who drafted it, e.g. {role: \"reception\", id: \"reception-agent\"}",
        )
    })?;
    Ok(Actor {
        role: convert::parse("author.role", &author.role)?,
        id: convert::text("author.id", author.id.trim())?,
    })
}

pub fn flags(flags: Option<&pb::DraftFlags>) -> DraftFlags {
    flags.map_or_else(DraftFlags::default, |f| DraftFlags {
        verification_conflict: f.verification_conflict,
        partner_request_rewritten: f.partner_request_rewritten,
    })
}

pub fn teams(teams: &[String]) -> Result<Vec<String>, Status> {
    convert::capped("teams", teams.len(), MAX_TEAMS)?;
    let names = teams
        .iter()
        .map(|team| convert::name("teams", team))
        .collect::<Result<Vec<_>, Status>>()?;
    Ok(aijia_workflows::bounds::unique(names))
}

pub fn policy_toml(text: &str) -> Result<String, Status> {
    if text.trim().is_empty() {
        return Err(invalid(
            "policy_toml",
            "is required: the risk policy file's text",
        ));
    }
    if text.len() > MAX_POLICY {
        return Err(invalid(
            "policy_toml",
            format!("is {} bytes; at most {MAX_POLICY}", text.len()),
        ));
    }
    convert::without_nul("policy_toml", text)?;
    Ok(text.to_owned())
}

pub fn context_json(text: &str) -> Result<serde_json::Value, Status> {
    if text.len() > MAX_CONTEXT {
        return Err(invalid(
            "context_json",
            format!("is {} bytes; at most {MAX_CONTEXT}", text.len()),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => {
            convert::json_without_nul("context_json", &value)?;
            Ok(value)
        }
        Ok(_) => Err(invalid("context_json", "must be a JSON object")),
        Err(e) => Err(invalid("context_json", format!("is not JSON: {e}"))),
    }
}

pub fn duration(d: TimeDelta) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.num_seconds(),
        nanos: d.subsec_nanos(),
    }
}

fn pb_actor(actor: &Actor) -> pb::Actor {
    pb::Actor {
        role: actor.role.to_string(),
        id: actor.id.clone(),
    }
}

pub fn assessment(a: &Assessment) -> pb::Assessment {
    pb::Assessment {
        verdict: a.verdict.to_string(),
        findings: a
            .findings
            .iter()
            .map(|f| pb::Finding {
                category: f.category.to_string(),
                rule: f.rule.clone(),
                matched: f.matched.clone(),
                span_start: f.span.map(|s| s.0 as u32),
                span_end: f.span.map(|s| s.1 as u32),
            })
            .collect(),
        risk_policy_version: a.policy_version.clone(),
    }
}

pub fn draft(item: &ReviewItem) -> pb::Draft {
    let d: &CaseDraft = &item.draft;
    let case = &item.case;
    let (origin, activity, input) = match &d.origin {
        DraftOrigin::Submitted => ("submitted", String::new(), String::new()),
        DraftOrigin::Activity { activity, input } => {
            ("activity", activity.clone(), input.to_string())
        }
    };
    let (assigned_reviewer, assigned_team) = match &d.assigned_to {
        Some(aijia_workflows::review::Assignee::Reviewer(r)) => (r.clone(), String::new()),
        Some(aijia_workflows::review::Assignee::Team(t)) => (String::new(), t.clone()),
        None => (String::new(), String::new()),
    };
    pb::Draft {
        draft_id: format_draft_id(item.case_id, d.number),
        case_id: item.case_id.to_string(),
        number: d.number,
        status: d.status.to_string(),
        origin: origin.to_owned(),
        activity,
        activity_input_json: input,
        text: d.text.clone(),
        audience: d.audience.map(|a| a.to_string()).unwrap_or_default(),
        action_type: d.action_type.to_string(),
        flags: Some(pb::DraftFlags {
            verification_conflict: d.flags.verification_conflict,
            partner_request_rewritten: d.flags.partner_request_rewritten,
        }),
        author: Some(pb_actor(&d.author)),
        assessment: d.assessment.as_ref().map(assessment),
        route: d.routing.route.to_string(),
        route_reason: d.routing.reason.to_string(),
        automation_policy_version: d.automation_policy_version,
        submitted_at: Some(timestamp(d.submitted_at)),
        age: Some(duration(item.age)),
        assigned_reviewer,
        assigned_team,
        decision: d.decision.as_ref().map(|r| pb::ReviewDecisionRecord {
            reviewer_id: r.by.clone(),
            at: Some(timestamp(r.at)),
            outcome: r.outcome.to_string(),
            note: r.note.clone(),
            edited_text: r.edited_text.clone().unwrap_or_default(),
        }),
        case_state: case.state.to_string(),
        workflow_type: case.workflow_type.to_string(),
        customer_id: case.customer.id.clone(),
        customer_identity: case.customer.identity.to_string(),
        case_owner: case.owner.clone(),
        taken_over_by: case
            .rails
            .taken_over
            .as_ref()
            .map(|t| t.by.clone())
            .unwrap_or_default(),
    }
}

pub fn reviewer(r: &Reviewer) -> pb::Reviewer {
    pb::Reviewer {
        id: r.id.clone(),
        display_name: r.display_name.clone(),
        teams: r.teams.clone(),
        active: r.active,
        added_by: r.added_by.clone(),
        added_at: Some(timestamp(r.added_at)),
    }
}

pub fn policy_version(row: &PolicyVersionRow) -> pb::AutomationPolicyVersion {
    pb::AutomationPolicyVersion {
        version: row.version,
        modes: row
            .policy
            .all_modes()
            .into_iter()
            .map(|(t, m)| pb::ActionMode {
                action_type: t.to_string(),
                mode: m.to_string(),
            })
            .collect(),
        paused: row.policy.paused,
        change: row.change.clone(),
        reason: row.reason.clone(),
        forced: row.forced,
        actor: Some(pb_actor(&row.actor)),
        created_at: Some(timestamp(row.created_at)),
    }
}

pub fn risk_version(a: &RiskActivation, rules: usize) -> pb::RiskPolicyVersion {
    pb::RiskPolicyVersion {
        version: a.version.clone(),
        description: String::new(),
        rules: rules as u32,
        activated_at: Some(timestamp(a.at)),
        actor: Some(pb_actor(&a.actor)),
        reason: a.reason.clone(),
    }
}

fn pass_rate(action: ActionType, t: &ReviewTally, o: &PolicyOverview) -> pb::PassRate {
    pb::PassRate {
        action_type: action.to_string(),
        approved_unchanged: t.approved,
        edited: t.edited,
        rejected: t.rejected,
        decided: t.decided(),
        rate: t.pass_rate(),
        meets_bar: o.opening.check(action, t).is_ok(),
    }
}

pub fn overview(o: &PolicyOverview) -> pb::AutomationPolicyResponse {
    pb::AutomationPolicyResponse {
        policy: Some(policy_version(&o.policy)),
        risk_policy: Some(risk_version(&o.risk, o.risk_rules)),
        pass_rates: o
            .tallies
            .iter()
            .map(|(action, tally)| pass_rate(*action, tally, o))
            .collect(),
        opening_bar: Some(pb::OpeningBar {
            bar: o.opening.bar,
            min_sample: o.opening.min_sample,
            window: Some(duration(TimeDelta::days(i64::from(o.opening.window_days)))),
        }),
        changed: o.changed,
    }
}

fn totals(t: &RouteTotals) -> pb::RouteTotals {
    pb::RouteTotals {
        sent: t.sent,
        reviewed: t.reviewed,
        held: t.held,
    }
}

pub fn replay(r: &ReplayReport) -> pb::ReplayPolicyResponse {
    pb::ReplayPolicyResponse {
        risk_policy_version: r.risk_version.clone(),
        automation_policy_version: r.automation_version,
        drafts: r
            .entries
            .iter()
            .map(|e| pb::ReplayedDraft {
                draft_id: format_draft_id(e.case_id, e.number),
                case_id: e.case_id.to_string(),
                action_type: e.action_type.to_string(),
                submitted_at: Some(timestamp(e.at)),
                route: e.recorded.route.to_string(),
                route_reason: e.recorded.reason.to_string(),
                verdict: e
                    .recorded_gate
                    .as_ref()
                    .map_or_else(String::new, |(v, _)| v.to_string()),
                risk_policy_version: e
                    .recorded_gate
                    .as_ref()
                    .map_or_else(String::new, |(_, version)| version.clone()),
                automation_policy_version: e.recorded_automation_version,
                replayed_route: e.replayed.route.to_string(),
                replayed_route_reason: e.replayed.reason.to_string(),
                replayed_verdict: e
                    .replayed_gate
                    .as_ref()
                    .map_or_else(String::new, |g| g.verdict.to_string()),
                replayed_categories: e
                    .replayed_gate
                    .iter()
                    .flat_map(|g| g.categories.iter().map(|c| c.to_string()))
                    .collect(),
                changed: e.changed,
                origin: if e.templated { "activity" } else { "submitted" }.to_owned(),
            })
            .collect(),
        recorded: Some(totals(&r.recorded)),
        replayed: Some(totals(&r.replayed)),
        changed: r.changed,
        truncated: r.truncated,
    }
}

/// The actor of a reviewer's call.
pub fn reviewer_actor(id: &str) -> Actor {
    Actor {
        role: ActorRole::Reviewer,
        id: id.to_owned(),
    }
}
