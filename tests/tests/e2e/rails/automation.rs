//! Automation modes over gRPC: auto sends only low-risk drafts, high-risk ones wait; the
//! global pause holds everything; off sends nothing; opening to auto needs the pass rate (or
//! force with a reason); rollback restores earlier modes; replay reports differences and sends
//! and writes nothing; risk policies load as versions and a malformed one never replaces the
//! running one.

use aijia_orchestrator::clock::Clock;
use aijia_proto::v1 as pb;
use aijia_tests::requests::{ev, unique};
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app, spawn_app_with};
use tonic::Code;

use super::support::*;

fn stamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

on_both_stores!(a_low_risk_draft_in_auto_mode_is_sent_at_once);
async fn a_low_risk_draft_in_auto_mode_is_sent_at_once(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "standard_faq", "auto").await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(
        (draft.status.as_str(), draft.route.as_str()),
        ("sent", "send")
    );
    assert_eq!(draft.route_reason, "low_risk");
    assert_eq!(draft.automation_policy_version, 2);
    assert_eq!(draft.case_state, "waiting_for_customer", "the case goes on");
    let tasks = tasks_of(&app, &case.id).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].activity, "send_message");
    let submitted = events_of(&app, &case.id, "draft_submitted").await;
    assert_eq!(submitted[0].1["routing"]["route"], "send");
    assert_eq!(submitted[0].1["mode"], "auto");
    app.stop().await;
}

on_both_stores!(a_high_risk_draft_in_auto_mode_still_waits_for_review);
async fn a_high_risk_draft_in_auto_mode_still_waits_for_review(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "standard_faq", "auto").await;
    let case = material_case(&app).await;
    for (n, text) in [
        HIGH_RISK,
        "亲，这个情况我们这边可以给您申请赔偿，具体金额等专员核实后再跟您说哈～",
    ]
    .into_iter()
    .enumerate()
    {
        let draft = submit(&app, &case.id, text, "standard_faq").await;
        assert_eq!(draft.number, n as u32 + 1);
        assert_eq!(draft.status, "pending_review", "{text}");
        assert_eq!(draft.route_reason, "high_risk");
        assert_eq!(draft.case_state, "waiting_for_review");
        assert!(!draft.assessment.unwrap().findings.is_empty());
    }
    assert!(
        tasks_of(&app, &case.id).await.is_empty(),
        "nothing left without a human"
    );
    // The gate's decision, with both policy versions, is in the history.
    let gate: Vec<_> = app
        .history(&case.id)
        .await
        .into_iter()
        .filter(|e| e.event_type == "draft_submitted")
        .collect();
    assert_eq!(gate.len(), 2);
    assert!(gate[0].effects_json.contains("risk_gate"));
    assert!(gate[0].effects_json.contains("automation policy v2"));
    app.stop().await;
}

