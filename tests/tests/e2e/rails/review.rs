//! The review queue and the five human decisions over gRPC: approve, edit, reject, transfer,
//! take over (and hand back); idempotent decisions, decided drafts refused, unknown reviewers
//! refused, bad drafts refused without a write.

use aijia_proto::v1 as pb;
use aijia_tests::requests::unique;
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app};
use chrono::TimeDelta;
use tonic::Code;

use super::support::*;
use crate::support::assert_unchanged;

on_both_stores!(approve_sends_the_draft_and_resumes_the_case);
async fn approve_sends_the_draft_and_resumes_the_case(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    assert_eq!(draft.status, "pending_review");
    assert_eq!(draft.draft_id, format!("{}/1", case.id));
    assert_eq!(draft.case_state, "waiting_for_review");
    let assessment = draft.assessment.as_ref().expect("assessed");
    assert_eq!(assessment.verdict, "review");
    assert!(!assessment.risk_policy_version.is_empty());
    assert!(
        tasks_of(&app, &case.id).await.is_empty(),
        "nothing sent yet"
    );

    let queue = list_reviews(&app, pb::ListReviewsRequest::default()).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].draft_id, draft.draft_id);

    let req = pb::ApproveDraftRequest {
        request_id: unique("approve"),
        draft_id: draft.draft_id.clone(),
        reviewer_id: "rev-1".into(),
        note: "checked with billing".into(),
    };
    let resp = reviews(&app)
        .approve_draft(req.clone())
        .await
        .expect("ApproveDraft")
        .into_inner();
    let approved = resp.draft.expect("a draft");
    assert_eq!(approved.status, "approved");
    let record = approved.decision.as_ref().expect("a decision");
    assert_eq!(
        (record.reviewer_id.as_str(), record.outcome.as_str()),
        ("rev-1", "approved")
    );
    let change = resp.change.expect("a change");
    let after = change.case.expect("a case");
    assert_eq!(
        after.state, "waiting_for_customer",
        "the last decision resumes the case"
    );
    assert!(!after.review_needed);

    // Sent through send_message, in the same commit.
    let tasks = tasks_of(&app, &case.id).await;
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].activity, "send_message");
    let input: serde_json::Value = serde_json::from_str(&tasks[0].input_json).unwrap();
    assert_eq!(input["text"], HIGH_RISK);
    assert_eq!(input["to"], "customer");

    // The same request again: the first answer, nothing new.
    let again = reviews(&app)
        .approve_draft(req)
        .await
        .expect("retry")
        .into_inner();
    assert!(again.change.as_ref().unwrap().duplicate);
    assert_eq!(again.change.as_ref().unwrap().event_seq, change.event_seq);
    assert_eq!(tasks_of(&app, &case.id).await.len(), 1);
    // Another decision on the decided draft is refused.
    let status = expect_status(
        approve(&app, &draft.draft_id, "rev-1").await,
        Code::FailedPrecondition,
        &["already approved", "rev-1"],
    );
    assert!(status.message().contains("draft 1"));
    let status = expect_status(
        reviews(&app)
            .reject_draft(pb::RejectDraftRequest {
                request_id: unique("reject"),
                draft_id: draft.draft_id.clone(),
                reviewer_id: "rev-1".into(),
                reason: "too late".into(),
            })
            .await,
        Code::FailedPrecondition,
        &["already approved"],
    );
    drop(status);
    assert_unchanged(&app, &after).await;

    // Who acted is in the history: the drafting agent, then the reviewer.
    let submitted = events_of(&app, &case.id, "draft_submitted").await;
    assert_eq!(submitted[0].0, "reception:reception-agent");
    assert_eq!(submitted[0].1["routing"]["route"], "review");
    assert_eq!(submitted[0].1["automation_policy_version"], 1);
    let decided = events_of(&app, &case.id, "draft_decided").await;
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0].0, "reviewer:rev-1");
    assert_eq!(decided[0].1["decision"]["kind"], "approve");
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(edit_sends_the_edited_text_and_keeps_both);
async fn edit_sends_the_edited_text_and_keeps_both(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let softer = "We are checking your refund request and will reply within one working day.";
    let resp = reviews(&app)
        .edit_draft(pb::EditDraftRequest {
            request_id: unique("edit"),
            draft_id: draft.draft_id.clone(),
            reviewer_id: "rev-1".into(),
            text: softer.into(),
            note: "no promises".into(),
        })
        .await
        .expect("EditDraft")
        .into_inner();
    let edited = resp.draft.expect("a draft");
    assert_eq!(edited.status, "edited");
    assert_eq!(edited.text, HIGH_RISK, "the drafted text is kept");
    assert_eq!(edited.decision.as_ref().unwrap().edited_text, softer);
    let tasks = tasks_of(&app, &case.id).await;
    let input: serde_json::Value = serde_json::from_str(&tasks[0].input_json).unwrap();
    assert_eq!(input["text"], softer, "the edited text is sent");
    // GetReview shows the same.
    let shown = reviews(&app)
        .get_review(pb::GetReviewRequest {
            draft_id: draft.draft_id.clone(),
        })
        .await
        .expect("GetReview")
        .into_inner()
        .draft
        .unwrap();
    assert_eq!(shown.decision.unwrap().edited_text, softer);
    app.stop().await;
}

