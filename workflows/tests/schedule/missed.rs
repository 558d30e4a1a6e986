//! Which fires are due after a simulated downtime under each missed-fire policy, and jitter.

use std::collections::BTreeSet;

use aijia_workflows::schedule::{
    DueFires, MISFIRE_THRESHOLD_SECS, MissedFirePolicy, ScheduleError, due_fires, jitter_for,
};
use chrono::Duration;
use serde_json::json;

use crate::{spec, utc};

/// An hourly schedule last handled at 00:00 whose node came back at `now`: 01:00 .. 05:00 due.
fn after_downtime(now_secs_past_five: i64, policy: MissedFirePolicy) -> DueFires {
    let hourly = spec("0 * * * *", "UTC");
    let now = utc(2026, 3, 1, 5, 0, 0) + Duration::seconds(now_secs_past_five);
    due_fires(&hourly, utc(2026, 3, 1, 0, 0, 0), now, policy)
}

fn hours(list: &[u32]) -> Vec<chrono::DateTime<chrono::Utc>> {
    list.iter().map(|h| utc(2026, 3, 1, *h, 0, 0)).collect()
}

#[test]
fn skip_fires_only_what_is_on_time() {
    assert_eq!(
        after_downtime(30, MissedFirePolicy::Skip),
        DueFires {
            fires: hours(&[5]),
            skipped: 4,
            next: Some(utc(2026, 3, 1, 6, 0, 0)),
        }
    );
    assert_eq!(
        after_downtime(MISFIRE_THRESHOLD_SECS + 1, MissedFirePolicy::Skip),
        DueFires {
            fires: vec![],
            skipped: 5,
            next: Some(utc(2026, 3, 1, 6, 0, 0)),
        }
    );
}

#[test]
fn fire_once_fires_the_latest_missed_time_however_late() {
    assert_eq!(
        after_downtime(1800, MissedFirePolicy::FireOnce),
        DueFires {
            fires: hours(&[5]),
            skipped: 4,
            next: Some(utc(2026, 3, 1, 6, 0, 0)),
        }
    );
}

#[test]
fn fire_all_fires_the_latest_up_to_its_limit_oldest_first() {
    assert_eq!(
        after_downtime(1800, MissedFirePolicy::FireAll { limit: 3 }),
        DueFires {
            fires: hours(&[3, 4, 5]),
            skipped: 2,
            next: Some(utc(2026, 3, 1, 6, 0, 0)),
        }
    );
    assert_eq!(
        after_downtime(1800, MissedFirePolicy::FireAll { limit: 10 }),
        DueFires {
            fires: hours(&[1, 2, 3, 4, 5]),
            skipped: 0,
            next: Some(utc(2026, 3, 1, 6, 0, 0)),
        }
    );
}

#[test]
fn without_downtime_every_policy_fires_the_one_due_time() {
    let hourly = spec("0 * * * *", "UTC");
    for policy in [
        MissedFirePolicy::Skip,
        MissedFirePolicy::FireOnce,
        MissedFirePolicy::FireAll { limit: 5 },
    ] {
        let due = due_fires(
            &hourly,
            utc(2026, 3, 1, 4, 0, 0),
            utc(2026, 3, 1, 5, 0, 2),
            policy,
        );
        assert_eq!(due.fires, hours(&[5]), "{policy:?}");
        assert_eq!(due.skipped, 0);
        // Handled through 05:00: asked again, nothing more is due.
        let again = due_fires(
            &hourly,
            utc(2026, 3, 1, 5, 0, 0),
            utc(2026, 3, 1, 5, 0, 3),
            policy,
        );
        assert_eq!(
            again,
            DueFires {
                fires: vec![],
                skipped: 0,
                next: Some(utc(2026, 3, 1, 6, 0, 0))
            }
        );
    }
}

#[test]
fn a_long_downtime_of_a_frequent_schedule_is_counted_and_fires_the_latest() {
    let every_minute = spec("* * * * *", "UTC");
    let since = utc(2026, 3, 1, 0, 0, 0);
    let now = since + Duration::days(3) + Duration::seconds(10);
    let due = due_fires(
        &every_minute,
        since,
        now,
        MissedFirePolicy::FireAll { limit: 2 },
    );
    assert_eq!(
        due.fires,
        vec![now - Duration::seconds(70), now - Duration::seconds(10)]
    );
    assert_eq!(due.skipped, 3 * 24 * 60 - 2);
    assert_eq!(due.next, Some(now + Duration::seconds(50)));
}

#[test]
fn a_fire_all_limit_of_zero_is_refused_and_policies_have_a_json_shape() {
    assert!(matches!(
        MissedFirePolicy::FireAll { limit: 0 }.validate(),
        Err(ScheduleError::Policy(_))
    ));
    assert!(MissedFirePolicy::FireOnce.validate().is_ok());
    assert_eq!(
        serde_json::to_value(MissedFirePolicy::FireAll { limit: 3 }).expect("serializes"),
        json!({ "type": "fire_all", "limit": 3 })
    );
    assert_eq!(
        serde_json::from_value::<MissedFirePolicy>(json!({ "type": "skip" })).expect("reads"),
        MissedFirePolicy::Skip
    );
}

#[test]
fn jitter_is_deterministic_within_bounds_and_spreads_schedules() {
    let nominal = utc(2026, 3, 9, 1, 0, 0);
    let max = Duration::seconds(30);
    let mut seen = BTreeSet::new();
    for i in 0..200 {
        let id = format!("schedule-{i}");
        let jitter = jitter_for(&id, nominal, max);
        assert!(
            jitter >= Duration::zero() && jitter <= max,
            "{id}: {jitter}"
        );
        assert_eq!(
            jitter,
            jitter_for(&id, nominal, max),
            "the same on every call"
        );
        seen.insert(jitter.num_milliseconds());
    }
    assert!(
        seen.len() > 150,
        "spread over the window: {} distinct",
        seen.len()
    );
    let next_day = nominal + Duration::days(1);
    assert_ne!(
        jitter_for("schedule-1", nominal, max),
        jitter_for("schedule-1", next_day, max),
        "each fire draws its own"
    );
    assert_eq!(jitter_for("a", nominal, Duration::zero()), Duration::zero());
    assert_eq!(
        jitter_for("a", nominal, Duration::seconds(-5)),
        Duration::zero()
    );
}
