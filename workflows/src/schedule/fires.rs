//! Which nominal fire times are due now, after a short delay or a long downtime, and the
//! deterministic jitter that spreads fires of many schedules apart.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ScheduleError;
use super::spec::CronSpec;

/// A fire this late or less is on time, under every policy (Quartz's default misfire threshold).
pub const MISFIRE_THRESHOLD_SECS: i64 = 60;

/// How many due times [`due_fires`] counts one by one before it jumps to the last day before
/// `now` (a per-second schedule after a day of downtime); `skipped` is a lower bound past it.
const MAX_COUNTED: u64 = 100_000;

/// The most catch-up fires a `fire_all` policy may ask for: each one runs the action.
pub const MAX_MISSED_FIRE_LIMIT: u32 = 1_000;

/// What to do with the fire times that passed while no node could fire them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MissedFirePolicy {
    /// Fire only what is on time (at most [`MISFIRE_THRESHOLD_SECS`] late); skip the rest.
    Skip,
    /// Fire once, for the latest missed time, however late; skip the others.
    FireOnce,
    /// Fire each missed time, the latest `limit` of them, oldest first; skip older ones.
    FireAll { limit: u32 },
}

impl MissedFirePolicy {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            MissedFirePolicy::FireAll { limit: 0 } => Err(ScheduleError::Policy(
                "fire_all needs a limit of at least 1 (use skip to fire nothing missed)".into(),
            )),
            MissedFirePolicy::FireAll { limit } if *limit > MAX_MISSED_FIRE_LIMIT => {
                Err(ScheduleError::Policy(format!(
                    "fire_all limit is {limit}; at most {MAX_MISSED_FIRE_LIMIT} catch-up fires"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// What a schedule does now: the nominal times to fire (oldest first), how many due times it
/// skips, and its next nominal time after `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueFires {
    pub fires: Vec<DateTime<Utc>>,
    pub skipped: u32,
    pub next: Option<DateTime<Utc>>,
}

/// The nominal times in `(since, now]`, sorted into fires and skips by `policy`. `since` is the
/// last nominal time already handled (fired or skipped); for a schedule that has none yet, the
/// time it was created or resumed. Nothing at or before `since` is ever due again, so calling
/// this twice with the same `since` gives the same answer, and after storing the fires the
/// engine passes `now` (or the last fire) as the next `since`.
pub fn due_fires(
    spec: &CronSpec,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: MissedFirePolicy,
) -> DueFires {
    let keep = match policy {
        MissedFirePolicy::Skip | MissedFirePolicy::FireOnce => 1,
        MissedFirePolicy::FireAll { limit } => limit as usize,
    };
    let mut latest: VecDeque<DateTime<Utc>> = VecDeque::with_capacity(keep.min(1024));
    let mut due: u64 = 0;
    let mut cursor = since;
    while let Some(nominal) = spec.next_after(cursor).filter(|n| *n <= now) {
        due += 1;
        latest.push_back(nominal);
        if latest.len() > keep {
            latest.pop_front();
        }
        cursor = nominal;
        if due == MAX_COUNTED {
            cursor = cursor.max(now - Duration::days(1));
        }
    }
    let fires: Vec<DateTime<Utc>> = match policy {
        MissedFirePolicy::Skip => latest
            .into_iter()
            .filter(|n| now - *n <= Duration::seconds(MISFIRE_THRESHOLD_SECS))
            .collect(),
        MissedFirePolicy::FireOnce | MissedFirePolicy::FireAll { .. } => latest.into(),
    };
    let skipped = due.saturating_sub(fires.len() as u64);
    DueFires {
        skipped: u32::try_from(skipped).unwrap_or(u32::MAX),
        fires,
        next: spec.next_after(now.max(since)),
    }
}

/// A delay in `[0, max]` for one fire of one schedule, the same on every node and every run
/// (FNV-1a of the schedule id and the nominal time), so that schedules due at the same minute
/// spread out and a retry keeps its slot. Millisecond resolution; zero when `max` is not
/// positive.
pub fn jitter_for(schedule_id: &str, nominal: DateTime<Utc>, max: Duration) -> Duration {
    let Ok(span) = u64::try_from(max.num_milliseconds()) else {
        return Duration::zero();
    };
    if span == 0 {
        return Duration::zero();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = schedule_id
        .as_bytes()
        .iter()
        .copied()
        .chain([0xff])
        .chain(nominal.timestamp().to_le_bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV's low bits mix poorly; finish with splitmix64's avalanche.
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    let millis = hash % (span + 1);
    Duration::milliseconds(i64::try_from(millis).unwrap_or(0))
}
