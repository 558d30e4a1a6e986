//! The activities the state machines emit, under review mode (the default: AI drafts, a human
//! sends), and the review queue as an index: every status, filter and page without reading
//! cases that have nothing to review.

use aijia_orchestrator::clock::Clock;
use aijia_proto::v1 as pb;
use aijia_tests::requests::{ev, unique};
use aijia_tests::{Backend, TestApp, TestDb, on_both_stores, spawn_app};
use chrono::TimeDelta;

use super::support::*;

fn reject(draft_id: &str, reviewer: &str, reason: &str) -> pb::RejectDraftRequest {
    pb::RejectDraftRequest {
        request_id: unique("reject"),
        draft_id: draft_id.to_owned(),
        reviewer_id: reviewer.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A material collection case whose last material just arrived, and the confirmation it
/// queued for review.
async fn confirmation_in_review(app: &TestApp) -> (pb::Case, pb::Draft) {
    let case = material_case(app).await;
    let change = app
        .send(&case.id, ev::material_provided(&["invoice", "photo"], ""))
        .await;
    let case = change.case.expect("a change carries its case");
    let queued = list_reviews(
        app,
        pb::ListReviewsRequest {
            case_id: case.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(queued.len(), 1, "{queued:#?}");
    (case, queued.into_iter().next().expect("one draft"))
}

on_both_stores!(review_mode_queues_templated_activities_until_a_reviewer_sends_them);
async fn review_mode_queues_templated_activities_until_a_reviewer_sends_them(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &["service"]).await;
    let (case, draft) = confirmation_in_review(&app).await;
    // The workflow goes on; only the confirmation waits.
    assert_eq!(case.state, "received");
    assert!(!case.review_needed);
    assert_eq!(
        (
            draft.origin.as_str(),
            draft.activity.as_str(),
            draft.status.as_str()
        ),
        ("activity", "confirm_material_received", "pending_review")
    );
    assert_eq!(
        (
            draft.action_type.as_str(),
            draft.route.as_str(),
            draft.route_reason.as_str()
        ),
        ("material_received_confirmation", "review", "mode_review")
    );
    assert!(
        tasks_of(&app, &case.id).await.is_empty(),
        "nothing goes out before a human decides"
    );

    approve(&app, &draft.draft_id, "rev-1")
        .await
        .expect("ApproveDraft");
    assert_eq!(
        activities_of(&app, &case.id).await,
        vec!["confirm_material_received"]
    );
    let pending = list_reviews(&app, pb::ListReviewsRequest::default()).await;
    assert!(pending.is_empty(), "{pending:#?}");

    // Rejected: it never runs.
    let (other, draft) = confirmation_in_review(&app).await;
    reviews(&app)
        .reject_draft(reject(&draft.draft_id, "rev-1", "the photo is unreadable"))
        .await
        .expect("RejectDraft");
    assert!(tasks_of(&app, &other.id).await.is_empty());

    // Both human decisions count toward the type's pass rate (one of two approved).
    let rates = policy(&app).await.pass_rates;
    let rate = rates
        .iter()
        .find(|r| r.action_type == "material_received_confirmation")
        .expect("a pass rate per type");
    assert_eq!(
        (rate.approved_unchanged, rate.rejected, rate.decided),
        (1, 1, 2)
    );
    assert!(app.replay(&case.id).await.matches);
    assert!(app.replay(&other.id).await.matches);
    app.stop().await;
}

on_both_stores!(approvals_of_templated_activities_open_their_type_to_auto);
async fn approvals_of_templated_activities_open_their_type_to_auto(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let bar = policy(&app).await.opening_bar.expect("the bar");
    // Just enough approvals, all of confirmations queued in review mode.
    for _ in 0..bar.min_sample {
        let (_, draft) = confirmation_in_review(&app).await;
        approve(&app, &draft.draft_id, "rev-1")
            .await
            .expect("ApproveDraft");
    }
    let opened = try_set_mode(
        &app,
        "material_received_confirmation",
        "auto",
        false,
        "reviewers approved every confirmation",
    )
    .await
    .expect("the pass rate opens it");
    assert_eq!(mode_of(&opened, "material_received_confirmation"), "auto");
    // From now on a confirmation runs on its own.
    let case = material_case(&app).await;
    app.send(&case.id, ev::material_provided(&["invoice", "photo"], ""))
        .await;
    assert_eq!(
        activities_of(&app, &case.id).await,
        vec!["confirm_material_received"]
    );
    app.stop().await;
}

on_both_stores!(a_completion_writeback_queued_at_the_end_is_decided_after_it);
async fn a_completion_writeback_queued_at_the_end_is_decided_after_it(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let case = app
        .open(aijia_tests::requests::start("partner_cooperation_request"))
        .await;
    app.send(&case.id, ev::partner_done("booked")).await;
    let done = app.send(&case.id, ev::complete("all set")).await;
    assert_eq!(done.case.expect("a case").state, "completed");
    let queued = list_reviews(
        &app,
        pb::ListReviewsRequest {
            case_id: case.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(queued[0].activity, "writeback_completion_feedback");
    assert_eq!(queued[0].case_state, "completed");
    approve(&app, &queued[0].draft_id, "rev-1")
        .await
        .expect("ApproveDraft");
    assert_eq!(
        activities_of(&app, &case.id).await,
        vec!["writeback_completion_feedback"]
    );
    app.stop().await;
}

on_both_stores!(the_queue_pages_every_status_by_age_with_ties_broken_once);
async fn the_queue_pages_every_status_by_age_with_ties_broken_once(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &["billing"]).await;
    // Seven drafts submitted at the same instant (the clock stands still) on four cases.
    let mut submitted = Vec::new();
    for _ in 0..4 {
        let case = material_case(&app).await;
        submitted.push(submit(&app, &case.id, HIGH_RISK, "standard_faq").await);
        if submitted.len() < 7 {
            submitted.push(submit(&app, &case.id, HIGH_RISK, "state_update").await);
        }
    }
    assert_eq!(submitted.len(), 7);
    let mut expected: Vec<(String, u32)> = submitted
        .iter()
        .map(|d| (d.case_id.clone(), d.number))
        .collect();
    expected.sort();

    // Pages of two: every draft once, in (submitted at, case, number) order.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = reviews(&app)
            .list_reviews(pb::ListReviewsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("ListReviews")
            .into_inner();
        assert!(page.drafts.len() <= 2);
        seen.extend(page.drafts.iter().map(|d| (d.case_id.clone(), d.number)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, expected);

    // Decided drafts are found by their status, and their age stops at the decision.
    app.clock.advance(TimeDelta::minutes(30));
    approve(&app, &submitted[0].draft_id, "rev-1")
        .await
        .expect("approve");
    app.clock.advance(TimeDelta::minutes(60));
    reviews(&app)
        .reject_draft(reject(&submitted[1].draft_id, "rev-1", "wrong tone"))
        .await
        .expect("reject");
    reviews(&app)
        .transfer_review(pb::TransferReviewRequest {
            request_id: unique("transfer"),
            draft_id: submitted[2].draft_id.clone(),
            reviewer_id: "rev-1".into(),
            to_team: "billing".into(),
            ..Default::default()
        })
        .await
        .expect("transfer");
    let by_status = |status: &str, older_than_minutes: i64| pb::ListReviewsRequest {
        status: status.into(),
        older_than: (older_than_minutes > 0).then_some(prost_types::Duration {
            seconds: older_than_minutes * 60,
            nanos: 0,
        }),
        ..Default::default()
    };
    let approved = list_reviews(&app, by_status("approved", 0)).await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].draft_id, submitted[0].draft_id);
    assert_eq!(approved[0].age.as_ref().map(|a| a.seconds), Some(30 * 60));
    // Waited 30 minutes for its decision: not older than 31, though 90 have passed.
    assert!(
        list_reviews(&app, by_status("approved", 31))
            .await
            .is_empty()
    );
    assert_eq!(list_reviews(&app, by_status("approved", 30)).await.len(), 1);
    let rejected = list_reviews(&app, by_status("rejected", 90)).await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].draft_id, submitted[1].draft_id);
    // Still pending: the other five, all 90 minutes old; one of them is the team's.
    assert_eq!(
        list_reviews(&app, by_status("pending_review", 90))
            .await
            .len(),
        5
    );
    assert!(
        list_reviews(&app, by_status("pending_review", 91))
            .await
            .is_empty()
    );
    let team = list_reviews(
        &app,
        pb::ListReviewsRequest {
            team: "billing".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(team.len(), 1);
    assert_eq!(team[0].draft_id, submitted[2].draft_id);
    let unassigned = list_reviews(
        &app,
        pb::ListReviewsRequest {
            unassigned: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(unassigned.len(), 4);
    app.stop().await;
}

/// One row of the `drafts` index, times in whole milliseconds.
type IndexRow = (
    uuid::Uuid,
    i64,
    String,
    String,
    bool,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The migration's backfill statement: the `INSERT` that rebuilds the index from the cases.
fn backfill(migration: &'static str) -> &'static str {
    let start = migration
        .find("INSERT INTO drafts")
        .expect("the migration backfills");
    let end = start + migration[start..].find(';').expect("a statement end");
    &migration[start..end]
}

async fn index_rows(db: &TestDb) -> Vec<IndexRow> {
    let rows = match db.backend() {
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT case_id, number::bigint, status, action_type, templated, reason,
                        automation_version,
                        assignee_kind, assignee,
                        (extract(epoch FROM submitted_at) * 1000)::bigint,
                        (extract(epoch FROM decided_at) * 1000)::bigint,
                        waited_us / 1000
                 FROM drafts ORDER BY case_id, number",
            )
            .fetch_all(&mut db.pg().await)
            .await
        }
        Backend::Sqlite => sqlx::query_as(
            "SELECT case_id, number, status, action_type, templated, reason, automation_version,
                        assignee_kind, assignee, submitted_at / 1000, decided_at / 1000,
                        waited_us / 1000
                 FROM drafts ORDER BY case_id, number",
        )
        .fetch_all(&mut db.sqlite_conn().await)
        .await,
    };
    rows.expect("reading the drafts index")
}

on_both_stores!(the_migration_backfill_rebuilds_the_index_the_commits_write);
async fn the_migration_backfill_rebuilds_the_index_the_commits_write(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &["billing"]).await;
    let (_, confirmation) = confirmation_in_review(&app).await;
    let case = material_case(&app).await;
    let first = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let second = submit(&app, &case.id, HIGH_RISK, "state_update").await;
    app.clock.advance(TimeDelta::milliseconds(90_123));
    approve(&app, &first.draft_id, "rev-1")
        .await
        .expect("approve");
    approve(&app, &confirmation.draft_id, "rev-1")
        .await
        .expect("approve");
    reviews(&app)
        .transfer_review(pb::TransferReviewRequest {
            request_id: unique("transfer"),
            draft_id: second.draft_id.clone(),
            reviewer_id: "rev-1".into(),
            to_team: "billing".into(),
            ..Default::default()
        })
        .await
        .expect("transfer");
    app.stop().await;

    let written = index_rows(&db).await;
    assert_eq!(written.len(), 3, "{written:#?}");
    db.execute("DELETE FROM drafts").await;
    db.execute(backfill(match db.backend() {
        Backend::Postgres => include_str!("../../../../migrations/postgres/0005_drafts.sql"),
        Backend::Sqlite => include_str!("../../../../migrations/sqlite/0005_drafts.sql"),
    }))
    .await;
    let rebuilt = index_rows(&db).await;
    // SQLite's backfill goes through julianday(), exact to about a millisecond.
    let close = |a: i64, b: i64| (a - b).abs() <= 1;
    assert_eq!(rebuilt.len(), written.len());
    for (w, r) in written.iter().zip(&rebuilt) {
        assert_eq!(
            (&w.0, w.1, &w.2, &w.3, w.4, &w.5, w.6, &w.7, &w.8),
            (&r.0, r.1, &r.2, &r.3, r.4, &r.5, r.6, &r.7, &r.8)
        );
        assert!(close(w.9, r.9), "{w:?} vs {r:?}");
        assert_eq!(w.10.is_some(), r.10.is_some());
        assert!(
            w.10.zip(r.10).is_none_or(|(a, b)| close(a, b)),
            "{w:?} vs {r:?}"
        );
        assert!(
            w.11.zip(r.11).is_none_or(|(a, b)| close(a, b)),
            "{w:?} vs {r:?}"
        );
    }
}

on_both_stores!(replay_shows_what_opening_a_templated_type_to_auto_would_send);
async fn replay_shows_what_opening_a_templated_type_to_auto_would_send(db: TestDb) {
    let app = spawn_app(&db).await;
    let from = app.clock.now();
    let (case, queued) = confirmation_in_review(&app).await;
    let faq = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    app.clock.advance(TimeDelta::minutes(5));
    let to = app.clock.now();
    let opened = force_mode(&app, "material_received_confirmation", "auto").await;
    let version = opened.policy.expect("a policy").version;
    let history_before = app.history(&case.id).await.len();

    let replay = |automation_policy_version: i64| {
        let app = &app;
        async move {
            automation(app)
                .replay_policy(pb::ReplayPolicyRequest {
                    from: Some(prost_types::Timestamp {
                        seconds: from.timestamp(),
                        nanos: 0,
                    }),
                    to: Some(prost_types::Timestamp {
                        seconds: to.timestamp() + 1,
                        nanos: 0,
                    }),
                    risk_policy_version: String::new(),
                    automation_policy_version,
                })
                .await
                .expect("ReplayPolicy")
                .into_inner()
        }
    };
    let report = replay(version).await;
    let ids: Vec<&str> = report.drafts.iter().map(|d| d.draft_id.as_str()).collect();
    assert_eq!(ids, vec![queued.draft_id.as_str(), faq.draft_id.as_str()]);
    let activity = &report.drafts[0];
    assert_eq!(activity.origin, "activity");
    assert_eq!(
        (activity.route.as_str(), activity.route_reason.as_str()),
        ("review", "mode_review")
    );
    assert_eq!(
        (
            activity.replayed_route.as_str(),
            activity.replayed_route_reason.as_str()
        ),
        ("send", "mode_auto")
    );
    assert!(activity.changed);
    assert!(activity.verdict.is_empty() && activity.replayed_verdict.is_empty());
    assert_eq!(report.drafts[1].origin, "submitted");
    assert!(!report.drafts[1].changed, "standard_faq stays in review");
    assert_eq!(report.changed, 1);
    let replayed = report.replayed.expect("totals");
    assert_eq!((replayed.sent, replayed.reviewed), (1, 1));
    // Under the version it saw nothing changes, and replaying wrote and sent nothing.
    assert_eq!(replay(1).await.changed, 0);
    assert_eq!(app.history(&case.id).await.len(), history_before);
    assert!(tasks_of(&app, &case.id).await.is_empty());
    app.stop().await;
}
