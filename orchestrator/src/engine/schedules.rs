//! Cron schedules: create, change, pause, trigger, and fire them exactly once.
//!
//! A schedule row holds its spec, the last nominal time handled and the next time a process
//! must look (`next_fire_at`: the next nominal fire plus its jitter). Firing is lease-claimed,
//! and each fire's action is idempotent (its request ids derive from the schedule and the
//! nominal time), so a process that dies mid-fire is simply followed by another that redoes
//! the same fire without doubling anything.

use aijia_workflows::schedule::{
    CronSpec, MISFIRE_THRESHOLD_SECS, MissedFirePolicy, ScheduleAction, ScheduleDefinition,
    ScheduleError, SweepFilter, due_fires, jitter_for,
};
use aijia_workflows::{Actor, ActorRole, Event};
use chrono::{DateTime, TimeDelta, Utc};
use tracing::{info, warn};
use uuid::Uuid;

use super::{Engine, EngineError, SignalRequest};
use crate::ids::{CaseId, RequestId};
use crate::store::{CaseFilter, CreatedSchedule, FireRecord, ScheduleChange, StoredSchedule};
use crate::supervise::POISONED_BACKOFF;

/// A schedule as callers see it.
#[derive(Debug, Clone)]
pub struct ScheduleView {
    pub stored: StoredSchedule,
    pub spec: ScheduleDefinition,
    pub next_fires: Vec<DateTime<Utc>>,
    /// `next_fires` in the schedule's zone, RFC 3339 with that zone's offset.
    pub next_fires_local: Vec<String>,
    pub recent_fires: Vec<FireRecord>,
    /// Newest first.
    pub changes: Vec<ScheduleChange>,
}

/// How a caller names a schedule: by id or by its unique name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleRef {
    Id(Uuid),
    Name(String),
}

impl std::fmt::Display for ScheduleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleRef::Id(id) => write!(f, "schedule {id}"),
            ScheduleRef::Name(name) => {
                write!(f, "schedule named {}", aijia_workflows::bounds::echo(name))
            }
        }
    }
}

