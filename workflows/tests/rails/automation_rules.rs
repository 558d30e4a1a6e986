//! The pure automation rules: the routing table, which templated activities are held, the
//! pass rate and the opening bar, and replaying a draft under other versions.

use aijia_workflows::automation::{
    self, ActionType, AutomationPolicy, Mode, OpeningRule, ReviewTally, Route, RouteReason,
    Routing, activity_route, replay_activity, replay_draft,
};
use aijia_workflows::risk::{RiskPolicy, Verdict};
use aijia_workflows::{Event, WorkflowType, activity};

use crate::support::*;

#[test]
fn only_auto_unpaused_not_taken_over_and_nothing_found_is_sent() {
    for &verdict in Verdict::ALL {
        for &mode in Mode::ALL {
            for paused in [false, true] {
                for taken_over in [false, true] {
                    let routing = automation::route(verdict, mode, paused, taken_over);
                    let sends =
                        mode == Mode::Auto && !paused && !taken_over && verdict == Verdict::Send;
                    assert_eq!(
                        routing.route == Route::Send,
                        sends,
                        "{verdict} {mode} paused={paused} taken_over={taken_over}: {routing:?}"
                    );
                    assert_eq!(routing.route == Route::Hold, mode == Mode::Off);
                    if verdict == Verdict::Review {
                        assert_ne!(routing.route, Route::Send, "high risk never leaves alone");
                    }
                }
            }
        }
    }
}

#[test]
fn each_route_says_why() {
    use Mode::*;
    use Verdict::{Review as R, Send as S};
    let cases = [
        (S, Off, false, false, RouteReason::ModeOff),
        (S, Review, false, false, RouteReason::ModeReview),
        (S, Auto, false, true, RouteReason::TakenOver),
        (S, Auto, true, false, RouteReason::Paused),
        (R, Auto, false, false, RouteReason::HighRisk),
        (S, Auto, false, false, RouteReason::LowRisk),
    ];
    for (verdict, mode, paused, taken_over, reason) in cases {
        assert_eq!(
            automation::route(verdict, mode, paused, taken_over).reason,
            reason
        );
    }
}

#[test]
fn templated_activities_are_held_when_taken_over_paused_or_off_and_reviewed_in_review() {
    let initial = AutomationPolicy::initial();
    let action = ActionType::ProgressReminder;
    let routing = |route, reason| Some(Routing { route, reason });
    assert_eq!(
        activity_route(action, &initial, false),
        routing(Route::Review, RouteReason::ModeReview)
    );
    assert_eq!(
        activity_route(action, &initial, true),
        routing(Route::Hold, RouteReason::TakenOver)
    );
    assert_eq!(
        activity_route(action, &initial.with_paused(true), false),
        routing(Route::Hold, RouteReason::Paused)
    );
    assert_eq!(
        activity_route(action, &initial.with_mode(action, Mode::Off), false),
        routing(Route::Hold, RouteReason::ModeOff)
    );
    let auto = initial.with_mode(action, Mode::Auto);
    assert_eq!(activity_route(action, &auto, false), None);
    assert_eq!(
        activity_route(action, &auto.with_paused(true), false),
        routing(Route::Hold, RouteReason::Paused)
    );
}

#[test]
fn governed_activities_map_to_their_action_types() {
    let map = [
        (
            activity::CONFIRM_MATERIAL_RECEIVED,
            Some(ActionType::MaterialReceivedConfirmation),
        ),
        (
            activity::SEND_PROGRESS_REMINDER,
            Some(ActionType::ProgressReminder),
        ),
        (
            activity::WRITEBACK_COMPLETION_FEEDBACK,
            Some(ActionType::CompletionFeedbackWriteback),
        ),
        (
            activity::CAPTURE_EVIDENCE,
            Some(ActionType::EvidenceCapture),
        ),
        (
            activity::VERIFY_AUTHORIZED,
            Some(ActionType::AuthorizedVerification),
        ),
        (activity::SEND_MESSAGE, None),
    ];
    for (name, action) in map {
        assert_eq!(ActionType::of_activity(name), action, "{name}");
    }
}

#[test]
fn the_initial_policy_has_every_type_in_review_and_changes_keep_the_others() {
    let initial = AutomationPolicy::initial();
    assert!(!initial.paused);
    assert!(initial.all_modes().iter().all(|(_, m)| *m == Mode::Review));
    assert_eq!(initial.all_modes().len(), 7);
    let opened = initial.with_mode(ActionType::StandardFaq, Mode::Auto);
    assert_eq!(opened.mode(ActionType::StandardFaq), Mode::Auto);
    assert_eq!(opened.mode(ActionType::StateUpdate), Mode::Review);
    let names: Vec<&str> = ActionType::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "standard_faq",
            "material_received_confirmation",
            "progress_reminder",
            "state_update",
            "completion_feedback_writeback",
            "evidence_capture",
            "authorized_verification"
        ]
    );
    assert!("faq".parse::<ActionType>().is_err());
}