on_both_stores!(reject_needs_a_reason_and_sends_nothing);
async fn reject_needs_a_reason_and_sends_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let mut req = pb::RejectDraftRequest {
        request_id: unique("reject"),
        draft_id: draft.draft_id.clone(),
        reviewer_id: "rev-1".into(),
        reason: "  ".into(),
    };
    expect_status(
        reviews(&app).reject_draft(req.clone()).await,
        Code::InvalidArgument,
        &["reason"],
    );
    req.reason = "promises money we cannot promise".into();
    let resp = reviews(&app)
        .reject_draft(req)
        .await
        .expect("RejectDraft")
        .into_inner();
    let rejected = resp.draft.unwrap();
    assert_eq!(rejected.status, "rejected");
    assert_eq!(
        rejected.decision.unwrap().note,
        "promises money we cannot promise"
    );
    assert_eq!(
        resp.change.unwrap().case.unwrap().state,
        "waiting_for_customer"
    );
    assert!(
        tasks_of(&app, &case.id).await.is_empty(),
        "a rejected draft sends nothing"
    );
    app.stop().await;
}

on_both_stores!(transfer_assigns_the_draft_and_the_queue_filters_by_assignment);
async fn transfer_assigns_the_draft_and_the_queue_filters_by_assignment(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    add_reviewer(&app, "rev-2", &["billing"]).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let transfer = |to_reviewer: &str, to_team: &str| pb::TransferReviewRequest {
        request_id: unique("transfer"),
        draft_id: draft.draft_id.clone(),
        reviewer_id: "rev-1".into(),
        to_reviewer: to_reviewer.into(),
        to_team: to_team.into(),
        note: "billing question".into(),
    };
    expect_status(
        reviews(&app).transfer_review(transfer("nobody", "")).await,
        Code::InvalidArgument,
        &["to_reviewer", "nobody"],
    );
    expect_status(
        reviews(&app).transfer_review(transfer("", "legal")).await,
        Code::InvalidArgument,
        &["to_team", "legal", "billing"],
    );
    expect_status(
        reviews(&app).transfer_review(transfer("", "")).await,
        Code::InvalidArgument,
        &["to_reviewer"],
    );
    let resp = reviews(&app)
        .transfer_review(transfer("", "billing"))
        .await
        .expect("TransferReview")
        .into_inner();
    let moved = resp.draft.unwrap();
    assert_eq!(moved.status, "pending_review", "a transfer decides nothing");
    assert_eq!(moved.assigned_team, "billing");
    assert_eq!(
        resp.change.unwrap().case.unwrap().state,
        "waiting_for_review"
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
    let unassigned = list_reviews(
        &app,
        pb::ListReviewsRequest {
            unassigned: true,
            ..Default::default()
        },
    )
    .await;
    assert!(unassigned.is_empty());
    // On to one reviewer, who then decides.
    reviews(&app)
        .transfer_review(transfer("rev-2", ""))
        .await
        .expect("TransferReview to a reviewer");
    let mine = list_reviews(
        &app,
        pb::ListReviewsRequest {
            reviewer: "rev-2".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(mine.len(), 1);
    approve(&app, &draft.draft_id, "rev-2")
        .await
        .expect("approve");
    assert!(
        list_reviews(&app, pb::ListReviewsRequest::default())
            .await
            .is_empty()
    );
    app.stop().await;
}

on_both_stores!(take_over_stops_automation_on_the_case_until_handed_back);
async fn take_over_stops_automation_on_the_case_until_handed_back(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-9", &[]).await;
    force_mode(&app, "standard_faq", "auto").await;
    let case = material_case(&app).await;

    let resp = reviews(&app)
        .take_over_case(pb::TakeOverCaseRequest {
            request_id: unique("take"),
            case_id: case.id.clone(),
            reviewer_id: "rev-9".into(),
            reason: "VIP customer".into(),
        })
        .await
        .expect("TakeOverCase")
        .into_inner();
    let taken = resp.change.unwrap().case.unwrap();
    assert_eq!(taken.owner, "rev-9");
    let taken_events = events_of(&app, &case.id, "case_taken_over").await;
    assert_eq!(taken_events[0].0, "reviewer:rev-9");

    // A low-risk draft in auto mode goes to the human, not out.
    let draft = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(draft.status, "pending_review");
    assert_eq!(draft.route_reason, "taken_over");
    assert_eq!(draft.assigned_reviewer, "rev-9");
    assert_eq!(draft.taken_over_by, "rev-9");
    // The templated confirmation of the last materials is held too.
    approve(&app, &draft.draft_id, "rev-9")
        .await
        .expect("approve");
    app.send(
        &case.id,
        aijia_tests::requests::ev::material_provided(&["invoice", "photo"], ""),
    )
    .await;
    assert_eq!(
        activities_of(&app, &case.id).await,
        vec!["send_message"],
        "only the human's approval went out"
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
    assert_eq!(held.len(), 1, "{held:#?}");
    assert_eq!(held[0].activity, "confirm_material_received");
    assert_eq!(held[0].route_reason, "taken_over");

    // Taking it over again is refused; handing back restores the owner and automation.
    let again = reviews(&app)
        .take_over_case(pb::TakeOverCaseRequest {
            request_id: unique("take"),
            case_id: case.id.clone(),
            reviewer_id: "rev-9".into(),
            reason: "again".into(),
        })
        .await;
    expect_status(
        again,
        Code::FailedPrecondition,
        &["already taken over by rev-9"],
    );
    let back = reviews(&app)
        .hand_back_case(pb::HandBackCaseRequest {
            request_id: unique("back"),
            case_id: case.id.clone(),
            reviewer_id: "rev-9".into(),
            note: "done".into(),
        })
        .await
        .expect("HandBackCase")
        .into_inner()
        .change
        .unwrap()
        .case
        .unwrap();
    assert_eq!(back.owner, "alice");
    let sent = submit(&app, &case.id, LOW_RISK, "standard_faq").await;
    assert_eq!(sent.status, "sent");
    // The held confirmation can still be released by a human.
    let released = approve(&app, &held[0].draft_id, "rev-9")
        .await
        .expect("release");
    assert_eq!(released.draft.unwrap().status, "approved");
    assert_eq!(
        activities_of(&app, &case.id).await,
        vec!["send_message", "send_message", "confirm_material_received"]
    );
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(a_decision_by_an_unknown_reviewer_is_refused_and_changes_nothing);
async fn a_decision_by_an_unknown_reviewer_is_refused_and_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let before = app.get(&case.id).await;
    expect_status(
        approve(&app, &draft.draft_id, "mallory").await,
        Code::PermissionDenied,
        &["mallory", "reviewers"],
    );
    let take = reviews(&app)
        .take_over_case(pb::TakeOverCaseRequest {
            request_id: unique("take"),
            case_id: case.id.clone(),
            reviewer_id: "mallory".into(),
            reason: "mine".into(),
        })
        .await;
    expect_status(take, Code::PermissionDenied, &["mallory"]);
    // A deactivated reviewer is refused the same way.
    reviews(&app)
        .add_reviewer(pb::AddReviewerRequest {
            reviewer_id: "rev-old".into(),
            display_name: "Old".into(),
            teams: vec![],
            active: Some(false),
            actor: operator(),
        })
        .await
        .expect("AddReviewer inactive");
    expect_status(
        approve(&app, &draft.draft_id, "rev-old").await,
        Code::PermissionDenied,
        &["rev-old"],
    );
    assert_unchanged(&app, &before).await;
    assert!(tasks_of(&app, &case.id).await.is_empty());
    let listed = reviews(&app)
        .list_reviewers(pb::ListReviewersRequest {})
        .await
        .unwrap()
        .into_inner()
        .reviewers;
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].active);
    assert_eq!(listed[0].added_by, "operator:olga");
    app.stop().await;
}

on_both_stores!(bad_drafts_are_refused_with_the_field_and_write_nothing);
async fn bad_drafts_are_refused_with_the_field_and_write_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let case = material_case(&app).await;
    let mut bad = draft_request(&case.id, LOW_RISK, "faq");
    expect_status(
        try_submit(&app, bad.clone()).await,
        Code::InvalidArgument,
        &[
            "action_type",
            "\"faq\"",
            "standard_faq",
            "authorized_verification",
        ],
    );
    bad = draft_request(&case.id, " \u{200B} ", "standard_faq");
    expect_status(
        try_submit(&app, bad).await,
        Code::InvalidArgument,
        &["text", "no text"],
    );
    bad = draft_request(&case.id, LOW_RISK, "standard_faq");
    bad.audience = "everyone".into();
    expect_status(
        try_submit(&app, bad).await,
        Code::InvalidArgument,
        &["audience", "public_group"],
    );
    bad = draft_request(&case.id, LOW_RISK, "standard_faq");
    bad.author = None;
    expect_status(
        try_submit(&app, bad).await,
        Code::InvalidArgument,
        &["author"],
    );
    bad = draft_request(&case.id, LOW_RISK, "standard_faq");
    bad.author = Some(aijia_tests::requests::actor("robot", "r2"));
    expect_status(
        try_submit(&app, bad).await,
        Code::InvalidArgument,
        &["author.role"],
    );
    bad = draft_request("not-a-case", LOW_RISK, "standard_faq");
    expect_status(
        try_submit(&app, bad).await,
        Code::InvalidArgument,
        &["case_id"],
    );
    expect_status(
        approve(&app, "no-slash", "rev-1").await,
        Code::InvalidArgument,
        &["draft_id"],
    );
    assert_unchanged(&app, &case).await;
    assert!(tasks_of(&app, &case.id).await.is_empty());
    // A draft on a closed case is refused as such.
    let cancelled = app
        .cancel(aijia_tests::requests::cancel(&case.id, "duplicate"))
        .await
        .case
        .unwrap();
    expect_status(
        try_submit(&app, draft_request(&case.id, LOW_RISK, "standard_faq")).await,
        Code::FailedPrecondition,
        &["cancelled"],
    );
    assert_unchanged(&app, &cancelled).await;
    app.stop().await;
}

on_both_stores!(the_queue_is_oldest_first_with_ages_and_filters);
async fn the_queue_is_oldest_first_with_ages_and_filters(db: TestDb) {
    let app = spawn_app(&db).await;
    let first_case = material_case(&app).await;
    let second_case = material_case(&app).await;
    let old = submit(&app, &second_case.id, HIGH_RISK, "standard_faq").await;
    app.clock.advance(TimeDelta::minutes(90));
    let newer = submit(&app, &first_case.id, LOW_RISK_ZH, "state_update").await;
    app.clock.advance(TimeDelta::minutes(10));
    let queue = list_reviews(&app, pb::ListReviewsRequest::default()).await;
    let ids: Vec<&str> = queue.iter().map(|d| d.draft_id.as_str()).collect();
    assert_eq!(ids, vec![old.draft_id.as_str(), newer.draft_id.as_str()]);
    assert_eq!(queue[0].age.as_ref().unwrap().seconds, 100 * 60);
    assert_eq!(queue[1].age.as_ref().unwrap().seconds, 10 * 60);
    let older = list_reviews(
        &app,
        pb::ListReviewsRequest {
            older_than: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(older.len(), 1);
    let by_type = list_reviews(
        &app,
        pb::ListReviewsRequest {
            action_type: "state_update".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_type.len(), 1);
    assert_eq!(by_type[0].draft_id, newer.draft_id);
    // Paging, one at a time.
    let page = reviews(&app)
        .list_reviews(pb::ListReviewsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.drafts.len(), 1);
    let next = reviews(&app)
        .list_reviews(pb::ListReviewsRequest {
            page_size: 1,
            page_token: page.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.drafts[0].draft_id, newer.draft_id);
    assert!(next.next_page_token.is_empty());
    expect_status(
        reviews(&app)
            .list_reviews(pb::ListReviewsRequest {
                status: "lost".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["status", "pending_review"],
    );
    app.stop().await;
}

on_both_stores!(the_generic_review_signals_still_work_beside_drafts);
async fn the_generic_review_signals_still_work_beside_drafts(db: TestDb) {
    use aijia_tests::requests::ev;
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    let case = material_case(&app).await;
    app.send(&case.id, ev::request_review("odd request")).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    approve(&app, &draft.draft_id, "rev-1")
        .await
        .expect("approve");
    assert_eq!(
        app.get(&case.id).await.state,
        "waiting_for_review",
        "the generic review still waits for its decision"
    );
    let resumed = app.send(&case.id, ev::review_decided(true, "fine")).await;
    assert_eq!(resumed.case.unwrap().state, "waiting_for_customer");
    assert!(app.replay(&case.id).await.matches);
    app.stop().await;
}

on_both_stores!(two_reviewers_deciding_at_once_send_the_draft_once);
async fn two_reviewers_deciding_at_once_send_the_draft_once(db: TestDb) {
    let app = spawn_app(&db).await;
    add_reviewer(&app, "rev-1", &[]).await;
    add_reviewer(&app, "rev-2", &[]).await;
    let case = material_case(&app).await;
    let draft = submit(&app, &case.id, HIGH_RISK, "standard_faq").await;
    let (one, two) = tokio::join!(
        approve(&app, &draft.draft_id, "rev-1"),
        approve(&app, &draft.draft_id, "rev-2")
    );
    let outcomes = [one, two];
    let won: Vec<_> = outcomes.iter().filter(|r| r.is_ok()).collect();
    assert_eq!(won.len(), 1, "exactly one decision applies: {outcomes:?}");
    let lost = outcomes.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(lost.code(), Code::FailedPrecondition, "{lost:?}");
    assert!(
        lost.message().contains("already approved"),
        "{}",
        lost.message()
    );
    assert_eq!(activities_of(&app, &case.id).await, vec!["send_message"]);
    assert_eq!(events_of(&app, &case.id, "draft_decided").await.len(), 1);
    app.stop().await;
}
