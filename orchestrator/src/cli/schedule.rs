//! `aijia schedule …`: the operator's client for ScheduleService.

use aijia_proto::v1 as pb;
use aijia_proto::v1::schedule_service_client::ScheduleServiceClient;
use aijia_proto::v1::schedule_spec::Action;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::case::{duration, key_value, request_id, rpc_error};
use super::output::{actor_text, print_json, table, time};
use super::{ActorArgs, ClientArgs};
use crate::scheduler::SchedulerConfig;

/// How this process runs timers and schedules (`aijia dev` and `aijia serve`).
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Longest sleep of the timer loop without a wake-up (commits and LISTEN/NOTIFY wake it
    /// sooner).
    #[arg(long, env = "AIJIA_TIMER_POLL_INTERVAL", default_value = "5s", value_parser = duration)]
    timer_poll_interval: std::time::Duration,
    /// How long a claimed timer or schedule stays with this process before another may take it.
    #[arg(long, env = "AIJIA_TIMER_LEASE", default_value = "30s", value_parser = duration)]
    timer_lease: std::time::Duration,
    /// Timers fired concurrently by this process.
    #[arg(long, env = "AIJIA_TIMER_CONCURRENCY", default_value_t = 16)]
    timer_concurrency: usize,
}

impl SchedulerArgs {
    pub fn config(&self) -> SchedulerConfig {
        SchedulerConfig {
            poll_interval: self.timer_poll_interval,
            lease: self.timer_lease,
            concurrency: self.timer_concurrency.max(1),
            ..SchedulerConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Create a schedule (idempotent on --request-id).
    Create {
        name: String,
        #[command(flatten)]
        spec: SpecArgs,
        /// Create it paused.
        #[arg(long)]
        paused: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Show one schedule (by id or name) with its next fire times in its own zone, recent
    /// fires and who changed it why.
    Get { schedule: String },
    /// List schedules by name with their next fire times.
    List {
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Replace a schedule's spec (by id or name).
    Update {
        schedule: String,
        /// Why; kept in the change log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Pause a schedule (by id or name).
    Pause {
        schedule: String,
        /// Why; kept in the change log.
        #[arg(long)]
        reason: String,
    },
    /// Resume (by id or name); fires that fell in the pause are skipped.
    Resume {
        schedule: String,
        /// Why; kept in the change log.
        #[arg(long)]
        reason: String,
    },
    /// Fire now, once (by id or name).
    Trigger {
        schedule: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Delete a schedule (by id or name); its change log keeps who and why.
    Delete {
        schedule: String,
        /// Why; kept in the change log.
        #[arg(long)]
        reason: String,
    },
}

/// A schedule named on the command line: a UUID is its id, anything else its name.
fn target(schedule: String) -> (String, String) {
    if uuid::Uuid::parse_str(schedule.trim()).is_ok() {
        (schedule, String::new())
    } else {
        (String::new(), schedule)
    }
}

#[derive(Debug, Args)]
struct SpecArgs {
    /// 5 fields (min hour dom month dow; Sunday = 0 or 7) or 6/7 with seconds first.
    #[arg(long)]
    cron: String,
    /// IANA time zone, e.g. Asia/Shanghai.
    #[arg(long = "tz", default_value = "UTC")]
    time_zone: String,
    /// skip, fire_once or fire_all.
    #[arg(long, default_value = "skip")]
    missed_fire: String,
    /// With fire_all: at most this many catch-up fires.
    #[arg(long, default_value_t = 0)]
    missed_fire_limit: u32,
    /// Spread each fire by up to this much, e.g. 30s.
    #[arg(long, value_parser = duration)]
    jitter: Option<std::time::Duration>,
    #[command(subcommand)]
    action: ActionArgs,
}

#[derive(Debug, Subcommand)]
enum ActionArgs {
    /// Each fire opens a case.
    StartCase {
        #[arg(long = "type")]
        workflow_type: String,
        /// May use {date} and {datetime} of the fire, e.g. daily-check-{date}.
        #[arg(long)]
        business_key_template: String,
        #[arg(long)]
        customer_id: String,
        #[arg(long, default_value = "")]
        customer_name: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        owner: String,
        #[arg(long = "attr", value_parser = key_value)]
        attributes: Vec<(String, String)>,
    },
    /// Each fire reminds every waiting case that matches.
    ReminderSweep {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        waiting_for: Option<String>,
        #[arg(long = "type")]
        workflow_type: Option<String>,
        #[arg(long, value_parser = duration)]
        waiting_longer_than: Option<std::time::Duration>,
    },
}

fn proto_duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: 0,
    }
}

impl SpecArgs {
    fn into_pb(self) -> pb::ScheduleSpec {
        pb::ScheduleSpec {
            cron: self.cron,
            time_zone: self.time_zone,
            missed_fire_policy: self.missed_fire,
            missed_fire_limit: self.missed_fire_limit,
            jitter: self.jitter.map(proto_duration),
            action: Some(match self.action {
                ActionArgs::StartCase {
                    workflow_type,
                    business_key_template,
                    customer_id,
                    customer_name,
                    subject,
                    owner,
                    attributes,
                } => Action::StartCase(pb::StartCaseAction {
                    workflow_type,
                    business_key_template,
                    customer_id,
                    customer_display_name: customer_name,
                    subject,
                    owner,
                    attributes: attributes.into_iter().collect(),
                }),
                ActionArgs::ReminderSweep {
                    state,
                    waiting_for,
                    workflow_type,
                    waiting_longer_than,
                } => Action::ReminderSweep(pb::ReminderSweepAction {
                    state: state.unwrap_or_default(),
                    waiting_for: waiting_for.unwrap_or_default(),
                    workflow_type: workflow_type.unwrap_or_default(),
                    waiting_longer_than: waiting_longer_than.map(proto_duration),
                }),
            }),
        }
    }
}

pub async fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    let mut client = ScheduleServiceClient::new(args.client.connect().await?);
    let json = args.client.json;
    let who = Some(args.acting.actor());
    match args.command {
        ScheduleCommand::Create {
            name,
            spec,
            paused,
            request_id: rid,
        } => {
            let resp = client
                .create_schedule(pb::CreateScheduleRequest {
                    request_id: request_id(rid),
                    name,
                    spec: Some(spec.into_pb()),
                    paused,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            if !json {
                outln!(
                    "{}",
                    if resp.created {
                        "schedule created"
                    } else {
                        "schedule already created by this request"
                    }
                );
            }
            one(resp.schedule.as_ref(), json)
        }
        ScheduleCommand::Get { schedule } => {
            let (schedule_id, name) = target(schedule);
            let resp = client
                .get_schedule(pb::GetScheduleRequest { schedule_id, name })
                .await
                .map_err(rpc_error)?
                .into_inner();
            one(resp.schedule.as_ref(), json)
        }
        ScheduleCommand::List {
            page_size,
            page_token,
        } => {
            let resp = client
                .list_schedules(pb::ListSchedulesRequest {
                    page_size,
                    page_token,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            list(&resp, json)
        }
        ScheduleCommand::Update {
            schedule,
            reason,
            spec,
        } => {
            let (schedule_id, name) = target(schedule);
            let resp = client
                .update_schedule(pb::UpdateScheduleRequest {
                    schedule_id,
                    spec: Some(spec.into_pb()),
                    name,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            one(resp.schedule.as_ref(), json)
        }
        ScheduleCommand::Pause { schedule, reason } => {
            let (schedule_id, name) = target(schedule);
            let resp = client
                .pause_schedule(pb::PauseScheduleRequest {
                    schedule_id,
                    name,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            one(resp.schedule.as_ref(), json)
        }
        ScheduleCommand::Resume { schedule, reason } => {
            let (schedule_id, name) = target(schedule);
            let resp = client
                .resume_schedule(pb::ResumeScheduleRequest {
                    schedule_id,
                    name,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            one(resp.schedule.as_ref(), json)
        }
        ScheduleCommand::Trigger {
            schedule,
            request_id: rid,
        } => {
            let (schedule_id, name) = target(schedule);
            let resp = client
                .trigger_schedule(pb::TriggerScheduleRequest {
                    request_id: request_id(rid),
                    schedule_id,
                    name,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            let fire = resp.fire.unwrap_or_default();
            if json {
                return print_json(&fire_json(&fire));
            }
            outln!("{}: {}", fire.outcome, fire.detail);
            Ok(())
        }
        ScheduleCommand::Delete { schedule, reason } => {
            let (schedule_id, name) = target(schedule.clone());
            client
                .delete_schedule(pb::DeleteScheduleRequest {
                    schedule_id,
                    name,
                    actor: who,
                    reason,
                })
                .await
                .map_err(rpc_error)?;
            if json {
                return print_json(&json!({"deleted": schedule}));
            }
            outln!("schedule {schedule} deleted");
            Ok(())
        }
    }
}

fn fire_json(f: &pb::ScheduleFire) -> Value {
    json!({
        "nominal_time": time(f.nominal_time.as_ref()),
        "actual_time": time(f.actual_time.as_ref()),
        "outcome": f.outcome,
        "detail": f.detail,
    })
}

fn action_text(spec: &pb::ScheduleSpec) -> String {
    match &spec.action {
        Some(Action::StartCase(a)) => {
            format!("start {} {}", a.workflow_type, a.business_key_template)
        }
        Some(Action::ReminderSweep(a)) => {
            let mut parts = vec!["remind".to_owned()];
            for (k, v) in [
                ("state", &a.state),
                ("waiting for", &a.waiting_for),
                ("type", &a.workflow_type),
            ] {
                if !v.is_empty() {
                    parts.push(format!("{k} {v}"));
                }
            }
            if let Some(d) = &a.waiting_longer_than {
                parts.push(format!("waiting > {}s", d.seconds));
            }
            parts.join(", ")
        }
        None => String::new(),
    }
}

fn schedule_json(s: &pb::Schedule) -> Value {
    let spec = s.spec.clone().unwrap_or_default();
    json!({
        "id": s.id,
        "name": s.name,
        "cron": spec.cron,
        "time_zone": spec.time_zone,
        "missed_fire_policy": spec.missed_fire_policy,
        "missed_fire_limit": spec.missed_fire_limit,
        "jitter_secs": spec.jitter.map(|d| d.seconds).unwrap_or(0),
        "action": action_text(&spec),
        "paused": s.paused,
        "next_fire_times": s.next_fire_times.iter().map(|t| time(Some(t))).collect::<Vec<_>>(),
        "next_fire_times_local": s.next_fire_times_local,
        "recent_fires": s.recent_fires.iter().map(fire_json).collect::<Vec<_>>(),
        "changes": s.changes.iter().map(|c| json!({
            "change": c.change,
            "actor": actor_text(c.actor.as_ref()),
            "reason": c.reason,
            "at": time(c.at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

/// A fire time as the schedule's zone shows it, e.g. `2026-03-09 09:00:00 +08:00
/// Asia/Shanghai`, from the server's RFC 3339 local time.
fn local_time(local: &str, zone: &str) -> String {
    let zone = if zone.is_empty() { "UTC" } else { zone };
    match chrono::DateTime::parse_from_rfc3339(local) {
        Ok(t) => format!("{} {zone}", t.format("%Y-%m-%d %H:%M:%S %:z")),
        Err(_) => local.to_owned(),
    }
}

fn one(s: Option<&pb::Schedule>, json: bool) -> anyhow::Result<()> {
    let Some(s) = s else { return Ok(()) };
    if json {
        return print_json(&schedule_json(s));
    }
    let spec = s.spec.clone().unwrap_or_default();
    outln!("{:<12} {}", "id", s.id);
    outln!("{:<12} {}", "name", s.name);
    outln!("{:<12} {} ({})", "cron", spec.cron, spec.time_zone);
    outln!("{:<12} {}", "missed fires", spec.missed_fire_policy);
    outln!("{:<12} {}", "action", action_text(&spec));
    outln!("{:<12} {}", "paused", s.paused);
    for t in &s.next_fire_times_local {
        outln!("{:<12} {}", "next fire", local_time(t, &spec.time_zone));
    }
    for f in &s.recent_fires {
        outln!(
            "{:<12} {} {}: {}",
            "fired",
            time(f.nominal_time.as_ref()),
            f.outcome,
            f.detail
        );
    }
    for c in &s.changes {
        outln!(
            "{:<12} {} {} by {}: {}",
            "changed",
            time(c.at.as_ref()),
            c.change,
            actor_text(c.actor.as_ref()),
            c.reason
        );
    }
    Ok(())
}

fn list(resp: &pb::ListSchedulesResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "schedules": resp.schedules.iter().map(schedule_json).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
        }));
    }
    let rows: Vec<Vec<String>> = resp
        .schedules
        .iter()
        .map(|s| {
            let spec = s.spec.clone().unwrap_or_default();
            vec![
                s.id.clone(),
                s.name.clone(),
                format!("{} {}", spec.cron, spec.time_zone),
                match s.next_fire_times_local.first() {
                    _ if s.paused => "paused".into(),
                    Some(t) => local_time(t, &spec.time_zone),
                    None => String::new(),
                },
                action_text(&spec),
            ]
        })
        .collect();
    table(&["ID", "NAME", "CRON", "NEXT FIRE", "ACTION"], &rows);
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    Ok(())
}
