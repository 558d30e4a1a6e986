//! `aijia.v1.ScheduleService`: decode and validate, call the engine, encode.

use aijia_proto::v1 as pb;
use aijia_proto::v1::schedule_service_server::ScheduleService;
use aijia_proto::v1::schedule_spec::Action as PbAction;
use aijia_workflows::bounds::echo;
use aijia_workflows::schedule::{
    MissedFirePolicy, ScheduleAction, ScheduleDefinition, StartCase, SweepFilter,
};
use aijia_workflows::{CaseState, Party, WorkflowType};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::convert::{self, timestamp};
use super::idempotency::request_id;
use super::status::invalid;
use crate::engine::{ChangedBy, Engine, ScheduleRef, ScheduleView};
use crate::store::{FireRecord, ScheduleChange};

#[derive(Debug, Clone)]
pub struct ScheduleApi {
    engine: Engine,
}

impl ScheduleApi {
    pub fn new(engine: Engine) -> Self {
        ScheduleApi { engine }
    }
}

/// The schedule a request names: by exactly one of its id and its name.
fn schedule_ref(id: &str, name: &str) -> Result<ScheduleRef, Status> {
    match (id.trim(), name.trim()) {
        ("", "") => Err(invalid(
            "schedule_id",
            "is required, or else name: which schedule",
        )),
        (id, "") => Uuid::parse_str(id).map(ScheduleRef::Id).map_err(|_| {
            invalid(
                "schedule_id",
                format!(
                    "{} is not a schedule id (a UUID); to name a schedule, use name",
                    echo(id)
                ),
            )
        }),
        ("", _) => Ok(ScheduleRef::Name(convert::name("name", name)?)),
        _ => Err(invalid(
            "schedule_id",
            "name the schedule by schedule_id or by name, not both",
        )),
    }
}

/// Who changes a schedule and why: both required, both kept in its change log.
fn changed_by(actor: Option<&pb::Actor>, reason: &str) -> Result<ChangedBy, Status> {
    Ok(ChangedBy {
        actor: convert::actor(actor)?,
        reason: super::rails_convert::reason("reason", reason)?,
    })
}

/// The prefix of a start_case action's fields in refusals.
const START_CASE: &str = "spec.start_case.";

fn definition(spec: Option<&pb::ScheduleSpec>) -> Result<ScheduleDefinition, Status> {
    let spec = spec.ok_or_else(|| invalid("spec", "is required: {cron, time_zone, action, …}"))?;
    let missed_fire = match spec.missed_fire_policy.trim() {
        "" | "skip" => MissedFirePolicy::Skip,
        "fire_once" => MissedFirePolicy::FireOnce,
        "fire_all" => MissedFirePolicy::FireAll {
            limit: if spec.missed_fire_limit == 0 {
                10
            } else {
                spec.missed_fire_limit
            },
        },
        other => {
            return Err(invalid(
                "spec.missed_fire_policy",
                format!(
                    "unknown policy {}; expected one of: skip, fire_once, fire_all",
                    echo(other)
                ),
            ));
        }
    };
    let jitter_secs = convert::duration("spec.jitter", spec.jitter.as_ref())?
        .map_or(0, |d| d.num_seconds().max(0) as u64);
    let action = match spec.action.as_ref() {
        None => {
            return Err(invalid(
                "spec.action",
                "is required: start_case or reminder_sweep",
            ));
        }
        Some(PbAction::StartCase(a)) => {
            let new = convert::CaseFields {
                workflow_type: &a.workflow_type,
                business_key_field: "business_key_template",
                business_key: &a.business_key_template,
                customer_id: &a.customer_id,
                customer_display_name: &a.customer_display_name,
                subject: &a.subject,
                owner: &a.owner,
                attributes: &a.attributes,
            }
            .validate(START_CASE)?;
            ScheduleAction::StartCase(StartCase {
                workflow_type: new.workflow_type,
                business_key_template: new.business_key,
                customer_id: new.customer_id,
                customer_display_name: new.customer_display_name,
                subject: new.subject,
                owner: new.owner,
                attributes: new.attributes,
            })
        }
        Some(PbAction::ReminderSweep(a)) => ScheduleAction::ReminderSweep {
            filter: SweepFilter {
                state: convert::optional::<CaseState>("spec.reminder_sweep.state", &a.state)?,
                waiting_for: convert::optional::<Party>(
                    "spec.reminder_sweep.waiting_for",
                    &a.waiting_for,
                )?,
                workflow_type: convert::optional::<WorkflowType>(
                    "spec.reminder_sweep.workflow_type",
                    &a.workflow_type,
                )?,
                waiting_longer_than_secs: convert::duration(
                    "spec.reminder_sweep.waiting_longer_than",
                    a.waiting_longer_than.as_ref(),
                )?
                .map(|d| d.num_seconds().max(0) as u64),
            },
        },
    };
    let definition = ScheduleDefinition {
        cron: convert::name("spec.cron", &spec.cron)?,
        time_zone: convert::filter("spec.time_zone", &spec.time_zone)?
            .unwrap_or_else(|| "UTC".to_owned()),
        missed_fire,
        jitter_secs,
        action,
    };
    // Validate here too so the field is named in the answer; the engine checks again.
    let cron = definition.validate().map_err(|e| invalid("spec", e))?;
    if let ScheduleAction::StartCase(start) = &definition.action {
        // Each fire fills the template in: the key it makes must pass as StartCase's does.
        convert::name(
            &format!("{START_CASE}business_key_template (filled in)"),
            &start.business_key(&cron, chrono::DateTime::UNIX_EPOCH),
        )?;
    }
    Ok(definition)
}

