//! Schedule rows: the spec (as JSON the scheduler owns), pause state, the last nominal fire
//! handled, the next time a node must look, and the record of every fire.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use aijia_workflows::Actor;

use super::columns::Columns;
use super::{Store, StoreError, actor};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredSchedule {
    pub id: Uuid,
    pub name: String,
    pub spec: serde_json::Value,
    pub paused: bool,
    pub last_nominal: Option<DateTime<Utc>>,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The fingerprint of the request that created it (`ids::RequestId`).
    pub create_request_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireRecord {
    pub nominal: DateTime<Utc>,
    pub actual: DateTime<Utc>,
    pub outcome: String,
    pub detail: String,
    pub request_id: Option<String>,
    /// The fingerprint of the trigger request (`ids::RequestId`); `None` for cron fires.
    pub request_fingerprint: Option<String>,
}

/// Who changed a schedule, how and why: one entry of its change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleChange {
    /// updated, paused, resumed or deleted.
    pub change: String,
    pub actor: Actor,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// What creating a schedule found.
#[derive(Debug, Clone)]
pub enum CreatedSchedule {
    Created(StoredSchedule),
    /// The same create request was seen before: its schedule.
    Repeated(StoredSchedule),
    /// Another schedule already has this name.
    NameTaken,
}

impl Store {
    pub async fn create_schedule(
        &self,
        schedule: &StoredSchedule,
        request_id: &str,
    ) -> Result<CreatedSchedule, StoreError> {
        dispatch!(self, s => s.create_schedule(schedule, request_id).await)
    }

    pub async fn get_schedule(&self, id: Uuid) -> Result<Option<StoredSchedule>, StoreError> {
        dispatch!(self, s => s.get_schedule(id).await)
    }

    pub async fn get_schedule_by_name(
        &self,
        name: &str,
    ) -> Result<Option<StoredSchedule>, StoreError> {
        dispatch!(self, s => s.get_schedule_by_name(name).await)
    }

    /// Schedules ordered by name, after `after_name`.
    pub async fn list_schedules(
        &self,
        after_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        dispatch!(self, s => s.list_schedules(after_name, limit).await)
    }

    /// Writes spec, pause state, last nominal fire and next look time, and logs `change` in
    /// the same transaction; false if it is gone.
    pub async fn save_schedule(
        &self,
        schedule: &StoredSchedule,
        change: &ScheduleChange,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.save_schedule(schedule, change).await)
    }

    /// Deletes the schedule and logs `change` in the same transaction; false if it is gone.
    pub async fn delete_schedule(
        &self,
        schedule: &StoredSchedule,
        change: &ScheduleChange,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_schedule(schedule, change).await)
    }

    /// The schedule's change log, newest first.
    pub async fn schedule_changes(
        &self,
        schedule_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ScheduleChange>, StoreError> {
        dispatch!(self, s => s.schedule_changes(schedule_id, limit).await)
    }

    /// Leases one schedule whose next look time has come, if any.
    pub async fn claim_due_schedule(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<StoredSchedule>, StoreError> {
        dispatch!(self, s => s.claim_due_schedule(now, lease_until).await)
    }

    /// Records fires (a nominal time already recorded is left as it was) and, atomically,
    /// moves the schedule on and releases its lease.
    pub async fn finish_fires(
        &self,
        schedule: &StoredSchedule,
        fires: &[FireRecord],
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.finish_fires(schedule, fires).await)
    }

    /// Records one triggered fire; if the request id fired before, returns that fire.
    pub async fn record_trigger(
        &self,
        schedule_id: Uuid,
        fire: &FireRecord,
    ) -> Result<FireRecord, StoreError> {
        dispatch!(self, s => s.record_trigger(schedule_id, fire).await)
    }

    pub async fn find_trigger(
        &self,
        schedule_id: Uuid,
        request_id: &str,
    ) -> Result<Option<FireRecord>, StoreError> {
        dispatch!(self, s => s.find_trigger(schedule_id, request_id).await)
    }

    pub async fn recent_fires(
        &self,
        schedule_id: Uuid,
        limit: u32,
    ) -> Result<Vec<FireRecord>, StoreError> {
        dispatch!(self, s => s.recent_fires(schedule_id, limit).await)
    }
}

/// A schedule row: `id, name, spec, paused, last_nominal, next_fire_at, created_at, updated_at,
/// create_request_fingerprint`.
pub(crate) fn schedule(row: &impl Columns) -> Result<StoredSchedule, StoreError> {
    Ok(StoredSchedule {
        id: row.uuid("id")?,
        name: row.text("name")?,
        spec: row.json("spec")?,
        paused: row.flag("paused")?,
        last_nominal: row.opt_time("last_nominal")?,
        next_fire_at: row.opt_time("next_fire_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        create_request_fingerprint: row.opt_text("create_request_fingerprint")?,
    })
}

/// A fire row: `nominal, actual, outcome, detail, request_id, request_fingerprint`.
pub(crate) fn fire(row: &impl Columns) -> Result<FireRecord, StoreError> {
    Ok(FireRecord {
        nominal: row.time("nominal")?,
        actual: row.time("actual")?,
        outcome: row.text("outcome")?,
        detail: row.text("detail")?,
        request_id: row.opt_text("request_id")?,
        request_fingerprint: row.opt_text("request_fingerprint")?,
    })
}

/// A change log row: `change, actor_role, actor_id, reason, at`.
pub(crate) fn change(row: &impl Columns) -> Result<ScheduleChange, StoreError> {
    Ok(ScheduleChange {
        change: row.text("change")?,
        actor: actor(row.text("actor_role")?, row.text("actor_id")?)?,
        reason: row.text("reason")?,
        at: row.time("at")?,
    })
}
