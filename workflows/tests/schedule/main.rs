//! Cron schedules through the crate's public API: expressions, time zones and DST, missed
//! fires after downtime, jitter, and what a fire does.

mod actions;
mod dst;
mod expressions;
mod missed;

use chrono::{DateTime, TimeZone, Utc};

/// A UTC instant, written out in full.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("a valid UTC time")
}

pub fn spec(expression: &str, zone: &str) -> aijia_workflows::schedule::CronSpec {
    aijia_workflows::schedule::CronSpec::parse(expression, zone)
        .unwrap_or_else(|e| panic!("{expression} in {zone}: {e}"))
}
