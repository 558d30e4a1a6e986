//! Timer rows as the engine sees them: what a commit starts, and what the timer service claims.

use aijia_workflows::Event;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError};

/// The PostgreSQL notification channel a commit signals when it starts a timer due soon.
pub const TIMERS_CHANNEL: &str = "aijia_timers";

/// A timer a commit starts (or moves): replaces any timer of the same name on the case.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTimer {
    pub name: String,
    pub fire_at: DateTime<Utc>,
    /// What the timer does when it fires, as decided when it was started.
    pub action: serde_json::Value,
}

/// A due timer claimed by this node until its lease runs out.
#[derive(Debug, Clone, PartialEq)]
pub struct DueTimer {
    pub case_id: Uuid,
    pub name: String,
    pub fire_at: DateTime<Utc>,
    pub action: serde_json::Value,
}

/// A timer due within this long after its commit wakes timer loops at once (this process's
/// through a `Notify`, others' through `NOTIFY aijia_timers`); later ones are found by each
/// loop's sleep-until-the-next-timer.
pub const TIMER_WAKE_HORIZON: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

impl super::Commit {
    /// Whether this commit starts a timer due soon enough to wake the timer loops.
    pub fn wakes_timers(&self) -> bool {
        self.timers_to_start
            .iter()
            .any(|t| t.fire_at <= self.at + TIMER_WAKE_HORIZON)
    }
}

/// The name of the timer whose firing this event is, if it is one.
pub(super) fn fired_key(event: &Event) -> Option<String> {
    match event {
        Event::TimerFired { key, .. } => Some(key.name()),
        _ => None,
    }
}

impl Store {
    /// Claims up to `limit` timers due at `now` that no live lease holds, leasing them until
    /// `lease_until`. Safe to call from any number of nodes at once (SKIP LOCKED on PostgreSQL).
    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueTimer>, StoreError> {
        dispatch!(self, s => s.claim_due_timers(now, lease_until, limit).await)
    }

    /// Deletes a timer that can no longer fire (its case moved on or is gone), but only the
    /// very timer claimed: a timer of the same name started since is kept.
    pub async fn delete_timer(&self, timer: &DueTimer) -> Result<(), StoreError> {
        dispatch!(self, s => s.delete_timer(timer).await)
    }

    /// Records that firing the claimed timer failed with `error`, and holds it until
    /// `retry_at`: only the very timer claimed (a timer of the same name started since is
    /// untouched).
    pub async fn timer_failed(
        &self,
        timer: &DueTimer,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.timer_failed(timer, error, retry_at).await)
    }

    /// The earliest fire time of a timer no process holds, for sleeping until then (a held
    /// timer is its holder's business until the lease runs out).
    pub async fn next_timer_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, s => s.next_timer_at().await)
    }
}
