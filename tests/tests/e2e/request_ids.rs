//! Request ids keep their word, on every RPC that takes one: an identical retry gets the
//! first answer again (marked as such), and the same id with a request that differs in any
//! field is refused with INVALID_ARGUMENT naming `request_id` and the earlier kind of request,
//! writing nothing. The table covers every request message of the API that has a
//! `request_id` field (read from the published descriptor set), so a new one cannot be left
//! out.

use std::collections::BTreeSet;

use aijia_proto::v1 as pb;
use aijia_proto::v1::schedule_service_client::ScheduleServiceClient;
use aijia_proto::v1::schedule_spec::Action;
use aijia_tests::requests::{self, SignalExt, actor, ev, unique};
use aijia_tests::{TestApp, TestDb, automate_templated_activities, expect_status, on_both_stores};
use prost::Message;
use tonic::Code;

use crate::activities::support::{CONFIRM, Worker, case_with_task, tasks_client};
use crate::rails::support::{
    LOW_RISK, add_reviewer, automation, draft_request, identity, material_case, operator, policy,
    reviews,
};

/// Sends `$req`, then the identical request again, then the request as `$other` changes it;
/// checks that the retry is the first answer again (`$repeat` over the two answers), that the
/// changed request is refused, and that `$probe` (what the call writes) did not move with the
/// refusal. Records the request message as covered; evaluates to the first answer.
macro_rules! keeps_its_word {
    ($covered:expr, $kind:literal, $req:expr,
     call: |$r:ident| $call:expr,
     other: |$o:ident| $other:expr,
     repeat: |$a:ident, $b:ident| $repeat:expr,
     probe: $probe:expr $(,)?) => {{
        let req = $req;
        let first = async {
            let $r = req.clone();
            $call.await
        }
        .await
        .unwrap_or_else(|s| panic!("{}: {:?}: {}", $kind, s.code(), s.message()))
        .into_inner();
        let again = async {
            let $r = req.clone();
            $call.await
        }
        .await
        .unwrap_or_else(|s| panic!("{} retried: {:?}: {}", $kind, s.code(), s.message()))
        .into_inner();
        {
            let ($a, $b) = (&first, &again);
            assert!(
                $repeat,
                "{}: the retry is the first answer again: {:?}",
                $kind, $b
            );
        }
        let before = $probe;
        let mut changed = req.clone();
        {
            let $o = &mut changed;
            $other;
        }
        expect_status(
            async {
                let $r = changed;
                $call.await
            }
            .await,
            Code::InvalidArgument,
            &[
                "request_id",
                &req.request_id,
                "already used",
                $kind,
                "new request_id",
            ],
        );
        assert_eq!(
            $probe, before,
            "{}: the refused request wrote nothing",
            $kind
        );
        $covered.insert(concat!($kind, "Request").to_owned());
        first
    }};
}

fn schedules(app: &TestApp) -> ScheduleServiceClient<tonic::transport::Channel> {
    ScheduleServiceClient::new(app.channel.clone())
}

