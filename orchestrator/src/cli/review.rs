//! `aijia review …`: the reviewer's client for ReviewService: the queue, one draft, the five
//! decisions (approve, edit, reject, transfer, take over) and hand-back, submitting a draft,
//! and the reviewers registry.

use aijia_proto::v1 as pb;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::case::{duration, request_id, rpc_error};
use super::output::{self, print_json, table, time};
use super::{ActorArgs, ClientArgs};

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The reviewer who decides (must be in the reviewers registry).
    #[arg(long, global = true, env = "AIJIA_REVIEWER", default_value_t = default_reviewer())]
    reviewer: String,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: ReviewCommand,
}

fn default_reviewer() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// The review queue, oldest first, with each draft's age.
    List {
        /// pending_review (default), held, sent, approved, edited, rejected, withdrawn.
        #[arg(long)]
        status: Option<String>,
        /// Only drafts assigned to this reviewer.
        #[arg(long)]
        assigned_to: Option<String>,
        /// Only drafts assigned to this team.
        #[arg(long)]
        team: Option<String>,
        /// Only unassigned drafts.
        #[arg(long)]
        unassigned: bool,
        #[arg(long)]
        action_type: Option<String>,
        #[arg(long = "case")]
        case_id: Option<String>,
        /// Only drafts waiting at least this long (e.g. 30m, 2h).
        #[arg(long, value_parser = duration)]
        older_than: Option<std::time::Duration>,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// One draft: text, findings, route, decision.
    Show { draft_id: String },
    /// Submit a draft to a case (the risk gate and the automation mode route it).
    Submit {
        case_id: String,
        #[arg(long)]
        text: String,
        /// customer_private, public_group, executor or partner.
        #[arg(long, default_value = "customer_private")]
        audience: String,
        #[arg(long)]
        action_type: String,
        /// Back-office verification conflicts with the customer's description.
        #[arg(long)]
        verification_conflict: bool,
        /// The draft relays a partner request that was rewritten.
        #[arg(long)]
        partner_request_rewritten: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Approve a draft as drafted: it is sent.
    Approve {
        draft_id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Approve an edited text: the edited text is sent, both are kept.
    Edit {
        draft_id: String,
        #[arg(long)]
        text: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Reject a draft: nothing is sent.
    Reject {
        draft_id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Hand the decision to another reviewer or a team.
    Transfer {
        draft_id: String,
        #[arg(long, conflicts_with = "to_team", required_unless_present = "to_team")]
        to_reviewer: Option<String>,
        #[arg(long)]
        to_team: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Take a case over: it is yours, and automation on it stops until you hand it back.
    TakeOver {
        case_id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Hand a taken-over case back: its owner returns and automation resumes.
    HandBack {
        case_id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// The reviewers registry.
    Reviewers {
        #[command(subcommand)]
        command: ReviewersCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ReviewersCommand {
    /// Every registered reviewer.
    List,
    /// Register a reviewer (or update one).
    Add {
        reviewer_id: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Repeatable.
        #[arg(long = "team")]
        teams: Vec<String>,
        /// Deactivate instead: the reviewer can no longer decide.
        #[arg(long)]
        inactive: bool,
    },
}

pub async fn run(args: ReviewArgs) -> anyhow::Result<()> {
    let channel = args.client.connect().await?;
    let mut client = ReviewServiceClient::new(channel);
    let json = args.client.json;
    let reviewer = args.reviewer.clone();
    match args.command {
        ReviewCommand::List {
            status,
            assigned_to,
            team,
            unassigned,
            action_type,
            case_id,
            older_than,
            page_size,
            page_token,
        } => {
            let resp = client
                .list_reviews(pb::ListReviewsRequest {
                    status: status.unwrap_or_default(),
                    reviewer: assigned_to.unwrap_or_default(),
                    team: team.unwrap_or_default(),
                    unassigned,
                    action_type: action_type.unwrap_or_default(),
                    case_id: case_id.unwrap_or_default(),
                    older_than: older_than.map(|d| prost_types::Duration {
                        seconds: d.as_secs() as i64,
                        nanos: 0,
                    }),
                    page_size,
                    page_token,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            queue(&resp, json)
        }
        ReviewCommand::Show { draft_id } => {
            let resp = client
                .get_review(pb::GetReviewRequest { draft_id })
                .await
                .map_err(rpc_error)?
                .into_inner();
            draft(resp.draft.as_ref(), json)
        }
        ReviewCommand::Submit {
            case_id,
            text,
            audience,
            action_type,
            verification_conflict,
            partner_request_rewritten,
            request_id: rid,
        } => {
            let resp = client
                .submit_draft(pb::SubmitDraftRequest {
                    request_id: request_id(rid),
                    case_id,
                    text,
                    audience,
                    action_type,
                    author: Some(args.acting.actor()),
                    flags: Some(pb::DraftFlags {
                        verification_conflict,
                        partner_request_rewritten,
                    }),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            decided(resp.draft.as_ref(), resp.change.as_ref(), json)
        }
        ReviewCommand::Approve {
            draft_id,
            note,
            request_id: rid,
        } => {
            let resp = client
                .approve_draft(pb::ApproveDraftRequest {
                    request_id: request_id(rid),
                    draft_id,
                    reviewer_id: reviewer,
                    note,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            decided(resp.draft.as_ref(), resp.change.as_ref(), json)
        }
        ReviewCommand::Edit {
            draft_id,
            text,
            note,
            request_id: rid,
        } => {
            let resp = client
                .edit_draft(pb::EditDraftRequest {
                    request_id: request_id(rid),
                    draft_id,
                    reviewer_id: reviewer,
                    text,
                    note,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            decided(resp.draft.as_ref(), resp.change.as_ref(), json)
        }
        ReviewCommand::Reject {
            draft_id,
            reason,
            request_id: rid,
        } => {
            let resp = client
                .reject_draft(pb::RejectDraftRequest {
                    request_id: request_id(rid),
                    draft_id,
                    reviewer_id: reviewer,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            decided(resp.draft.as_ref(), resp.change.as_ref(), json)
        }
        ReviewCommand::Transfer {
            draft_id,
            to_reviewer,
            to_team,
            note,
            request_id: rid,
        } => {
            let resp = client
                .transfer_review(pb::TransferReviewRequest {
                    request_id: request_id(rid),
                    draft_id,
                    reviewer_id: reviewer,
                    to_reviewer: to_reviewer.unwrap_or_default(),
                    to_team: to_team.unwrap_or_default(),
                    note,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            decided(resp.draft.as_ref(), resp.change.as_ref(), json)
        }
        ReviewCommand::TakeOver {
            case_id,
            reason,
            request_id: rid,
        } => {
            let resp = client
                .take_over_case(pb::TakeOverCaseRequest {
                    request_id: request_id(rid),
                    case_id,
                    reviewer_id: reviewer,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::change(resp.change.as_ref(), json)
        }
        ReviewCommand::HandBack {
            case_id,
            note,
            request_id: rid,
        } => {
            let resp = client
                .hand_back_case(pb::HandBackCaseRequest {
                    request_id: request_id(rid),
                    case_id,
                    reviewer_id: reviewer,
                    note,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::change(resp.change.as_ref(), json)
        }
        ReviewCommand::Reviewers { command } => match command {
            ReviewersCommand::List => {
                let resp = client
                    .list_reviewers(pb::ListReviewersRequest {})
                    .await
                    .map_err(rpc_error)?
                    .into_inner();
                reviewers(&resp.reviewers, json)
            }
            ReviewersCommand::Add {
                reviewer_id,
                name,
                teams,
                inactive,
            } => {
                let resp = client
                    .add_reviewer(pb::AddReviewerRequest {
                        reviewer_id,
                        display_name: name,
                        teams,
                        active: Some(!inactive),
                        actor: Some(args.acting.actor()),
                    })
                    .await
                    .map_err(rpc_error)?
                    .into_inner();
                reviewers(resp.reviewer.as_slice(), json)
            }
        },
    }
}

/// "2h 5m", "40s": an age as people read it.
pub(super) fn age(d: Option<&prost_types::Duration>) -> String {
    let secs = d.map_or(0, |d| d.seconds.max(0));
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn categories(d: &pb::Draft) -> String {
    let mut names: Vec<&str> = d
        .assessment
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| f.category.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// The route reason, with what the gate found or, for a templated draft, its activity.
fn why(d: &pb::Draft) -> String {
    let detail = if d.origin == "activity" {
        d.activity.clone()
    } else {
        categories(d)
    };
    if detail.is_empty() {
        d.route_reason.clone()
    } else {
        format!("{} ({detail})", d.route_reason)
    }
}

pub(super) fn draft_json(d: &pb::Draft) -> Value {
    json!({
        "draft_id": d.draft_id,
        "case_id": d.case_id,
        "number": d.number,
        "status": d.status,
        "origin": d.origin,
        "activity": d.activity,
        "activity_input": serde_json::from_str::<Value>(&d.activity_input_json).unwrap_or(Value::Null),
        "text": d.text,
        "audience": d.audience,
        "action_type": d.action_type,
        "flags": d.flags.as_ref().map(|f| json!({
            "verification_conflict": f.verification_conflict,
            "partner_request_rewritten": f.partner_request_rewritten,
        })),
        "author": d.author.as_ref().map(|a| json!({"role": a.role, "id": a.id})),
        "assessment": d.assessment.as_ref().map(|a| json!({
            "verdict": a.verdict,
            "risk_policy_version": a.risk_policy_version,
            "findings": a.findings.iter().map(|f| json!({
                "category": f.category, "rule": f.rule, "matched": f.matched,
                "span": f.span_start.zip(f.span_end).map(|(s, e)| json!([s, e])),
            })).collect::<Vec<_>>(),
        })),
        "route": d.route,
        "route_reason": d.route_reason,
        "automation_policy_version": d.automation_policy_version,
        "submitted_at": time(d.submitted_at.as_ref()),
        "age_secs": d.age.as_ref().map_or(0, |a| a.seconds),
        "assigned_reviewer": d.assigned_reviewer,
        "assigned_team": d.assigned_team,
        "decision": d.decision.as_ref().map(|r| json!({
            "reviewer_id": r.reviewer_id, "at": time(r.at.as_ref()), "outcome": r.outcome,
            "note": r.note, "edited_text": r.edited_text,
        })),
        "case_state": d.case_state,
        "workflow_type": d.workflow_type,
        "customer_id": d.customer_id,
        "customer_identity": d.customer_identity,
        "case_owner": d.case_owner,
        "taken_over_by": d.taken_over_by,
    })
}

fn assigned(d: &pb::Draft) -> String {
    match (d.assigned_reviewer.as_str(), d.assigned_team.as_str()) {
        ("", "") => "-".to_owned(),
        (r, "") => r.to_owned(),
        (_, t) => format!("team {t}"),
    }
}

fn queue(resp: &pb::ListReviewsResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "drafts": resp.drafts.iter().map(draft_json).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
        }));
    }
    let rows: Vec<Vec<String>> = resp
        .drafts
        .iter()
        .map(|d| {
            vec![
                d.draft_id.clone(),
                age(d.age.as_ref()),
                d.action_type.clone(),
                d.status.clone(),
                why(d),
                assigned(d),
                d.case_state.clone(),
            ]
        })
        .collect();
    table(
        &[
            "DRAFT",
            "AGE",
            "ACTION TYPE",
            "STATUS",
            "WHY",
            "ASSIGNED",
            "CASE STATE",
        ],
        &rows,
    );
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    Ok(())
}

fn draft(d: Option<&pb::Draft>, json: bool) -> anyhow::Result<()> {
    let Some(d) = d else { return Ok(()) };
    if json {
        return print_json(&draft_json(d));
    }
    let mut rows = vec![
        ("draft", d.draft_id.clone()),
        ("status", d.status.clone()),
        (
            "case",
            format!(
                "{} ({}, {}, owner {})",
                d.case_id, d.workflow_type, d.case_state, d.case_owner
            ),
        ),
        (
            "customer",
            format!("{} (identity {})", d.customer_id, d.customer_identity),
        ),
        ("action type", d.action_type.clone()),
        ("audience", d.audience.clone()),
        (
            "author",
            d.author
                .as_ref()
                .map(|a| format!("{}:{}", a.role, a.id))
                .unwrap_or_default(),
        ),
        ("submitted", time(d.submitted_at.as_ref())),
        ("age", age(d.age.as_ref())),
        (
            "route",
            format!(
                "{} ({}) under automation policy v{}",
                d.route, d.route_reason, d.automation_policy_version
            ),
        ),
        ("assigned to", assigned(d)),
    ];
    if !d.taken_over_by.is_empty() {
        rows.push(("taken over by", d.taken_over_by.clone()));
    }
    if !d.activity.is_empty() {
        rows.push((
            "activity",
            format!("{} {}", d.activity, d.activity_input_json),
        ));
    }
    if let Some(a) = &d.assessment {
        rows.push((
            "risk gate",
            format!("{} under risk policy {}", a.verdict, a.risk_policy_version),
        ));
        for f in &a.findings {
            rows.push((
                "finding",
                format!("{}: {:?} ({})", f.category, f.matched, f.rule),
            ));
        }
    }
    if let Some(r) = &d.decision {
        rows.push((
            "decision",
            format!(
                "{} by {} at {}",
                r.outcome,
                r.reviewer_id,
                time(r.at.as_ref())
            ),
        ));
        if !r.note.is_empty() {
            rows.push(("note", r.note.clone()));
        }
    }
    for (k, v) in rows {
        outln!("{k:<14} {v}");
    }
    outln!("\n{}", d.text);
    if let Some(edited) = d.decision.as_ref().filter(|r| !r.edited_text.is_empty()) {
        outln!("\nsent instead (edited):\n{}", edited.edited_text);
    }
    Ok(())
}

fn decided(
    d: Option<&pb::Draft>,
    change: Option<&pb::CaseChange>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "draft": d.map(draft_json),
            "event_seq": change.map(|c| c.event_seq),
            "duplicate": change.map(|c| c.duplicate),
            "case": change.and_then(|c| c.case.as_ref()).map(output::case_json),
        }));
    }
    if let Some(change) = change {
        outln!(
            "event #{}{}",
            change.event_seq,
            if change.duplicate {
                " (already applied: same request id)"
            } else {
                " applied"
            }
        );
    }
    draft(d, false)
}

fn reviewers(list: &[pb::Reviewer], json: bool) -> anyhow::Result<()> {
    if json {
        let rows: Vec<Value> = list
            .iter()
            .map(|r| {
                json!({
                    "id": r.id, "display_name": r.display_name, "teams": r.teams,
                    "active": r.active, "added_by": r.added_by, "added_at": time(r.added_at.as_ref()),
                })
            })
            .collect();
        return print_json(&json!({ "reviewers": rows }));
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.display_name.clone(),
                r.teams.join(","),
                if r.active { "yes" } else { "no" }.to_owned(),
                r.added_by.clone(),
            ]
        })
        .collect();
    table(&["ID", "NAME", "TEAMS", "ACTIVE", "ADDED BY"], &rows);
    Ok(())
}