/// Who asks for a change to a schedule, and why: kept in its change log.
#[derive(Debug, Clone)]
pub struct ChangedBy {
    pub actor: Actor,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleRefusal {
    #[error("{0} not found")]
    NotFound(ScheduleRef),
    #[error("a schedule named {} already exists", aijia_workflows::bounds::echo(.0))]
    NameTaken(String),
    #[error(transparent)]
    Invalid(#[from] ScheduleError),
}

impl From<ScheduleRefusal> for EngineError {
    fn from(r: ScheduleRefusal) -> Self {
        EngineError::Schedule(r)
    }
}

/// How many upcoming and recent fires a view shows.
const SHOWN_FIRES: usize = 3;
const RECENT_FIRES: u32 = 5;
const SHOWN_CHANGES: u32 = 10;

impl Engine {
    pub async fn create_schedule(
        &self,
        request_id: &RequestId,
        name: String,
        spec: ScheduleDefinition,
        paused: bool,
    ) -> Result<(ScheduleView, bool), EngineError> {
        let now = self.clock.now();
        let cron = spec.validate_at(now).map_err(ScheduleRefusal::Invalid)?;
        let id = Uuid::now_v7();
        let stored = StoredSchedule {
            id,
            name: name.clone(),
            spec: serde_json::to_value(&spec).unwrap_or_default(),
            paused,
            last_nominal: Some(now),
            next_fire_at: (!paused)
                .then(|| next_look(&cron, &spec, id, now))
                .flatten(),
            created_at: now,
            updated_at: now,
            create_request_fingerprint: request_id.fingerprint().map(str::to_owned),
        };
        match self
            .store
            .create_schedule(&stored, request_id.as_str())
            .await?
        {
            CreatedSchedule::Created(s) => Ok((self.schedule_view(s).await?, true)),
            CreatedSchedule::Repeated(s) => {
                request_id.answers_to(s.create_request_fingerprint.as_deref())?;
                Ok((self.schedule_view(s).await?, false))
            }
            CreatedSchedule::NameTaken => Err(ScheduleRefusal::NameTaken(name).into()),
        }
    }

    pub async fn get_schedule(&self, schedule: &ScheduleRef) -> Result<ScheduleView, EngineError> {
        let stored = self.load_schedule(schedule).await?;
        self.schedule_view(stored).await
    }

    pub async fn list_schedules(
        &self,
        after_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ScheduleView>, EngineError> {
        let mut views = Vec::new();
        for stored in self.store.list_schedules(after_name, limit).await? {
            views.push(self.schedule_view(stored).await?);
        }
        Ok(views)
    }

    /// Replaces the spec; the next fire is computed afresh from now.
    pub async fn update_schedule(
        &self,
        schedule: &ScheduleRef,
        spec: ScheduleDefinition,
        by: ChangedBy,
    ) -> Result<ScheduleView, EngineError> {
        let now = self.clock.now();
        let cron = spec.validate_at(now).map_err(ScheduleRefusal::Invalid)?;
        let mut stored = self.load_schedule(schedule).await?;
        stored.spec = serde_json::to_value(&spec).unwrap_or_default();
        stored.last_nominal = Some(now);
        stored.next_fire_at = (!stored.paused)
            .then(|| next_look(&cron, &spec, stored.id, now))
            .flatten();
        stored.updated_at = now;
        self.save(stored, change("updated", by, now)).await
    }

    /// Pausing means "not then": fires that fall in a pause are skipped, not made up later.
    /// A schedule already so is left as it is, and nothing is logged.
    pub async fn set_schedule_paused(
        &self,
        schedule: &ScheduleRef,
        paused: bool,
        by: ChangedBy,
    ) -> Result<ScheduleView, EngineError> {
        let mut stored = self.load_schedule(schedule).await?;
        if stored.paused == paused {
            return self.schedule_view(stored).await;
        }
        let spec = spec_of(&stored)?;
        let cron = spec.validate().map_err(ScheduleRefusal::Invalid)?;
        let now = self.clock.now();
        stored.paused = paused;
        stored.last_nominal = Some(now);
        stored.next_fire_at = (!paused)
            .then(|| next_look(&cron, &spec, stored.id, now))
            .flatten();
        stored.updated_at = now;
        let what = if paused { "paused" } else { "resumed" };
        self.save(stored, change(what, by, now)).await
    }

    /// Deletes the schedule; its change log keeps who did it and why.
    pub async fn delete_schedule(
        &self,
        schedule: &ScheduleRef,
        by: ChangedBy,
    ) -> Result<(), EngineError> {
        let stored = self.load_schedule(schedule).await?;
        let logged = change("deleted", by, self.clock.now());
        if !self.store.delete_schedule(&stored, &logged).await? {
            return Err(ScheduleRefusal::NotFound(schedule.clone()).into());
        }
        info!(schedule = %stored.name, actor = %logged.actor.id, "schedule deleted");
        Ok(())
    }

    /// Fires the schedule's action now, once per request id, outside its cron rhythm.
    pub async fn trigger_schedule(
        &self,
        schedule: &ScheduleRef,
        request_id: &RequestId,
    ) -> Result<FireRecord, EngineError> {
        let stored = self.load_schedule(schedule).await?;
        let id = stored.id;
        if let Some(prior) = self.store.find_trigger(id, request_id.as_str()).await? {
            request_id.answers_to(prior.request_fingerprint.as_deref())?;
            return Ok(prior);
        }
        let spec = spec_of(&stored)?;
        let cron = spec.validate().map_err(ScheduleRefusal::Invalid)?;
        let now = self.clock.now();
        let key = format!("schedule:{id}:trigger:{}", request_id.as_str());
        let (ok, detail) = self.perform(&stored, &spec, &cron, now, &key).await;
        let fire = FireRecord {
            nominal: now,
            actual: now,
            outcome: if ok { "triggered" } else { "failed" }.into(),
            detail,
            request_id: Some(request_id.as_str().to_owned()),
            request_fingerprint: request_id.fingerprint().map(str::to_owned),
        };
        // A racing twin of this request may have recorded its fire first: that one stands.
        let recorded = self.store.record_trigger(id, &fire).await?;
        request_id.answers_to(recorded.request_fingerprint.as_deref())?;
        Ok(recorded)
    }

    /// Leases one schedule whose next look time has come, if any.
    pub async fn claim_due_schedule(
        &self,
        lease: TimeDelta,
    ) -> Result<Option<StoredSchedule>, EngineError> {
        let now = self.clock.now();
        Ok(self.store.claim_due_schedule(now, now + lease).await?)
    }

    /// Fires what is due of a claimed schedule, records the fires and releases the lease.
    pub async fn fire_schedule(&self, mut stored: StoredSchedule) -> Result<(), EngineError> {
        let now = self.clock.now();
        let (spec, cron) = match spec_of(&stored).and_then(|spec| {
            let cron = spec.validate().map_err(ScheduleRefusal::Invalid)?;
            Ok((spec, cron))
        }) {
            Ok(ok) => ok,
            Err(err) => {
                // Written specs are validated, so this is a stored spec gone bad: park it,
                // and say why in its fires.
                warn!(schedule_id = %stored.id, error = %err, "schedule spec unusable; pausing it");
                let fire = failed_fire(
                    now,
                    format!("{err}; the schedule is paused until its spec is replaced"),
                );
                stored.paused = true;
                stored.next_fire_at = None;
                stored.updated_at = now;
                self.store.finish_fires(&stored, &[fire]).await?;
                let by = ChangedBy {
                    actor: Actor {
                        role: ActorRole::System,
                        id: format!("scheduler@{}", self.node),
                    },
                    reason: "its stored spec is unusable".to_owned(),
                };
                self.store
                    .save_schedule(&stored, &change("paused", by, now))
                    .await?;
                return Ok(());
            }
        };
        let since = stored.last_nominal.unwrap_or(stored.created_at);
        let (nominals, skipped) = due_now(&cron, &spec, since, now);
        if skipped > 0 {
            warn!(schedule_id = %stored.id, schedule = %stored.name, skipped, policy = ?spec.missed_fire, "missed fires not made up");
        }
        let mut fires = Vec::with_capacity(nominals.len());
        for nominal in nominals {
            let key = format!("schedule:{}:{}", stored.id, nominal.timestamp_micros());
            let (ok, detail) = self.perform(&stored, &spec, &cron, nominal, &key).await;
            if ok {
                info!(schedule_id = %stored.id, schedule = %stored.name, %nominal, "schedule fired");
            } else {
                warn!(schedule_id = %stored.id, schedule = %stored.name, %nominal, error = %detail, "schedule fire failed");
            }
            fires.push(FireRecord {
                nominal,
                actual: self.clock.now(),
                outcome: if ok { "ok" } else { "failed" }.into(),
                detail,
                request_id: None,
                request_fingerprint: None,
            });
        }
        stored.last_nominal = Some(now);
        stored.next_fire_at = next_look(&cron, &spec, stored.id, now);
        stored.updated_at = self.clock.now();
        self.store.finish_fires(&stored, &fires).await?;
        Ok(())
    }

    /// Records on a claimed schedule that firing it failed without an answer (it panicked),
    /// and leaves it alone for [`POISONED_BACKOFF`]: the fires due now are not made up, so a
    /// schedule that always fails costs one failed fire per back-off, not a hot loop.
    pub async fn schedule_failed(
        &self,
        mut stored: StoredSchedule,
        error: &str,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        let retry_at = now + POISONED_BACKOFF;
        let fire = failed_fire(now, format!("{error}; next look at {retry_at}"));
        stored.last_nominal = Some(now);
        stored.next_fire_at = Some(retry_at);
        stored.updated_at = now;
        self.store.finish_fires(&stored, &[fire]).await?;
        Ok(())
    }

    /// Runs a fire's action; `key` makes it idempotent. Returns success and a detail line.
    async fn perform(
        &self,
        stored: &StoredSchedule,
        spec: &ScheduleDefinition,
        cron: &CronSpec,
        nominal: DateTime<Utc>,
        key: &str,
    ) -> (bool, String) {
        let actor = Actor {
            role: ActorRole::System,
            id: format!("schedule:{}", stored.name),
        };
        let request_id = match RequestId::parse(key) {
            Ok(id) => id,
            Err(e) => return (false, e),
        };
        match &spec.action {
            ScheduleAction::StartCase(start) => {
                let new = start.new_case(cron, nominal);
                match self.start_case(request_id, new, actor).await {
                    Ok((change, true)) => (true, format!("started case {}", change.view.id)),
                    Ok((change, false)) => (true, format!("case {} already open", change.view.id)),
                    Err(e) => (false, failure_detail(e)),
                }
            }
            ScheduleAction::ReminderSweep { filter } => {
                match self.sweep(filter, request_id, actor, &stored.name).await {
                    Ok(n) => (true, format!("reminded {n} cases")),
                    Err(e) => (false, failure_detail(e)),
                }
            }
        }
    }

    /// Sends a reminder to every waiting case the filter selects; returns how many.
    async fn sweep(
        &self,
        filter: &SweepFilter,
        request_id: RequestId,
        actor: Actor,
        schedule: &str,
    ) -> Result<u32, EngineError> {
        let now = self.clock.now();
        let mut page = CaseFilter {
            state: filter.state.map(|s| s.to_string()),
            waiting_for: filter.waiting_for.map(|p| p.to_string()),
            workflow_type: filter.workflow_type.map(|w| w.to_string()),
            // Specs are validated to at most ten years; a longer one waits since no time.
            waiting_since_before: filter.waiting_longer_than_secs.map(|s| {
                i64::try_from(s)
                    .ok()
                    .and_then(TimeDelta::try_seconds)
                    .map_or(DateTime::UNIX_EPOCH, |age| super::cut_off(now, age))
            }),
            limit: 500,
            ..CaseFilter::default()
        };
        let mut reminded = 0;
        loop {
            let cases = self.store.list(&page).await?;
            let Some(last) = cases.last().map(|c| c.id) else {
                break;
            };
            for stored in cases.iter().filter(|c| filter.matches(&c.case, now)) {
                let signal = SignalRequest {
                    request_id: request_id.clone(),
                    case_id: CaseId(stored.id),
                    actor: actor.clone(),
                    expected_version: None,
                    event: Event::SendReminder {
                        reason: format!("schedule {schedule}"),
                    },
                };
                match self.signal(signal).await {
                    Ok(change) if !change.duplicate => reminded += 1,
                    Ok(_) => {}
                    // The case moved on between listing and reminding: nothing to remind.
                    Err(EngineError::Refused(_) | EngineError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            page.before_id = Some(last);
        }
        Ok(reminded)
    }

    async fn load_schedule(&self, schedule: &ScheduleRef) -> Result<StoredSchedule, EngineError> {
        let found = match schedule {
            ScheduleRef::Id(id) => self.store.get_schedule(*id).await?,
            ScheduleRef::Name(name) => self.store.get_schedule_by_name(name).await?,
        };
        found.ok_or_else(|| ScheduleRefusal::NotFound(schedule.clone()).into())
    }

    async fn save(
        &self,
        stored: StoredSchedule,
        logged: ScheduleChange,
    ) -> Result<ScheduleView, EngineError> {
        if !self.store.save_schedule(&stored, &logged).await? {
            return Err(ScheduleRefusal::NotFound(ScheduleRef::Id(stored.id)).into());
        }
        info!(schedule = %stored.name, change = %logged.change, actor = %logged.actor.id, "schedule changed");
        self.schedule_view(stored).await
    }

    async fn schedule_view(&self, stored: StoredSchedule) -> Result<ScheduleView, EngineError> {
        let spec = spec_of(&stored)?;
        let (next_fires, next_fires_local) =
            match (stored.paused, CronSpec::parse(&spec.cron, &spec.time_zone)) {
                (false, Ok(cron)) => {
                    let after = stored
                        .last_nominal
                        .unwrap_or(stored.created_at)
                        .max(self.clock.now());
                    let fires = cron.upcoming(after, SHOWN_FIRES);
                    let local = fires.iter().map(|t| cron.local(*t).to_rfc3339()).collect();
                    (fires, local)
                }
                _ => (Vec::new(), Vec::new()),
            };
        let recent_fires = self.store.recent_fires(stored.id, RECENT_FIRES).await?;
        let changes = self
            .store
            .schedule_changes(stored.id, SHOWN_CHANGES)
            .await?;
        Ok(ScheduleView {
            stored,
            spec,
            next_fires,
            next_fires_local,
            recent_fires,
            changes,
        })
    }
}

/// Why an action failed, as a fire record shows it to clients: a storage failure by its
/// stable description and error id, never database text.
fn failure_detail(err: EngineError) -> String {
    match err {
        EngineError::Store(store) => store.reported(),
        other => other.to_string(),
    }
}

/// A fire that did not get as far as its action, recorded at `now`.
fn failed_fire(now: DateTime<Utc>, detail: String) -> FireRecord {
    FireRecord {
        nominal: now,
        actual: now,
        outcome: "failed".into(),
        detail,
        request_id: None,
        request_fingerprint: None,
    }
}

fn change(what: &str, by: ChangedBy, at: DateTime<Utc>) -> ScheduleChange {
    ScheduleChange {
        change: what.to_owned(),
        actor: by.actor,
        reason: by.reason,
        at,
    }
}

fn spec_of(stored: &StoredSchedule) -> Result<ScheduleDefinition, ScheduleRefusal> {
    serde_json::from_value(stored.spec.clone()).map_err(|e| {
        ScheduleRefusal::Invalid(ScheduleError::Policy(format!(
            "stored spec unreadable: {e}"
        )))
    })
}

/// When a process must next look at the schedule: its next nominal fire plus that fire's
/// jitter (stable per schedule and fire, so every process agrees).
fn next_look(
    cron: &CronSpec,
    spec: &ScheduleDefinition,
    id: Uuid,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let nominal = cron.next_after(after)?;
    Some(nominal + jitter_for(&id.to_string(), nominal, spec.max_jitter()))
}

/// The nominal times to fire now, and how many missed ones the policy drops. A fire counts as
/// on time while it is within the misfire threshold plus the jitter it may have been given.
fn due_now(
    cron: &CronSpec,
    spec: &ScheduleDefinition,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, u32) {
    match spec.missed_fire {
        MissedFirePolicy::Skip => {
            let due = due_fires(cron, since, now, MissedFirePolicy::FireOnce);
            let on_time = TimeDelta::seconds(MISFIRE_THRESHOLD_SECS) + spec.max_jitter();
            let (fires, late): (Vec<_>, Vec<_>) =
                due.fires.into_iter().partition(|n| now - *n <= on_time);
            (fires, due.skipped + late.len() as u32)
        }
        policy => {
            let due = due_fires(cron, since, now, policy);
            (due.fires, due.skipped)
        }
    }
}
