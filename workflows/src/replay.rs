//! Rebuilding a case from its history, to check it against what the store holds.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::event::Event;
use crate::machines::{decide, start};
use crate::model::Case;
use crate::policy::TimerPolicy;

/// One stored history event, as replay needs it.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub seq: u64,
    pub event: &'a Event,
    pub at: DateTime<Utc>,
    /// The case the store recorded right after this event.
    pub case_after: &'a Case,
}

/// Where a replay first parted ways with the stored history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The event at which the difference showed; `None` when only the final case differs.
    pub seq: Option<u64>,
    /// The first field (or `state`, or `event`) that differs.
    pub field: String,
    pub stored: String,
    pub replayed: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// Replay reproduced every recorded state and the stored case exactly.
    Match {
        events: u64,
    },
    Mismatch(Mismatch),
}

/// Fold `history` through the state machines and compare every step, and then the stored
/// case, with what was recorded. The timer policy does not matter here: it moves timers,
/// never the case, and a fired timer carries its own action in the event.
pub fn replay(history: &[Recorded<'_>], stored: &Case) -> ReplayOutcome {
    let policy = TimerPolicy::empty();
    let mut case: Option<Case> = None;
    for entry in history {
        let step = match (&case, entry.event) {
            (None, Event::Started(new)) => Ok(start(new, entry.at, &policy)),
            (None, other) => {
                return mismatch(Some(entry.seq), "event", "started", other.kind());
            }
            (Some(_), Event::Started(_)) => {
                return mismatch(Some(entry.seq), "event", "anything but started", "started");
            }
            (Some(current), event) => decide(current, event, entry.at, &policy),
        };
        match step {
            Ok(decision) => {
                if let Some((field, s, r)) = first_difference(entry.case_after, &decision.case) {
                    return mismatch(Some(entry.seq), &field, &s, &r);
                }
                case = Some(decision.case);
            }
            Err(refusal) => {
                return mismatch(Some(entry.seq), "event", "accepted", &refusal.to_string());
            }
        }
    }
    let Some(replayed) = case else {
        return mismatch(None, "history", "at least the started event", "no events");
    };
    match first_difference(stored, &replayed) {
        None => ReplayOutcome::Match {
            events: history.len() as u64,
        },
        Some((field, s, r)) => mismatch(None, &field, &s, &r),
    }
}

fn mismatch(seq: Option<u64>, field: &str, stored: &str, replayed: &str) -> ReplayOutcome {
    ReplayOutcome::Mismatch(Mismatch {
        seq,
        field: field.to_owned(),
        stored: stored.to_owned(),
        replayed: replayed.to_owned(),
    })
}

/// The first top-level field in which two cases differ, with both values as JSON text.
fn first_difference(stored: &Case, replayed: &Case) -> Option<(String, String, String)> {
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (
        serde_json::to_value(stored).unwrap_or_default(),
        serde_json::to_value(replayed).unwrap_or_default(),
    ) else {
        return None;
    };
    a.iter().find_map(|(field, value)| {
        let other = b.get(field).cloned().unwrap_or_default();
        (value != &other).then(|| (field.clone(), value.to_string(), other.to_string()))
    })
}