fn spec(d: &ScheduleDefinition) -> pb::ScheduleSpec {
    let (policy, limit) = match d.missed_fire {
        MissedFirePolicy::Skip => ("skip", 0),
        MissedFirePolicy::FireOnce => ("fire_once", 0),
        MissedFirePolicy::FireAll { limit } => ("fire_all", limit),
    };
    pb::ScheduleSpec {
        cron: d.cron.clone(),
        time_zone: d.time_zone.clone(),
        missed_fire_policy: policy.into(),
        missed_fire_limit: limit,
        jitter: (d.jitter_secs > 0).then_some(prost_types::Duration {
            seconds: d.jitter_secs as i64,
            nanos: 0,
        }),
        action: Some(match &d.action {
            ScheduleAction::StartCase(a) => PbAction::StartCase(pb::StartCaseAction {
                workflow_type: a.workflow_type.to_string(),
                business_key_template: a.business_key_template.clone(),
                customer_id: a.customer_id.clone(),
                customer_display_name: a.customer_display_name.clone(),
                subject: a.subject.clone(),
                owner: a.owner.clone(),
                attributes: a
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }),
            ScheduleAction::ReminderSweep { filter } => {
                PbAction::ReminderSweep(pb::ReminderSweepAction {
                    state: filter.state.map(|s| s.to_string()).unwrap_or_default(),
                    waiting_for: filter
                        .waiting_for
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    workflow_type: filter
                        .workflow_type
                        .map(|w| w.to_string())
                        .unwrap_or_default(),
                    waiting_longer_than: filter.waiting_longer_than_secs.map(|s| {
                        prost_types::Duration {
                            seconds: s as i64,
                            nanos: 0,
                        }
                    }),
                })
            }
        }),
    }
}

fn fire(f: &FireRecord) -> pb::ScheduleFire {
    pb::ScheduleFire {
        nominal_time: Some(timestamp(f.nominal)),
        actual_time: Some(timestamp(f.actual)),
        outcome: f.outcome.clone(),
        detail: f.detail.clone(),
    }
}

fn schedule(v: &ScheduleView) -> pb::Schedule {
    pb::Schedule {
        id: v.stored.id.to_string(),
        name: v.stored.name.clone(),
        spec: Some(spec(&v.spec)),
        paused: v.stored.paused,
        next_fire_times: v.next_fires.iter().map(|t| timestamp(*t)).collect(),
        recent_fires: v.recent_fires.iter().map(fire).collect(),
        created_at: Some(timestamp(v.stored.created_at)),
        updated_at: Some(timestamp(v.stored.updated_at)),
        next_fire_times_local: v.next_fires_local.clone(),
        changes: v.changes.iter().map(change).collect(),
    }
}

fn change(c: &ScheduleChange) -> pb::ScheduleChange {
    pb::ScheduleChange {
        change: c.change.clone(),
        actor: Some(pb::Actor {
            role: c.actor.role.to_string(),
            id: c.actor.id.clone(),
        }),
        reason: c.reason.clone(),
        at: Some(timestamp(c.at)),
    }
}