on_both_stores!(the_global_pause_holds_everything);
async fn the_global_pause_holds_everything(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "standard_faq", "auto").await;
    force_mode(&app, "material_received_confirmation", "auto").await;
    let case = material_case(&app).await;
    let paused = pause(&app, true).await;
    assert!(paused.changed);
    assert!(paused.policy.as_ref().unwrap().paused);
    // Pausing again changes nothing.
    assert!(!pause(&app, true).await.changed);

    app.send(&case.id, ev::material_provided(&["invoice", "photo"], ""))
        .await;
    let draft = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(
        (draft.status.as_str(), draft.route_reason.as_str()),
        ("pending_review", "paused")
    );
    assert!(
        tasks_of(&app, &case.id).await.is_empty(),
        "while paused nothing goes out on its own"
    );
    let held = list_reviews(
        &app,
        pb::ListReviewsRequest {
            status: "held".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].activity, "confirm_material_received");
    assert_eq!(held[0].route_reason, "paused");
    // The case first caught up with the policy version in force, as its history shows.
    let applied = events_of(&app, &case.id, "automation_policy_applied").await;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].0, "system:automation");
    assert_eq!(applied[0].1["policy"]["paused"], true);

    // Resumed: automation runs again.
    pause(&app, false).await;
    let other = material_case(&app).await;
    app.send(&other.id, ev::material_provided(&["invoice", "photo"], ""))
        .await;
    assert_eq!(
        activities_of(&app, &other.id).await,
        vec!["confirm_material_received"]
    );
    let sent = submit(&app, &other.id, LOW_RISK, "standard_faq").await;
    assert_eq!(sent.status, "sent");
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(off_sends_nothing);
async fn off_sends_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "standard_faq", "off").await;
    force_mode(&app, "material_received_confirmation", "off").await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(
        (draft.status.as_str(), draft.route.as_str()),
        ("held", "hold")
    );
    assert_eq!(
        draft.case_state, "waiting_for_customer",
        "a held draft is not reviewed"
    );
    app.send(&case.id, ev::material_provided(&["invoice", "photo"], ""))
        .await;
    assert!(tasks_of(&app, &case.id).await.is_empty());
    assert!(
        list_reviews(&app, pb::ListReviewsRequest::default())
            .await
            .is_empty()
    );
    let held = list_reviews(
        &app,
        pb::ListReviewsRequest {
            status: "held".into(),
            case_id: case.id.clone(),
            ..Default::default()
        },
    )
    .await;
    let reasons: Vec<&str> = held.iter().map(|d| d.route_reason.as_str()).collect();
    assert_eq!(reasons, vec!["mode_off", "mode_off"]);
    app.stop().await;
}

on_both_stores!(opening_to_auto_needs_the_pass_rate_or_force_with_a_reason);
async fn opening_to_auto_needs_the_pass_rate_or_force_with_a_reason(db: TestDb) {
    let app = spawn_app_with(&db, |c| c.rails.opening.min_sample = 3).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let refused = try_set_mode(&app, "standard_faq", "auto", false, "looks fine").await;
    expect_status(
        refused,
        Code::FailedPrecondition,
        &[
            "standard_faq",
            "pass rate",
            "not measured",
            "90.0%",
            "3 decided",
            "force",
        ],
    );
    assert_eq!(
        policy(&app).await.policy.unwrap().version,
        1,
        "nothing changed"
    );

    // Two approved unchanged, one edited: 66.7% is below the bar.
    let case = material_case(&app).await;
    for n in 0..3 {
        let draft = submit(&app, &case.id, LOW_RISK_ZH, "standard_faq").await;
        if n == 2 {
            reviews(&app)
                .edit_draft(pb::EditDraftRequest {
                    request_id: unique("edit"),
                    draft_id: draft.draft_id.clone(),
                    reviewer_id: "rev-1".into(),
                    text: "营业时间：周一至周六 9:00-18:00。".into(),
                    note: String::new(),
                })
                .await
                .expect("EditDraft");
        } else {
            approve(&app, &draft.draft_id, "rev-1")
                .await
                .expect("approve");
        }
    }
    let rates = policy(&app).await.pass_rates;
    let faq = rates
        .iter()
        .find(|r| r.action_type == "standard_faq")
        .unwrap();
    assert_eq!((faq.approved_unchanged, faq.edited, faq.decided), (2, 1, 3));
    assert!(!faq.meets_bar);
    expect_status(
        try_set_mode(&app, "standard_faq", "auto", false, "looks fine").await,
        Code::FailedPrecondition,
        &["66.7%", "2 of 3"],
    );
    // Force needs a reason; with one it opens, recorded as forced.
    expect_status(
        try_set_mode(&app, "standard_faq", "auto", true, " ").await,
        Code::InvalidArgument,
        &["reason"],
    );
    let forced = try_set_mode(
        &app,
        "standard_faq",
        "auto",
        true,
        "pilot approved by ops lead",
    )
    .await
    .expect("forced open");
    let v = forced.policy.unwrap();
    assert!(v.forced);
    assert!(v.change.contains("forced"), "{}", v.change);
    assert_eq!(v.actor.unwrap().id, "olga");

    // Another type meets the bar with three approvals unchanged, and opens without force.
    for _ in 0..3 {
        let draft = submit(&app, &case.id, LOW_RISK, "state_update").await;
        approve(&app, &draft.draft_id, "rev-1")
            .await
            .expect("approve");
    }
    let opened = try_set_mode(&app, "state_update", "auto", false, "pass rate met")
        .await
        .expect("the pass rate opens it");
    assert_eq!(mode_of(&opened, "state_update"), "auto");
    assert!(!opened.policy.unwrap().forced);
    // Unknown names are refused naming the field.
    expect_status(
        try_set_mode(&app, "faq", "auto", true, "x").await,
        Code::InvalidArgument,
        &["action_type", "standard_faq"],
    );
    expect_status(
        try_set_mode(&app, "standard_faq", "sometimes", true, "x").await,
        Code::InvalidArgument,
        &["mode", "off, review, auto"],
    );
    app.stop().await;
}

