//! `aijia policy …`: the operator's client for AutomationService: show the policies in force
//! with pass rates, set a mode, pause and resume, history, rollback, replay, load a risk policy.

use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::case::{duration, request_id, rpc_error};
use super::output::{actor_text, print_json, table, time};
use super::{ActorArgs, ClientArgs};

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// The automation and risk policies in force, with each action type's review pass rate.
    Show,
    /// Set an action type's mode (off, review, auto). Opening to auto needs the pass rate.
    SetMode {
        action_type: String,
        mode: String,
        #[arg(long)]
        reason: String,
        /// Open to auto below the bar (recorded as forced).
        #[arg(long)]
        force: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Pause all automation at once.
    Pause {
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Resume automation.
    Resume {
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Every automation policy version (who, when, why) and risk policy activation.
    History {
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Make a new version equal to an earlier one.
    Rollback {
        to_version: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Run past drafts through policy versions (the active ones unless given); sends nothing.
    Replay {
        /// Start of the period (RFC 3339); default: --last ago.
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// End of the period (RFC 3339); default: now.
        #[arg(long)]
        to: Option<DateTime<Utc>>,
        /// The period's length when --from is not given (e.g. 7d).
        #[arg(long, value_parser = duration, default_value = "7d")]
        last: std::time::Duration,
        #[arg(long, default_value = "")]
        risk_version: String,
        #[arg(long, default_value_t = 0)]
        automation_version: i64,
        /// List every draft, not only those whose route would change.
        #[arg(long)]
        all: bool,
    },
    /// Check a risk policy file and make it the active one for every server.
    LoadRisk {
        file: std::path::PathBuf,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
}

pub async fn run(args: PolicyArgs) -> anyhow::Result<()> {
    let channel = args.client.connect().await?;
    let mut client = AutomationServiceClient::new(channel);
    let json = args.client.json;
    let who = Some(args.acting.actor());
    match args.command {
        PolicyCommand::Show => {
            let resp = client
                .get_automation_policy(pb::GetAutomationPolicyRequest {})
                .await
                .map_err(rpc_error)?
                .into_inner();
            overview(&resp, json, false)
        }
        PolicyCommand::SetMode {
            action_type,
            mode,
            reason,
            force,
            request_id: rid,
        } => {
            let resp = client
                .set_action_mode(pb::SetActionModeRequest {
                    request_id: request_id(rid),
                    action_type,
                    mode,
                    actor: who,
                    reason,
                    force,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            overview(&resp, json, true)
        }
        PolicyCommand::Pause {
            reason,
            request_id: rid,
        } => {
            let resp = client
                .pause_automation(pb::PauseAutomationRequest {
                    request_id: request_id(rid),
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            overview(&resp, json, true)
        }
        PolicyCommand::Resume {
            reason,
            request_id: rid,
        } => {
            let resp = client
                .resume_automation(pb::ResumeAutomationRequest {
                    request_id: request_id(rid),
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            overview(&resp, json, true)
        }
        PolicyCommand::History {
            page_size,
            page_token,
        } => {
            let resp = client
                .list_policy_versions(pb::ListPolicyVersionsRequest {
                    page_size,
                    page_token,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            history(&resp, json)
        }
        PolicyCommand::Rollback {
            to_version,
            reason,
            request_id: rid,
        } => {
            let resp = client
                .rollback_policy(pb::RollbackPolicyRequest {
                    request_id: request_id(rid),
                    to_version,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            overview(&resp, json, true)
        }
        PolicyCommand::Replay {
            from,
            to,
            last,
            risk_version,
            automation_version,
            all,
        } => {
            let to = to.unwrap_or_else(Utc::now);
            let from = match from {
                Some(from) => from,
                None => chrono::TimeDelta::from_std(last)
                    .ok()
                    .and_then(|last| to.checked_sub_signed(last))
                    .context("--last reaches back before any representable time")?,
            };
            let resp = client
                .replay_policy(pb::ReplayPolicyRequest {
                    from: Some(stamp(from)),
                    to: Some(stamp(to)),
                    risk_policy_version: risk_version,
                    automation_policy_version: automation_version,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            replay(&resp, json, all)
        }
        PolicyCommand::LoadRisk {
            file,
            reason,
            request_id: rid,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("while reading {}", file.display()))?;
            let resp = client
                .load_risk_policy(pb::LoadRiskPolicyRequest {
                    request_id: request_id(rid),
                    policy_toml: text,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            if json {
                return print_json(&json!({
                    "changed": resp.changed,
                    "risk_policy": resp.risk_policy.as_ref().map(risk_json),
                }));
            }
            if let Some(r) = &resp.risk_policy {
                outln!(
                    "risk policy {} ({} rules) {}",
                    r.version,
                    r.rules,
                    if resp.changed {
                        "is now active on every server"
                    } else {
                        "was already active"
                    }
                );
            }
            Ok(())
        }
    }
}

fn stamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn version_json(v: &pb::AutomationPolicyVersion) -> Value {
    json!({
        "version": v.version,
        "modes": v.modes.iter().map(|m| (m.action_type.clone(), Value::String(m.mode.clone()))).collect::<serde_json::Map<_, _>>(),
        "paused": v.paused,
        "change": v.change,
        "reason": v.reason,
        "forced": v.forced,
        "actor": actor_text(v.actor.as_ref()),
        "created_at": time(v.created_at.as_ref()),
    })
}

fn risk_json(r: &pb::RiskPolicyVersion) -> Value {
    json!({
        "version": r.version,
        "rules": r.rules,
        "activated_at": time(r.activated_at.as_ref()),
        "actor": actor_text(r.actor.as_ref()),
        "reason": r.reason,
    })
}

fn overview(resp: &pb::AutomationPolicyResponse, json: bool, change: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "changed": resp.changed,
            "policy": resp.policy.as_ref().map(version_json),
            "risk_policy": resp.risk_policy.as_ref().map(risk_json),
            "opening_bar": resp.opening_bar.as_ref().map(|b| json!({
                "bar": b.bar, "min_sample": b.min_sample,
                "window_days": b.window.as_ref().map_or(0, |w| w.seconds / 86_400),
            })),
            "pass_rates": resp.pass_rates.iter().map(|p| json!({
                "action_type": p.action_type, "approved_unchanged": p.approved_unchanged,
                "edited": p.edited, "rejected": p.rejected, "decided": p.decided,
                "rate": p.rate, "meets_bar": p.meets_bar,
            })).collect::<Vec<_>>(),
        }));
    }
    let Some(policy) = &resp.policy else {
        return Ok(());
    };
    if change && !resp.changed {
        outln!("no new version: the policy already says so, or this request id was applied before");
    }
    outln!(
        "automation policy v{}{} — {} by {} at {}: {}",
        policy.version,
        if policy.paused { "  PAUSED" } else { "" },
        policy.change,
        actor_text(policy.actor.as_ref()),
        time(policy.created_at.as_ref()),
        policy.reason
    );
    if let Some(r) = &resp.risk_policy {
        outln!("risk policy {} ({} rules)", r.version, r.rules);
    }
    if let Some(b) = &resp.opening_bar {
        outln!(
            "opening to auto needs a pass rate of at least {:.0}% over at least {} decisions in {} days",
            b.bar * 100.0,
            b.min_sample,
            b.window.as_ref().map_or(0, |w| w.seconds / 86_400)
        );
    }
    let rows: Vec<Vec<String>> = policy
        .modes
        .iter()
        .map(|m| {
            let rate = resp
                .pass_rates
                .iter()
                .find(|p| p.action_type == m.action_type);
            vec![
                m.action_type.clone(),
                m.mode.clone(),
                rate.and_then(|p| p.rate)
                    .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0)),
                rate.map_or(0, |p| p.decided).to_string(),
                rate.map_or("no", |p| if p.meets_bar { "yes" } else { "no" })
                    .to_owned(),
            ]
        })
        .collect();
    table(
        &["ACTION TYPE", "MODE", "PASS RATE", "DECIDED", "MEETS BAR"],
        &rows,
    );
    Ok(())
}

fn history(resp: &pb::ListPolicyVersionsResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "versions": resp.versions.iter().map(version_json).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
            "risk_activations": resp.risk_activations.iter().map(risk_json).collect::<Vec<_>>(),
        }));
    }
    let rows: Vec<Vec<String>> = resp
        .versions
        .iter()
        .map(|v| {
            let auto: Vec<&str> = v
                .modes
                .iter()
                .filter(|m| m.mode == "auto")
                .map(|m| m.action_type.as_str())
                .collect();
            vec![
                format!("v{}", v.version),
                time(v.created_at.as_ref()),
                actor_text(v.actor.as_ref()),
                format!("{}{}", v.change, if v.forced { " [forced]" } else { "" }),
                if v.paused { "yes" } else { "no" }.to_owned(),
                if auto.is_empty() {
                    "-".to_owned()
                } else {
                    auto.join(",")
                },
                v.reason.clone(),
            ]
        })
        .collect();
    table(
        &["VERSION", "AT", "BY", "CHANGE", "PAUSED", "AUTO", "WHY"],
        &rows,
    );
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    outln!();
    let rows: Vec<Vec<String>> = resp
        .risk_activations
        .iter()
        .map(|r| {
            vec![
                r.version.clone(),
                time(r.activated_at.as_ref()),
                actor_text(r.actor.as_ref()),
                r.reason.clone(),
            ]
        })
        .collect();
    table(&["RISK POLICY", "ACTIVATED", "BY", "WHY"], &rows);
    Ok(())
}

fn replay(resp: &pb::ReplayPolicyResponse, json: bool, all: bool) -> anyhow::Result<()> {
    let totals = |t: Option<&pb::RouteTotals>| {
        t.map_or(
            json!({}),
            |t| json!({"sent": t.sent, "reviewed": t.reviewed, "held": t.held}),
        )
    };
    if json {
        return print_json(&json!({
            "risk_policy_version": resp.risk_policy_version,
            "automation_policy_version": resp.automation_policy_version,
            "recorded": totals(resp.recorded.as_ref()),
            "replayed": totals(resp.replayed.as_ref()),
            "changed": resp.changed,
            "truncated": resp.truncated,
            "drafts": resp.drafts.iter().map(|d| json!({
                "draft_id": d.draft_id, "action_type": d.action_type,
                "submitted_at": time(d.submitted_at.as_ref()),
                "recorded": {"route": d.route, "reason": d.route_reason, "verdict": d.verdict,
                             "risk_policy_version": d.risk_policy_version,
                             "automation_policy_version": d.automation_policy_version},
                "origin": d.origin,
                "replayed": {"route": d.replayed_route, "reason": d.replayed_route_reason,
                             "verdict": d.replayed_verdict, "categories": d.replayed_categories},
                "changed": d.changed,
            })).collect::<Vec<_>>(),
        }));
    }
    outln!(
        "replayed {} drafts under risk policy {} and automation policy v{} (nothing was sent or written)",
        resp.drafts.len(),
        resp.risk_policy_version,
        resp.automation_policy_version
    );
    let line = |name: &str, t: Option<&pb::RouteTotals>| {
        let t = t.cloned().unwrap_or_default();
        outln!(
            "  {name:<9} sent {:>5}  reviewed {:>5}  held {:>5}",
            t.sent,
            t.reviewed,
            t.held
        );
    };
    line("recorded", resp.recorded.as_ref());
    line("replayed", resp.replayed.as_ref());
    outln!("  {} would change route", resp.changed);
    if resp.truncated {
        outln!("  (truncated: narrow the period to see every draft)");
    }
    let rows: Vec<Vec<String>> = resp
        .drafts
        .iter()
        .filter(|d| all || d.changed)
        .map(|d| {
            vec![
                d.draft_id.clone(),
                d.action_type.clone(),
                format!("{} ({})", d.route, d.route_reason),
                format!("{} ({})", d.replayed_route, d.replayed_route_reason),
                if d.origin == "activity" {
                    "(templated activity)".to_owned()
                } else {
                    d.replayed_categories.join(",")
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        outln!();
        table(
            &["DRAFT", "ACTION TYPE", "RECORDED", "REPLAYED", "FOUND"],
            &rows,
        );
    }
    Ok(())
}

/// Server flags of the safety rails (`aijia dev`, `aijia serve`).
#[derive(Debug, Clone, Args)]
pub struct RailsArgs {
    /// The review pass rate (0..1) an action type needs before it may be opened to auto.
    #[arg(long, env = "AIJIA_AUTOMATION_PASS_RATE_BAR", default_value_t = 0.9)]
    automation_pass_rate_bar: f64,
    /// The fewest decided drafts of a type, in the window, for its pass rate to count.
    #[arg(long, env = "AIJIA_AUTOMATION_MIN_SAMPLE", default_value_t = 20)]
    automation_min_sample: u64,
    /// How many days of review decisions the pass rate looks at.
    #[arg(long, env = "AIJIA_AUTOMATION_WINDOW_DAYS", default_value_t = 14)]
    automation_window_days: u32,
}

impl RailsArgs {
    pub fn config(&self) -> anyhow::Result<crate::engine::RailsConfig> {
        let bar = self.automation_pass_rate_bar;
        if !(0.0..=1.0).contains(&bar) {
            anyhow::bail!("--automation-pass-rate-bar must be between 0 and 1, not {bar}");
        }
        if self.automation_window_days == 0 {
            anyhow::bail!("--automation-window-days must be at least 1");
        }
        Ok(crate::engine::RailsConfig {
            opening: aijia_workflows::automation::OpeningRule {
                bar,
                min_sample: self.automation_min_sample,
                window_days: self.automation_window_days,
            },
        })
    }
}
