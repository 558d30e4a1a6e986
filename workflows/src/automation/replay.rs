//! The policy replay report, as a pure rule: past drafts (submitted ones and the templated
//! activities held or queued for review) routed again under one risk policy and one automation
//! version, each beside what was recorded, with the totals and how many changed. The engine
//! loads the drafts of a window and calls [`report`]; nothing here reads a database.

use chrono::{DateTime, Utc};

use super::{
    ActionType, AutomationPolicy, ReplayedDraft, Route, Routing, replay_activity, replay_draft,
};
use crate::review::DraftSubmitted;
use crate::risk::{RiskPolicy, Verdict};

/// The most drafts one replay covers; a window with more is cut to its oldest ones.
pub const REPLAY_LIMIT: u32 = 10_000;

/// A submitted draft as its case's history recorded it.
#[derive(Debug, Clone, Copy)]
pub struct PastDraft<'a, C> {
    pub case_id: C,
    pub at: DateTime<Utc>,
    pub submitted: &'a DraftSubmitted,
}

/// A templated activity that automation held or queued for review.
#[derive(Debug, Clone)]
pub struct PastActivity<C> {
    pub case_id: C,
    pub number: u32,
    pub at: DateTime<Utc>,
    pub action_type: ActionType,
    pub routing: Routing,
    pub automation_version: i64,
}

/// One replayed draft: a submitted one, judged again by the risk gate and routed again, or a
/// templated activity (held or queued for review), routed again.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayEntry<C> {
    pub case_id: C,
    pub number: u32,
    pub at: DateTime<Utc>,
    pub action_type: ActionType,
    pub templated: bool,
    pub recorded: Routing,
    /// The gate's verdict and risk policy version as recorded; `None` for a templated
    /// activity, which has no text to judge.
    pub recorded_gate: Option<(Verdict, String)>,
    pub recorded_automation_version: i64,
    pub replayed: Routing,
    /// The gate's judgement under the replayed risk policy; `None` for a templated activity.
    pub replayed_gate: Option<ReplayedDraft>,
    pub changed: bool,
}

/// Sent / reviewed / held counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteTotals {
    pub sent: u64,
    pub reviewed: u64,
    pub held: u64,
}

impl RouteTotals {
    fn add(&mut self, route: Route) {
        match route {
            Route::Send => self.sent += 1,
            Route::Review => self.reviewed += 1,
            Route::Hold => self.held += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayReport<C> {
    pub risk_version: String,
    pub automation_version: i64,
    pub entries: Vec<ReplayEntry<C>>,
    pub recorded: RouteTotals,
    pub replayed: RouteTotals,
    pub changed: u64,
    pub truncated: bool,
}

/// The replay of `drafts` and `activities` under `risk` (stored as `risk_version`) and
/// automation version `automation_version` (`automation`): the oldest [`REPLAY_LIMIT`] of
/// them, oldest first (ties by case, then number), `truncated` when there were more.
pub fn report<C: Ord + Clone>(
    drafts: &[PastDraft<'_, C>],
    activities: &[PastActivity<C>],
    risk: &RiskPolicy,
    risk_version: String,
    automation: &AutomationPolicy,
    automation_version: i64,
) -> ReplayReport<C> {
    let limit = REPLAY_LIMIT as usize;
    let truncated = drafts.len() + activities.len() > limit;
    let submitted = drafts.iter().take(limit).map(|past| {
        let s = past.submitted;
        let replayed = replay_draft(s, Some(risk), Some(automation));
        ReplayEntry {
            case_id: past.case_id.clone(),
            number: s.draft,
            at: past.at,
            action_type: s.action_type,
            templated: false,
            recorded: s.routing,
            recorded_gate: Some((s.assessment.verdict, s.assessment.policy_version.clone())),
            recorded_automation_version: s.automation_policy_version,
            replayed: replayed.routing,
            replayed_gate: Some(replayed),
            changed: false,
        }
    });
    let templated = activities.iter().map(|past| ReplayEntry {
        case_id: past.case_id.clone(),
        number: past.number,
        at: past.at,
        action_type: past.action_type,
        templated: true,
        recorded: past.routing,
        recorded_gate: None,
        recorded_automation_version: past.automation_version,
        replayed: replay_activity(past.action_type, past.routing, automation),
        replayed_gate: None,
        changed: false,
    });
    let mut entries: Vec<ReplayEntry<C>> = submitted.chain(templated).collect();
    entries.sort_by(|a, b| (a.at, &a.case_id, a.number).cmp(&(b.at, &b.case_id, b.number)));
    entries.truncate(limit);
    let mut report = ReplayReport {
        risk_version,
        automation_version,
        entries,
        recorded: RouteTotals::default(),
        replayed: RouteTotals::default(),
        changed: 0,
        truncated,
    };
    for entry in &mut report.entries {
        entry.changed = entry.replayed.route != entry.recorded.route;
        report.recorded.add(entry.recorded.route);
        report.replayed.add(entry.replayed.route);
        report.changed += u64::from(entry.changed);
    }
    report
}
