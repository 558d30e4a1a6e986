//! The policy replay report: submitted drafts and templated activities routed again under one
//! pair of versions, in order, with totals, the changed count and the cut at the limit.

use aijia_workflows::automation::replay::{self, PastActivity, PastDraft, REPLAY_LIMIT};
use aijia_workflows::automation::{
    ActionType, AutomationPolicy, Mode, Route, RouteReason, Routing,
};
use aijia_workflows::review::DraftSubmitted;
use aijia_workflows::{Event, WorkflowType};

use crate::support::*;

fn draft(text: &str, mode: Mode) -> DraftSubmitted {
    let case = started(WorkflowType::ProgressInquiry);
    let Event::DraftSubmitted(d) = submitted(&case, text, ActionType::StandardFaq, mode) else {
        unreachable!()
    };
    *d
}

fn held_reminder(case_id: u32, minute: i64) -> PastActivity<u32> {
    PastActivity {
        case_id,
        number: 1,
        at: at(minute),
        action_type: ActionType::ProgressReminder,
        routing: Routing {
            route: Route::Hold,
            reason: RouteReason::ModeOff,
        },
        automation_version: 1,
    }
}

#[test]
fn the_report_merges_drafts_and_activities_oldest_first_and_counts_what_changed() {
    let low = draft(LOW_RISK, Mode::Review);
    let high = draft(HIGH_RISK, Mode::Review);
    let drafts = [
        PastDraft {
            case_id: 2u32,
            at: at(5),
            submitted: &low,
        },
        PastDraft {
            case_id: 1,
            at: at(5),
            submitted: &high,
        },
    ];
    let activities = [held_reminder(3, 1)];
    let auto = AutomationPolicy::initial()
        .with_mode(ActionType::StandardFaq, Mode::Auto)
        .with_mode(ActionType::ProgressReminder, Mode::Review);

    let report = replay::report(&drafts, &activities, risk(), "r1".into(), &auto, 7);

    assert_eq!(
        (report.risk_version.as_str(), report.automation_version),
        ("r1", 7)
    );
    let order: Vec<_> = report
        .entries
        .iter()
        .map(|e| (e.case_id, e.templated))
        .collect();
    assert_eq!(
        order,
        [(3, true), (1, false), (2, false)],
        "by time, then case"
    );
    let routes: Vec<_> = report
        .entries
        .iter()
        .map(|e| (e.recorded.route, e.replayed.route))
        .collect();
    assert_eq!(
        routes,
        [
            (Route::Hold, Route::Review),
            (Route::Review, Route::Review),
            (Route::Review, Route::Send),
        ]
    );
    let changed: Vec<_> = report.entries.iter().map(|e| e.changed).collect();
    assert_eq!(changed, [true, false, true]);
    assert_eq!(report.changed, 2);
    assert_eq!(
        (
            report.recorded.sent,
            report.recorded.reviewed,
            report.recorded.held
        ),
        (0, 2, 1)
    );
    assert_eq!(
        (
            report.replayed.sent,
            report.replayed.reviewed,
            report.replayed.held
        ),
        (1, 2, 0)
    );
    assert!(!report.truncated);

    let activity = &report.entries[0];
    assert!(activity.recorded_gate.is_none() && activity.replayed_gate.is_none());
    let gated = &report.entries[2];
    assert_eq!(
        gated.recorded_gate,
        Some((
            low.assessment.verdict,
            low.assessment.policy_version.clone()
        ))
    );
    assert_eq!(
        gated.replayed_gate.as_ref().map(|g| g.routing),
        Some(gated.replayed)
    );
}

#[test]
fn the_report_under_the_recorded_versions_changes_nothing() {
    let low = draft(LOW_RISK, Mode::Auto);
    let drafts = [PastDraft {
        case_id: 1u32,
        at: at(1),
        submitted: &low,
    }];
    let recorded = AutomationPolicy::initial()
        .with_mode(ActionType::StandardFaq, Mode::Auto)
        .with_mode(ActionType::ProgressReminder, Mode::Off);
    let report = replay::report(
        &drafts,
        &[held_reminder(2, 2)],
        risk(),
        "r".into(),
        &recorded,
        2,
    );
    assert_eq!(report.entries.len(), 2);
    assert_eq!(report.changed, 0);
    assert!(report.entries.iter().all(|e| !e.changed));
    assert_eq!(report.recorded, report.replayed);
}

#[test]
fn a_window_past_the_limit_keeps_its_oldest_drafts_and_says_it_was_cut() {
    let activities: Vec<_> = (0..=REPLAY_LIMIT)
        .rev()
        .map(|n| held_reminder(n, i64::from(n)))
        .collect();
    let report = replay::report(
        &[],
        &activities,
        risk(),
        "r".into(),
        &AutomationPolicy::initial(),
        1,
    );
    assert!(report.truncated);
    assert_eq!(report.entries.len(), REPLAY_LIMIT as usize);
    assert_eq!(report.entries.first().map(|e| e.case_id), Some(0));
    assert_eq!(
        report.entries.last().map(|e| e.case_id),
        Some(REPLAY_LIMIT - 1)
    );

    let exact = replay::report(
        &[],
        &activities[1..],
        risk(),
        "r".into(),
        &AutomationPolicy::initial(),
        1,
    );
    assert!(!exact.truncated, "exactly the limit is the whole window");
}