#[tonic::async_trait]
impl ScheduleService for ScheduleApi {
    async fn create_schedule(
        &self,
        request: Request<pb::CreateScheduleRequest>,
    ) -> Result<Response<pb::CreateScheduleResponse>, Status> {
        let req = request.into_inner();
        let name = convert::name("name", &req.name)?;
        let definition = definition(req.spec.as_ref())?;
        // Validated (lists capped) before it is hashed for its fingerprint.
        let request_id = request_id(&req)?;
        let (view, created) = self
            .engine
            .create_schedule(&request_id, name, definition, req.paused)
            .await?;
        Ok(Response::new(pb::CreateScheduleResponse {
            schedule: Some(schedule(&view)),
            created,
        }))
    }

    async fn get_schedule(
        &self,
        request: Request<pb::GetScheduleRequest>,
    ) -> Result<Response<pb::GetScheduleResponse>, Status> {
        let req = request.get_ref();
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let view = self.engine.get_schedule(&schedule_ref).await?;
        Ok(Response::new(pb::GetScheduleResponse {
            schedule: Some(schedule(&view)),
        }))
    }

    async fn list_schedules(
        &self,
        request: Request<pb::ListSchedulesRequest>,
    ) -> Result<Response<pb::ListSchedulesResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size("page_size", req.page_size, 50, 500)?;
        let after = convert::filter("page_token", &req.page_token)?;
        let mut views = self
            .engine
            .list_schedules(after.as_deref(), limit + 1)
            .await?;
        let next_page_token = convert::page(&mut views, limit, |v| v.stored.name.clone());
        Ok(Response::new(pb::ListSchedulesResponse {
            schedules: views.iter().map(schedule).collect(),
            next_page_token,
        }))
    }

    async fn update_schedule(
        &self,
        request: Request<pb::UpdateScheduleRequest>,
    ) -> Result<Response<pb::UpdateScheduleResponse>, Status> {
        let req = request.into_inner();
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let definition = definition(req.spec.as_ref())?;
        let by = changed_by(req.actor.as_ref(), &req.reason)?;
        let view = self
            .engine
            .update_schedule(&schedule_ref, definition, by)
            .await?;
        Ok(Response::new(pb::UpdateScheduleResponse {
            schedule: Some(schedule(&view)),
        }))
    }

    async fn pause_schedule(
        &self,
        request: Request<pb::PauseScheduleRequest>,
    ) -> Result<Response<pb::PauseScheduleResponse>, Status> {
        let req = request.into_inner();
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let by = changed_by(req.actor.as_ref(), &req.reason)?;
        let view = self
            .engine
            .set_schedule_paused(&schedule_ref, true, by)
            .await?;
        Ok(Response::new(pb::PauseScheduleResponse {
            schedule: Some(schedule(&view)),
        }))
    }

    async fn resume_schedule(
        &self,
        request: Request<pb::ResumeScheduleRequest>,
    ) -> Result<Response<pb::ResumeScheduleResponse>, Status> {
        let req = request.into_inner();
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let by = changed_by(req.actor.as_ref(), &req.reason)?;
        let view = self
            .engine
            .set_schedule_paused(&schedule_ref, false, by)
            .await?;
        Ok(Response::new(pb::ResumeScheduleResponse {
            schedule: Some(schedule(&view)),
        }))
    }

    async fn trigger_schedule(
        &self,
        request: Request<pb::TriggerScheduleRequest>,
    ) -> Result<Response<pb::TriggerScheduleResponse>, Status> {
        let req = request.into_inner();
        let request_id = request_id(&req)?;
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let record = self
            .engine
            .trigger_schedule(&schedule_ref, &request_id)
            .await?;
        Ok(Response::new(pb::TriggerScheduleResponse {
            fire: Some(fire(&record)),
        }))
    }

    async fn delete_schedule(
        &self,
        request: Request<pb::DeleteScheduleRequest>,
    ) -> Result<Response<pb::DeleteScheduleResponse>, Status> {
        let req = request.into_inner();
        let schedule_ref = schedule_ref(&req.schedule_id, &req.name)?;
        let by = changed_by(req.actor.as_ref(), &req.reason)?;
        self.engine.delete_schedule(&schedule_ref, by).await?;
        Ok(Response::new(pb::DeleteScheduleResponse {}))
    }
}