#[test]
fn the_pass_rate_is_approved_unchanged_over_all_decided() {
    let tally = ReviewTally {
        approved: 18,
        edited: 1,
        rejected: 1,
    };
    assert_eq!(tally.decided(), 20);
    assert_eq!(tally.pass_rate(), Some(0.9));
    assert_eq!(ReviewTally::default().pass_rate(), None);
}

#[test]
fn opening_to_auto_needs_the_bar_over_enough_decisions() {
    let rule = OpeningRule {
        bar: 0.9,
        min_sample: 20,
        window_days: 14,
    };
    let action = ActionType::StandardFaq;
    let meets = ReviewTally {
        approved: 18,
        edited: 2,
        rejected: 0,
    };
    assert!(rule.check(action, &meets).is_ok());
    let below = ReviewTally {
        approved: 17,
        edited: 2,
        rejected: 1,
    };
    let refusal = rule.check(action, &below).expect_err("85% is below 90%");
    let message = refusal.to_string();
    for needle in [
        "standard_faq",
        "85.0%",
        "90.0%",
        "17 of 20",
        "14 days",
        "force",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    let too_few = ReviewTally {
        approved: 5,
        edited: 0,
        rejected: 0,
    };
    assert!(
        rule.check(action, &too_few).is_err(),
        "100% of 5 is not enough decisions"
    );
    let none = rule
        .check(action, &ReviewTally::default())
        .expect_err("nothing decided");
    assert!(none.to_string().contains("not measured"), "{none}");
}

#[test]
fn replaying_a_draft_under_its_own_versions_gives_its_recorded_route() {
    let case = started(WorkflowType::ProgressInquiry);
    for (text, mode) in [
        (LOW_RISK, Mode::Auto),
        (HIGH_RISK, Mode::Auto),
        (CUSTOMER_SPECIFIC, Mode::Auto),
        (LOW_RISK, Mode::Review),
        (LOW_RISK, Mode::Off),
    ] {
        let Event::DraftSubmitted(d) = submitted(&case, text, ActionType::StandardFaq, mode) else {
            unreachable!()
        };
        let recorded = replay_draft(&d, None, None);
        assert_eq!(recorded.routing, d.routing, "{text} in {mode}");
        assert_eq!(recorded.verdict, d.assessment.verdict);
        let policy = AutomationPolicy::initial().with_mode(ActionType::StandardFaq, mode);
        let again = replay_draft(&d, Some(risk()), Some(&policy));
        assert_eq!(
            again,
            replay_draft(&d, Some(risk()), Some(&policy)),
            "deterministic"
        );
        assert_eq!(
            again.routing, d.routing,
            "the same versions give the same route"
        );
    }
}

#[test]
fn replaying_under_other_versions_reports_what_would_change() {
    let case = started(WorkflowType::ProgressInquiry);
    let Event::DraftSubmitted(low) =
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Review)
    else {
        unreachable!()
    };
    let auto = AutomationPolicy::initial().with_mode(ActionType::StandardFaq, Mode::Auto);
    assert_eq!(
        replay_draft(&low, None, Some(&auto)).routing.route,
        Route::Send
    );
    assert_eq!(
        replay_draft(&low, None, Some(&auto.with_paused(true)))
            .routing
            .route,
        Route::Review
    );

    // A stricter risk policy finds what the shipped one did not.
    let stricter_text = risk()
        .to_toml()
        .replacen("version = \"", "version = \"stricter-", 1)
        + "\n[[rules]]\nid = \"documents.en\"\ncategory = \"privacy\"\nterms = [\"documents\"]\n";
    let stricter = RiskPolicy::parse(&stricter_text).expect("a valid stricter policy");
    let Event::DraftSubmitted(sent) =
        submitted(&case, LOW_RISK, ActionType::StandardFaq, Mode::Auto)
    else {
        unreachable!()
    };
    assert_eq!(sent.routing.route, Route::Send);
    let replayed = replay_draft(&sent, Some(&stricter), None);
    assert_eq!(replayed.verdict, Verdict::Review);
    assert_eq!(replayed.routing.route, Route::Review);
    assert!(replayed.risk_policy_version.starts_with("stricter-"));
}

#[test]
fn a_templated_activity_replays_under_another_version_keeping_its_take_over() {
    let action = ActionType::ProgressReminder;
    let queued = Routing {
        route: Route::Review,
        reason: RouteReason::ModeReview,
    };
    let auto = AutomationPolicy::initial().with_mode(action, Mode::Auto);
    assert_eq!(
        replay_activity(action, queued, &auto),
        Routing {
            route: Route::Send,
            reason: RouteReason::ModeAuto
        }
    );
    assert_eq!(
        replay_activity(action, queued, &auto.with_mode(action, Mode::Off)).reason,
        RouteReason::ModeOff
    );
    assert_eq!(
        replay_activity(action, queued, &AutomationPolicy::initial()),
        queued
    );
    let taken = Routing {
        route: Route::Hold,
        reason: RouteReason::TakenOver,
    };
    assert_eq!(replay_activity(action, taken, &auto), taken);
}