fn sweep_spec(cron: &str) -> pb::ScheduleSpec {
    pb::ScheduleSpec {
        cron: cron.to_owned(),
        time_zone: "Asia/Shanghai".to_owned(),
        action: Some(Action::ReminderSweep(pb::ReminderSweepAction {
            waiting_for: "partner".to_owned(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn duplicate(change: Option<&pb::CaseChange>) -> bool {
    change.is_some_and(|c| c.duplicate)
}

fn same_seq(a: Option<&pb::CaseChange>, b: Option<&pb::CaseChange>) -> bool {
    a.map(|c| c.event_seq) == b.map(|c| c.event_seq)
}

/// The `aijia.v1` request messages with a `request_id` field (not answers that report one,
/// such as `HistoryEvent`), from the descriptor set the
/// server publishes for reflection.
fn messages_with_request_ids() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(aijia_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    set.file
        .iter()
        .filter(|f| f.package() == "aijia.v1")
        .flat_map(|f| &f.message_type)
        .filter(|m| m.name().ends_with("Request"))
        .filter(|m| m.field.iter().any(|f| f.name() == "request_id"))
        .map(|m| m.name().to_owned())
        .collect()
}

on_both_stores!(every_rpc_with_a_request_id_answers_retries_and_refuses_reuse);
async fn every_rpc_with_a_request_id_answers_retries_and_refuses_reuse(db: TestDb) {
    let app = aijia_tests::spawn_app(&db).await;
    let mut covered = BTreeSet::new();

    // CaseService.
    let started = keeps_its_word!(covered, "StartCase", requests::start("material_collection"),
        call: |r| app.client().start_case(r),
        other: |o| o.subject = "another subject".into(),
        repeat: |a, b| a.created && !b.created && b.duplicate && a.case == b.case,
        probe: app.list_all(Default::default()).await.len(),
    );
    let case = started.case.expect("a case");
    keeps_its_word!(covered, "SignalCase",
        requests::signal(&case.id, ev::customer_replied("where is it?")),
        call: |r| app.client().signal_case(r),
        other: |o| o.event = Some(ev::customer_replied("where is it now?")),
        repeat: |a, b| duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref()),
        probe: app.history(&case.id).await.len(),
    );
    // Request ids are per case, across its calls: the start's id names the start.
    expect_status(
        app.try_signal(
            requests::signal(&case.id, ev::customer_replied("hi"))
                .request_id(&started_request_id(&app, &case.id).await),
        )
        .await,
        Code::InvalidArgument,
        &["request_id", "already used", "StartCase"],
    );

    let cancelled = app.open(requests::start("progress_inquiry")).await;
    keeps_its_word!(covered, "CancelCase",
        requests::cancel(&cancelled.id, "opened by mistake"),
        call: |r| app.client().cancel_case(r),
        other: |o| o.reason = "customer withdrew".into(),
        repeat: |a, b| duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref()),
        probe: app.history(&cancelled.id).await.len(),
    );

    // ReviewService: one case with four drafts in review, one per decision.
    add_reviewer(&app, "rev-1", &["billing"]).await;
    let drafted = material_case(&app).await;
    let submitted = keeps_its_word!(covered, "SubmitDraft",
        draft_request(&drafted.id, LOW_RISK, "standard_faq"),
        call: |r| reviews(&app).submit_draft(r),
        other: |o| o.text = format!("{LOW_RISK} Thank you."),
        repeat: |a, b| duplicate(b.change.as_ref()) && a.draft == b.draft,
        probe: app.history(&drafted.id).await.len(),
    );
    let mut drafts = vec![submitted.draft.expect("a draft").draft_id];
    for _ in 0..3 {
        let resp = reviews(&app)
            .submit_draft(draft_request(&drafted.id, LOW_RISK, "standard_faq"))
            .await
            .expect("SubmitDraft")
            .into_inner();
        drafts.push(resp.draft.expect("a draft").draft_id);
    }
    let decided = |a: &pb::ReviewDecisionResponse, b: &pb::ReviewDecisionResponse| {
        duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref())
    };
    keeps_its_word!(covered, "ApproveDraft",
        pb::ApproveDraftRequest {
            request_id: unique("approve"),
            draft_id: drafts[0].clone(),
            reviewer_id: "rev-1".into(),
            note: "fine".into(),
        },
        call: |r| reviews(&app).approve_draft(r),
        other: |o| o.note = "fine, really".into(),
        repeat: |a, b| decided(a, b),
        probe: app.history(&drafted.id).await.len(),
    );
    keeps_its_word!(covered, "EditDraft",
        pb::EditDraftRequest {
            request_id: unique("edit"),
            draft_id: drafts[1].clone(),
            reviewer_id: "rev-1".into(),
            text: "Thanks, we have your documents.".into(),
            note: String::new(),
        },
        call: |r| reviews(&app).edit_draft(r),
        other: |o| o.text = "Thanks, we have all your documents.".into(),
        repeat: |a, b| decided(a, b),
        probe: app.history(&drafted.id).await.len(),
    );
    keeps_its_word!(covered, "RejectDraft",
        pb::RejectDraftRequest {
            request_id: unique("reject"),
            draft_id: drafts[2].clone(),
            reviewer_id: "rev-1".into(),
            reason: "says too little".into(),
        },
        call: |r| reviews(&app).reject_draft(r),
        other: |o| o.reason = "says too much".into(),
        repeat: |a, b| decided(a, b),
        probe: app.history(&drafted.id).await.len(),
    );
    keeps_its_word!(covered, "TransferReview",
        pb::TransferReviewRequest {
            request_id: unique("transfer"),
            draft_id: drafts[3].clone(),
            reviewer_id: "rev-1".into(),
            to_team: "billing".into(),
            ..Default::default()
        },
        call: |r| reviews(&app).transfer_review(r),
        other: |o| o.note = "billing knows".into(),
        repeat: |a, b| decided(a, b),
        probe: app.history(&drafted.id).await.len(),
    );
    let owned = material_case(&app).await;
    let took_over = |a: &pb::TakeOverCaseResponse, b: &pb::TakeOverCaseResponse| {
        duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref())
    };
    keeps_its_word!(covered, "TakeOverCase",
        pb::TakeOverCaseRequest {
            request_id: unique("take-over"),
            case_id: owned.id.clone(),
            reviewer_id: "rev-1".into(),
            reason: "VIP customer".into(),
        },
        call: |r| reviews(&app).take_over_case(r),
        other: |o| o.reason = "angry customer".into(),
        repeat: |a, b| took_over(a, b),
        probe: app.history(&owned.id).await.len(),
    );
    keeps_its_word!(covered, "HandBackCase",
        pb::HandBackCaseRequest {
            request_id: unique("hand-back"),
            case_id: owned.id.clone(),
            reviewer_id: "rev-1".into(),
            note: String::new(),
        },
        call: |r| reviews(&app).hand_back_case(r),
        other: |o| o.note = "calm again".into(),
        repeat: |a, b| took_over(a, b),
        probe: app.history(&owned.id).await.len(),
    );

    // IdentityService.
    keeps_its_word!(covered, "ConfirmIdentity",
        pb::ConfirmIdentityRequest {
            request_id: unique("confirm"),
            case_id: case.id.clone(),
            method: "order_number_match".into(),
            evidence: "order 1001".into(),
            actor: operator(),
            status: String::new(),
        },
        call: |r| identity(&app).confirm_identity(r),
        other: |o| o.evidence = "order 1002".into(),
        repeat: |a, b| duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref()),
        probe: app.history(&case.id).await.len(),
    );
    keeps_its_word!(covered, "GetCustomerContext",
        pb::GetCustomerContextRequest {
            request_id: unique("context"),
            case_id: case.id.clone(),
            actor: Some(actor("knowledge", "k-1")),
            purpose: "answer the customer".into(),
            task_id: 0,
        },
        call: |r| identity(&app).get_customer_context(r),
        other: |o| o.purpose = "curiosity".into(),
        repeat: |a, b| a.recorded_seq == b.recorded_seq,
        probe: app.history(&case.id).await.len(),
    );

    // TaskService: a pending task to cancel, a failed one to retry.
    automate_templated_activities(app.channel.clone()).await;
    let (pending_case, pending) = case_with_task(&app).await;
    let acted = |a: &pb::CancelTaskResponse, b: &pb::CancelTaskResponse| {
        duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref())
    };
    keeps_its_word!(covered, "CancelTask",
        pb::CancelTaskRequest {
            request_id: unique("cancel-task"),
            task_id: pending.id,
            reason: "sent by hand".into(),
            actor: operator(),
        },
        call: |r| tasks_client(&app).cancel_task(r),
        other: |o| o.reason = "not needed".into(),
        repeat: |a, b| acted(a, b),
        probe: app.history(&pending_case.id).await.len(),
    );
    let (failed_case, failed) = case_with_task(&app).await;
    let worker = Worker::new(app.channel.clone(), "w");
    let claimed = worker.take(CONFIRM).await;
    worker
        .fail(&claimed.task_token, false, "bad_reply", "nonsense")
        .await;
    keeps_its_word!(covered, "RetryTask",
        pb::RetryTaskRequest {
            request_id: unique("retry-task"),
            task_id: failed.id,
            actor: operator(),
        },
        call: |r| tasks_client(&app).retry_task(r),
        other: |o| o.actor = Some(actor("operator", "someone-else")),
        repeat: |a, b| duplicate(b.change.as_ref()) && same_seq(a.change.as_ref(), b.change.as_ref()),
        probe: app.history(&failed_case.id).await.len(),
    );

    // ScheduleService.
    let created = keeps_its_word!(covered, "CreateSchedule",
        pb::CreateScheduleRequest {
            request_id: unique("create-schedule"),
            name: "partner-nudge".into(),
            spec: Some(sweep_spec("0 9 * * 1-5")),
            paused: false,
        },
        call: |r| schedules(&app).create_schedule(r),
        other: |o| o.spec = Some(sweep_spec("0 10 * * 1-5")),
        repeat: |a, b| a.created && !b.created && a.schedule.as_ref().map(|s| &s.id) == b.schedule.as_ref().map(|s| &s.id),
        probe: schedules(&app).list_schedules(pb::ListSchedulesRequest::default()).await.unwrap().into_inner().schedules.len(),
    );
    let schedule_id = created.schedule.expect("a schedule").id;
    let fires = || async {
        schedules(&app)
            .get_schedule(pb::GetScheduleRequest {
                schedule_id: schedule_id.clone(),
                ..Default::default()
            })
            .await
            .expect("GetSchedule")
            .into_inner()
            .schedule
            .expect("a schedule")
            .recent_fires
            .len()
    };
    keeps_its_word!(covered, "TriggerSchedule",
        pb::TriggerScheduleRequest {
            request_id: unique("trigger"),
            name: "partner-nudge".into(),
            ..Default::default()
        },
        call: |r| schedules(&app).trigger_schedule(r),
        // The same schedule, named by id: still another request than the one sent.
        other: |o| {
            o.name.clear();
            o.schedule_id = schedule_id.clone();
        },
        repeat: |a, b| a.fire == b.fire,
        probe: fires().await,
    );

    // AutomationService.
    let version = || async { policy(&app).await.policy.expect("a policy").version };
    let same_version = |a: &pb::AutomationPolicyResponse, b: &pb::AutomationPolicyResponse| {
        a.changed
            && !b.changed
            && a.policy.as_ref().map(|p| p.version) == b.policy.as_ref().map(|p| p.version)
    };
    keeps_its_word!(covered, "SetActionMode",
        pb::SetActionModeRequest {
            request_id: unique("mode"),
            action_type: "standard_faq".into(),
            mode: "off".into(),
            actor: operator(),
            reason: "trial over".into(),
            force: false,
        },
        call: |r| automation(&app).set_action_mode(r),
        other: |o| o.mode = "review".into(),
        repeat: |a, b| same_version(a, b),
        probe: version().await,
    );
    keeps_its_word!(covered, "PauseAutomation",
        pb::PauseAutomationRequest {
            request_id: unique("pause"),
            actor: operator(),
            reason: "incident 42".into(),
        },
        call: |r| automation(&app).pause_automation(r),
        other: |o| o.reason = "incident 43".into(),
        repeat: |a, b| same_version(a, b),
        probe: version().await,
    );
    keeps_its_word!(covered, "ResumeAutomation",
        pb::ResumeAutomationRequest {
            request_id: unique("resume"),
            actor: operator(),
            reason: "incident 42 closed".into(),
        },
        call: |r| automation(&app).resume_automation(r),
        other: |o| o.reason = "incident 43 closed".into(),
        repeat: |a, b| same_version(a, b),
        probe: version().await,
    );
    keeps_its_word!(covered, "RollbackPolicy",
        pb::RollbackPolicyRequest {
            request_id: unique("rollback"),
            to_version: 1,
            actor: operator(),
            reason: "back to the start".into(),
        },
        call: |r| automation(&app).rollback_policy(r),
        other: |o| o.to_version = 2,
        repeat: |a, b| same_version(a, b),
        probe: version().await,
    );
    let risk = include_str!("../../../workflows/policy/risk.toml").replacen(
        "version = \"2026-06-01.4\"",
        "version = \"2026-06-01.4-test\"",
        1,
    );
    let active_risk = || async {
        policy(&app)
            .await
            .risk_policy
            .expect("a risk policy")
            .version
    };
    keeps_its_word!(covered, "LoadRiskPolicy",
        pb::LoadRiskPolicyRequest {
            request_id: unique("load-risk"),
            policy_toml: risk.clone(),
            actor: operator(),
            reason: "new wording".into(),
        },
        call: |r| automation(&app).load_risk_policy(r),
        other: |o| o.reason = "other wording".into(),
        repeat: |a, b| a.changed && !b.changed && a.risk_policy == b.risk_policy,
        probe: active_risk().await,
    );

    assert_eq!(
        covered,
        messages_with_request_ids(),
        "every request with a request_id is in this table"
    );
    let fingerprinted: BTreeSet<String> = aijia_orchestrator::grpc::idempotency::FINGERPRINTED
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
    assert_eq!(
        fingerprinted, covered,
        "the server fingerprints every request with a request_id"
    );
    app.stop().await;
}

/// The request id the case's `started` event was recorded under.
async fn started_request_id(app: &TestApp, case_id: &str) -> String {
    app.history(case_id).await[0].request_id.clone()
}

on_both_stores!(answers_recorded_without_a_fingerprint_match_any_retry);
async fn answers_recorded_without_a_fingerprint_match_any_retry(db: TestDb) {
    let app = aijia_tests::spawn_app(&db).await;
    let case = app.open(requests::start("material_collection")).await;
    let req = requests::signal(&case.id, ev::customer_replied("where is it?"));
    let first = app.signal(req.clone()).await;
    // As a row written before fingerprints were kept.
    db.execute("UPDATE case_events SET request_fingerprint = NULL")
        .await;
    let mut other = req.clone();
    other.event = Some(ev::customer_replied("something else"));
    let again = app.signal(other).await;
    assert!(
        again.duplicate,
        "no fingerprint to tell them apart: the first answer"
    );
    assert_eq!(again.event_seq, first.event_seq);
    assert_eq!(app.history(&case.id).await.len(), 2);
    app.stop().await;
}