on_both_stores!(rollback_restores_the_previous_modes_and_history_lists_every_version);
async fn rollback_restores_the_previous_modes_and_history_lists_every_version(db: TestDb) {
    let app = spawn_app(&db).await;
    force_mode(&app, "standard_faq", "auto").await; // v2
    force_mode(&app, "progress_reminder", "off").await; // v3
    pause(&app, true).await; // v4
    let rollback = |to: i64, rid: &str| pb::RollbackPolicyRequest {
        request_id: rid.to_owned(),
        to_version: to,
        actor: operator(),
        reason: "bad week".into(),
    };
    let resp = automation(&app)
        .rollback_policy(rollback(2, "rb-1"))
        .await
        .expect("RollbackPolicy")
        .into_inner();
    let v5 = resp.policy.clone().unwrap();
    assert_eq!(v5.version, 5);
    assert!(!v5.paused);
    assert_eq!(mode_of(&resp, "standard_faq"), "auto");
    assert_eq!(mode_of(&resp, "progress_reminder"), "review");
    assert_eq!(v5.change, "rollback to v2");
    // Retried: the same answer, no new version.
    let again = automation(&app)
        .rollback_policy(rollback(2, "rb-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.policy.unwrap().version, 5);
    expect_status(
        automation(&app).rollback_policy(rollback(99, "rb-2")).await,
        Code::NotFound,
        &["99"],
    );
    // All the way back to the initial policy.
    let initial = automation(&app)
        .rollback_policy(rollback(1, "rb-3"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mode_of(&initial, "standard_faq"), "review");

    let history = automation(&app)
        .list_policy_versions(pb::ListPolicyVersionsRequest::default())
        .await
        .expect("ListPolicyVersions")
        .into_inner();
    let versions: Vec<i64> = history.versions.iter().map(|v| v.version).collect();
    assert_eq!(versions, vec![6, 5, 4, 3, 2, 1]);
    let v4 = &history.versions[2];
    assert!(v4.paused);
    assert_eq!(v4.change, "paused");
    assert_eq!(v4.reason, "incident");
    assert_eq!(v4.actor.as_ref().unwrap().role, "operator");
    assert_eq!(history.versions[5].actor.as_ref().unwrap().role, "system");
    assert_eq!(history.risk_activations.len(), 1);
    app.stop().await;
}

on_both_stores!(replay_reports_differences_and_sends_and_writes_nothing);
async fn replay_reports_differences_and_sends_and_writes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let from = app.clock.now();
    let case = material_case(&app).await;
    // Under the initial policy (review), three drafts: low-risk, high-risk, customer-specific.
    for text in [LOW_RISK, HIGH_RISK, CUSTOMER_SPECIFIC] {
        let draft = submit(&app, &case.id, text, "progress_reminder").await;
        assert_eq!(draft.status, "pending_review");
    }
    app.clock.advance(chrono::TimeDelta::minutes(5));
    let to = app.clock.now();
    let opened = force_mode(&app, "progress_reminder", "auto").await;
    let version = opened.policy.unwrap().version;
    let before = app.get(&case.id).await;
    let history_before = app.history(&case.id).await.len();

    let report = automation(&app)
        .replay_policy(pb::ReplayPolicyRequest {
            from: Some(stamp(from)),
            to: Some(stamp(to)),
            risk_policy_version: String::new(),
            automation_policy_version: version,
        })
        .await
        .expect("ReplayPolicy")
        .into_inner();
    assert_eq!(report.automation_policy_version, version);
    assert_eq!(report.drafts.len(), 3);
    let recorded = report.recorded.unwrap();
    let replayed = report.replayed.unwrap();
    assert_eq!((recorded.sent, recorded.reviewed, recorded.held), (0, 3, 0));
    assert_eq!((replayed.sent, replayed.reviewed, replayed.held), (1, 2, 0));
    assert_eq!(report.changed, 1);
    let changed: Vec<&pb::ReplayedDraft> = report.drafts.iter().filter(|d| d.changed).collect();
    assert_eq!(changed[0].draft_id, format!("{}/1", case.id));
    assert_eq!(
        (
            changed[0].route.as_str(),
            changed[0].replayed_route.as_str()
        ),
        ("review", "send")
    );
    let specific = &report.drafts[2];
    assert!(
        specific
            .replayed_categories
            .contains(&"uncertain_identity".to_owned())
    );

    // Under the versions the drafts saw, nothing changes.
    let same = automation(&app)
        .replay_policy(pb::ReplayPolicyRequest {
            from: Some(stamp(from)),
            to: Some(stamp(to)),
            risk_policy_version: String::new(),
            automation_policy_version: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(same.changed, 0);

    // Nothing was sent, nothing written.
    assert!(tasks_of(&app, &case.id).await.is_empty());
    assert_eq!(app.history(&case.id).await.len(), history_before);
    assert_eq!(app.get(&case.id).await.version, before.version);
    expect_status(
        automation(&app)
            .replay_policy(pb::ReplayPolicyRequest {
                from: Some(stamp(to)),
                to: Some(stamp(from)),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["to", "after"],
    );
    expect_status(
        automation(&app)
            .replay_policy(pb::ReplayPolicyRequest {
                from: Some(stamp(from)),
                to: Some(stamp(to)),
                risk_policy_version: "no-such".into(),
                automation_policy_version: 0,
            })
            .await,
        Code::NotFound,
        &["no-such"],
    );
    app.stop().await;
}

fn load(toml: &str, rid: &str) -> pb::LoadRiskPolicyRequest {
    pb::LoadRiskPolicyRequest {
        request_id: rid.to_owned(),
        policy_toml: toml.to_owned(),
        actor: operator(),
        reason: "new wording".into(),
    }
}

/// The shipped risk policy file.
const BUILTIN_POLICY: &str = include_str!("../../../../workflows/policy/risk.toml");

/// The shipped policy under another version, with one more rule that holds "documents".
fn stricter() -> String {
    let renamed: Vec<String> = BUILTIN_POLICY
        .lines()
        .map(|line| {
            if line.starts_with("version = ") {
                "version = \"test-stricter.1\"".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect();
    renamed.join("\n")
        + "\n[[rules]]\nid = \"documents.en\"\ncategory = \"privacy\"\nterms = [\"documents\"]\n"
}

on_both_stores!(a_malformed_risk_policy_is_refused_and_never_replaces_the_running_one);
async fn a_malformed_risk_policy_is_refused_and_never_replaces_the_running_one(db: TestDb) {
    let app = spawn_app(&db).await;
    let running = policy(&app).await.risk_policy.unwrap();
    assert!(running.rules > 0);
    expect_status(
        automation(&app)
            .load_risk_policy(load("version = ", "bad-1"))
            .await,
        Code::InvalidArgument,
        &["policy_toml", "not valid TOML"],
    );
    let unknown_category = BUILTIN_POLICY.to_owned()
        + "\n[[rules]]\nid = \"x.y\"\ncategory = \"rudeness\"\nterms = [\"x\"]\n";
    expect_status(
        automation(&app)
            .load_risk_policy(load(&unknown_category, "bad-2"))
            .await,
        Code::InvalidArgument,
        &["x.y", "rudeness", "refund"],
    );
    expect_status(
        automation(&app).load_risk_policy(load("", "bad-3")).await,
        Code::InvalidArgument,
        &["policy_toml"],
    );
    // Same version, other rules: refused too.
    let same_version_other_rules = BUILTIN_POLICY.to_owned()
        + "\n[[rules]]\nid = \"documents.en\"\ncategory = \"privacy\"\nterms = [\"documents\"]\n";
    expect_status(
        automation(&app)
            .load_risk_policy(load(&same_version_other_rules, "bad-4"))
            .await,
        Code::AlreadyExists,
        &[running.version.as_str(), "new `version`"],
    );
    assert_eq!(
        policy(&app).await.risk_policy.unwrap().version,
        running.version
    );
    force_mode(&app, "standard_faq", "auto").await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(draft.status, "sent", "the running policy still judges");
    assert_eq!(
        draft.assessment.unwrap().risk_policy_version,
        running.version
    );

    // A good new version takes over; the next draft is judged by it.
    let loaded = automation(&app)
        .load_risk_policy(load(&stricter(), "good-1"))
        .await
        .expect("LoadRiskPolicy")
        .into_inner();
    assert!(loaded.changed);
    assert_eq!(
        loaded.risk_policy.as_ref().unwrap().version,
        "test-stricter.1"
    );
    let held = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(held.status, "pending_review");
    assert_eq!(
        held.assessment.unwrap().risk_policy_version,
        "test-stricter.1"
    );
    // Loading the shipped file again makes it the running one again.
    let back = automation(&app)
        .load_risk_policy(load(BUILTIN_POLICY, "good-2"))
        .await
        .unwrap()
        .into_inner();
    assert!(back.changed);
    assert_eq!(
        policy(&app).await.risk_policy.unwrap().version,
        running.version
    );
    app.stop().await;
}

#[path = "../../../../workflows/tests/risk/sized.rs"]
mod sized;

on_both_stores!(a_hostile_risk_policy_is_refused_naming_the_rule_and_the_limit);
async fn a_hostile_risk_policy_is_refused_naming_the_rule_and_the_limit(db: TestDb) {
    let app = spawn_app(&db).await;
    let running = policy(&app).await.risk_policy.unwrap();
    // 13 KB that once took a node 11 s and 1.2 GB to compile.
    let hostile = sized::hostile("hostile-1");
    let started = std::time::Instant::now();
    expect_status(
        automation(&app)
            .load_risk_policy(load(&hostile, "hostile-1"))
            .await,
        Code::InvalidArgument,
        &["wide.1", "at most 512 KiB per regex", "(?-u:\\w)"],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "refused in {:?}",
        started.elapsed()
    );
    assert_eq!(
        policy(&app).await.risk_policy.unwrap().version,
        running.version
    );
    let at_limits = sized::at_limits("at-limits-1");
    let loaded = automation(&app)
        .load_risk_policy(load(&at_limits, "at-limits-1"))
        .await
        .expect("a policy at the limits loads")
        .into_inner();
    assert!(loaded.changed);
    let loaded = loaded.risk_policy.unwrap();
    assert_eq!(loaded.version, "at-limits-1");
    assert_eq!(loaded.rules as usize, aijia_workflows::risk::MAX_RULES);
    app.stop().await;
}

on_both_stores!(every_server_on_the_database_follows_a_policy_change_at_once);
async fn every_server_on_the_database_follows_a_policy_change_at_once(db: TestDb) {
    let one = spawn_app(&db).await;
    let two = spawn_app(&db).await;
    let case = material_case(&one).await;
    // The first draft compiles the shipped policy in server two.
    assert_eq!(
        submit(&two, &case.id, LOW_RISK, "standard_faq")
            .await
            .status,
        "pending_review"
    );
    force_mode(&one, "standard_faq", "auto").await;
    assert_eq!(
        submit(&two, &case.id, LOW_RISK, "standard_faq")
            .await
            .status,
        "sent"
    );
    pause(&one, true).await;
    assert_eq!(
        submit(&two, &case.id, LOW_RISK, "standard_faq")
            .await
            .route_reason,
        "paused"
    );
    pause(&one, false).await;
    automation(&one)
        .load_risk_policy(load(&stricter(), "load-1"))
        .await
        .expect("LoadRiskPolicy");
    let judged = submit(&two, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(
        judged.assessment.unwrap().risk_policy_version,
        "test-stricter.1"
    );
    assert_eq!(judged.status, "pending_review");
    two.stop().await;
    one.stop().await;
}
