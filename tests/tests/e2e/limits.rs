//! Inputs that do damage, refused at the edge by class: durations and times out of range,
//! lists past their cap, NUL characters, schedules that bypass the limits of the calls they
//! make, and refusals that would echo a huge value. Each class is driven over every RPC field
//! it concerns; each refusal is INVALID_ARGUMENT naming the field, and writes nothing.

use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::identity_service_client::IdentityServiceClient;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use aijia_proto::v1::schedule_service_client::ScheduleServiceClient;
use aijia_proto::v1::schedule_spec::Action;
use aijia_proto::v1::signal_case_request::Event;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use aijia_tests::process::health;
use aijia_tests::requests::{self, StartExt, ev};
use aijia_tests::{TestApp, TestDb, expect_status, on_postgres, on_sqlite, spawn_app};
use futures::FutureExt;
use futures::future::BoxFuture;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::assert_unchanged;

/// One row of a table: what the refusal must name, and the call.
type Row = (String, BoxFuture<'static, Result<(), Status>>);

/// `rpc!(needle, client, method, request)`: a row calling `client.method(request)`.
macro_rules! rpc {
    ($needle:expr, $client:expr, $method:ident, $req:expr) => {{
        let mut client = $client.clone();
        let req = $req;
        (
            String::from($needle),
            async move { client.$method(req).await.map(|_| ()) }.boxed(),
        )
    }};
}

struct Clients {
    case: CaseServiceClient<Channel>,
    review: ReviewServiceClient<Channel>,
    automation: AutomationServiceClient<Channel>,
    identity: IdentityServiceClient<Channel>,
    worker: WorkerServiceClient<Channel>,
    task: TaskServiceClient<Channel>,
    schedule: ScheduleServiceClient<Channel>,
}

fn clients(app: &TestApp) -> Clients {
    let channel = app.channel.clone();
    Clients {
        case: app.client(),
        review: ReviewServiceClient::new(channel.clone()),
        automation: AutomationServiceClient::new(channel.clone()),
        identity: IdentityServiceClient::new(channel.clone()),
        worker: WorkerServiceClient::new(channel.clone()),
        task: TaskServiceClient::new(channel.clone()),
        schedule: ScheduleServiceClient::new(channel),
    }
}

/// The call must be refused with INVALID_ARGUMENT naming `needle`.
async fn refused(needle: &str, call: BoxFuture<'static, Result<(), Status>>) -> Status {
    let status = call.await.expect_err(needle);
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{needle}: {}",
        status.message()
    );
    assert!(
        status.message().contains(needle),
        "the refusal should name {needle}: {}",
        status.message()
    );
    status
}

/// Every row must be refused with INVALID_ARGUMENT naming its field.
async fn expect_all_refused(rows: Vec<Row>) -> Vec<Status> {
    let mut statuses = Vec::new();
    for (needle, call) in rows {
        statuses.push(refused(&needle, call).await);
    }
    statuses
}

/// A call at a cap: whatever else it says, it does not complain about the list's size.
async fn expect_not_refused_for_size(needle: &str, call: BoxFuture<'static, Result<(), Status>>) {
    if let Err(status) = call.await {
        assert!(
            !status.message().contains("entries; at most"),
            "{needle} at its cap was refused for its size: {}",
            status.message()
        );
    }
}

async fn assert_healthy(app: &TestApp) {
    assert_eq!(
        health(app.channel.clone(), "").await,
        Some(ServingStatus::Serving)
    );
    app.list(pb::ListCasesRequest::default()).await;
}

fn duration(seconds: i64, nanos: i32) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos })
}

fn stamp(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos })
}

fn sweep_spec(waiting_longer_than: Option<prost_types::Duration>) -> pb::ScheduleSpec {
    pb::ScheduleSpec {
        cron: "0 9 * * *".into(),
        action: Some(Action::ReminderSweep(pb::ReminderSweepAction {
            waiting_for: "partner".into(),
            waiting_longer_than,
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn create_schedule(spec: pb::ScheduleSpec) -> pb::CreateScheduleRequest {
    pb::CreateScheduleRequest {
        request_id: requests::unique("sched"),
        name: requests::unique("schedule"),
        spec: Some(spec),
        paused: false,
    }
}

fn start_case_action() -> pb::StartCaseAction {
    pb::StartCaseAction {
        workflow_type: "material_collection".into(),
        business_key_template: "daily-{date}".into(),
        customer_id: "cust-1".into(),
        customer_display_name: "Li Wei".into(),
        subject: "daily collection".into(),
        owner: "alice".into(),
        attributes: Default::default(),
    }
}

fn start_case_spec(action: pb::StartCaseAction) -> pb::ScheduleSpec {
    pb::ScheduleSpec {
        cron: "0 9 * * *".into(),
        action: Some(Action::StartCase(action)),
        ..Default::default()
    }
}

fn poll(
    wait: Option<prost_types::Duration>,
    lease: Option<prost_types::Duration>,
) -> pb::PollActivityTaskRequest {
    pb::PollActivityTaskRequest {
        worker_id: "worker-1".into(),
        task_queue: String::new(),
        activity_types: vec!["send_message".into()],
        wait,
        lease,
    }
}

/// A token of the right form: it passes the edge, so the fields after it are checked.
const WELL_FORMED_TOKEN: &str = "tt1.1.1";

on_sqlite!(extreme_durations_and_times_are_refused_naming_the_field_and_the_server_stays_healthy);
async fn extreme_durations_and_times_are_refused_naming_the_field_and_the_server_stays_healthy(
    db: TestDb,
) {
    let app = spawn_app(&db).await;
    let c = clients(&app);
    let ten_years = 3_650 * 86_400;
    let bad_durations = [
        (i64::MAX, 0),
        (ten_years + 1, 0),
        (ten_years, 1),
        (-1, 0),
        (0, -1),
        (0, 1_000_000_000),
        (i64::MIN, -999_999_999),
    ];
    let year_10000 = 253_402_300_800;
    let bad_times = [
        (year_10000, 0),
        (i64::MAX, 0),
        (-1, 0),
        (i64::MIN, 0),
        (0, -1),
        (0, 1_000_000_000),
    ];
    let fine = stamp(1_700_000_000, 0);
    let mut rows: Vec<Row> = Vec::new();
    for (s, n) in bad_durations {
        let d = duration(s, n);
        rows.push(rpc!(
            "waiting_longer_than",
            c.case,
            list_cases,
            pb::ListCasesRequest {
                waiting_longer_than: d,
                ..Default::default()
            }
        ));
        rows.push(rpc!(
            "older_than",
            c.review,
            list_reviews,
            pb::ListReviewsRequest {
                older_than: d,
                ..Default::default()
            }
        ));
        rows.push(rpc!(
            "spec.reminder_sweep.waiting_longer_than",
            c.schedule,
            create_schedule,
            create_schedule(sweep_spec(d))
        ));
        rows.push(rpc!(
            "spec.jitter",
            c.schedule,
            create_schedule,
            create_schedule(pb::ScheduleSpec {
                jitter: d,
                ..sweep_spec(None)
            })
        ));
        rows.push(rpc!("wait", c.worker, poll_activity_task, poll(d, None)));
        rows.push(rpc!(
            "lease",
            c.worker,
            poll_activity_task,
            poll(duration(0, 0), d)
        ));
        rows.push(rpc!(
            "lease",
            c.worker,
            heartbeat_activity_task,
            pb::HeartbeatActivityTaskRequest {
                task_token: WELL_FORMED_TOKEN.into(),
                details_json: String::new(),
                lease: d,
            }
        ));
    }
    for (s, n) in bad_times {
        rows.push(rpc!(
            "from",
            c.automation,
            replay_policy,
            pb::ReplayPolicyRequest {
                from: stamp(s, n),
                to: fine,
                ..Default::default()
            }
        ));
        rows.push(rpc!(
            "to",
            c.automation,
            replay_policy,
            pb::ReplayPolicyRequest {
                from: stamp(0, 0),
                to: stamp(s, n),
                ..Default::default()
            }
        ));
    }
    // A page token carries a time too.
    for micros in [i64::MAX, -1, 253_402_300_800_000_000] {
        rows.push(rpc!(
            "page_token",
            c.review,
            list_reviews,
            pb::ListReviewsRequest {
                page_token: format!("{micros}.0190f0c2-7b1e-7c3a-8d4e-5f6a7b8c9d0e.1"),
                ..Default::default()
            }
        ));
    }
    expect_all_refused(rows).await;

    // The update path of a schedule shares the checks of its creation.
    let mut schedules = c.schedule.clone();
    let created = schedules
        .create_schedule(create_schedule(sweep_spec(duration(48 * 3600, 0))))
        .await
        .expect("a sane sweep")
        .into_inner()
        .schedule
        .expect("a schedule");
    let refused = schedules
        .update_schedule(pb::UpdateScheduleRequest {
            schedule_id: created.id.clone(),
            spec: Some(sweep_spec(duration(i64::MAX, 0))),
            actor: Some(requests::operator()),
            reason: "longer sweep".into(),
            ..Default::default()
        })
        .await;
    expect_status(
        refused,
        Code::InvalidArgument,
        &["spec.reminder_sweep.waiting_longer_than", "3650 days"],
    );
    // Ten years exactly is the most, and accepted everywhere.
    let ten = duration(ten_years, 0);
    app.list(pb::ListCasesRequest {
        waiting_longer_than: ten,
        ..Default::default()
    })
    .await;
    c.review
        .clone()
        .list_reviews(pb::ListReviewsRequest {
            older_than: ten,
            ..Default::default()
        })
        .await
        .expect("ten years is allowed");
    assert_healthy(&app).await;
    app.stop().await;
}

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

fn attributes(count: usize) -> std::collections::BTreeMap<String, String> {
    (0..count)
        .map(|i| (format!("k{i}"), "v".to_owned()))
        .collect()
}

on_sqlite!(every_list_and_map_is_capped_naming_the_field_and_the_limit);
async fn every_list_and_map_is_capped_naming_the_field_and_the_limit(db: TestDb) {
    let app = spawn_app(&db).await;
    let c = clients(&app);
    let case = app.open(requests::start("material_collection")).await;
    let case_id = case.id.clone();
    let signal = move |event: Event| requests::signal(&case_id, event);
    let material_provided = |n| {
        Event::MaterialProvided(pb::MaterialProvided {
            items: names("item", n),
            note: String::new(),
        })
    };
    let material_received = |n| {
        Event::MaterialReceived(pb::MaterialReceived {
            items: names("item", n),
        })
    };
    let wait_for = |n| {
        Event::WaitFor(pb::WaitFor {
            party: "customer".into(),
            what: String::new(),
            checklist: names("item", n),
        })
    };
    let start_with = |n| pb::StartCaseRequest {
        attributes: attributes(n),
        ..requests::start("progress_inquiry")
    };
    let schedule_with = |n| {
        create_schedule(start_case_spec(pb::StartCaseAction {
            attributes: attributes(n),
            ..start_case_action()
        }))
    };
    let reviewer_with = |n| pb::AddReviewerRequest {
        reviewer_id: requests::unique("rev"),
        display_name: String::new(),
        teams: names("team", n),
        active: None,
        actor: Some(requests::operator()),
    };
    let worker_with = |n| pb::PollActivityTaskRequest {
        activity_types: names("activity", n),
        ..poll(duration(0, 0), None)
    };
    // (field, its cap, a request with `n` entries) for every repeated field and map.
    type Make = Box<dyn Fn(usize) -> Row>;
    let table: Vec<(&str, usize, Make)> = vec![
        ("attributes", 64, {
            let c = c.case.clone();
            Box::new(move |n| rpc!("attributes", c, start_case, start_with(n)))
        }),
        ("material_provided.items", 100, {
            let c = c.case.clone();
            let signal = signal.clone();
            Box::new(move |n| rpc!("", c, signal_case, signal(material_provided(n))))
        }),
        ("material_received.items", 100, {
            let c = c.case.clone();
            let signal = signal.clone();
            Box::new(move |n| rpc!("", c, signal_case, signal(material_received(n))))
        }),
        ("wait_for.checklist", 100, {
            let c = c.case.clone();
            let signal = signal.clone();
            Box::new(move |n| rpc!("", c, signal_case, signal(wait_for(n))))
        }),
        ("spec.start_case.attributes", 64, {
            let c = c.schedule.clone();
            Box::new(move |n| rpc!("", c, create_schedule, schedule_with(n)))
        }),
        ("teams", 32, {
            let c = c.review.clone();
            Box::new(move |n| rpc!("", c, add_reviewer, reviewer_with(n)))
        }),
        ("activity_types", 64, {
            let c = c.worker.clone();
            Box::new(move |n| rpc!("", c, poll_activity_task, worker_with(n)))
        }),
    ];
    for (field, cap, make) in &table {
        expect_not_refused_for_size(field, make(*cap).1).await;
        let past = format!(
            "{field}: has {} entries; at most {cap} are allowed",
            cap + 1
        );
        refused(&past, make(cap + 1).1).await;
        // 100k entries: refused for their number before any of them is read.
        refused(&format!("{field}: has 100000 entries"), make(100_000).1).await;
    }
    assert_healthy(&app).await;
    app.stop().await;
}

on_postgres!(a_nul_character_in_any_string_field_is_refused_naming_it_and_nothing_is_written);
async fn a_nul_character_in_any_string_field_is_refused_naming_it_and_nothing_is_written(
    db: TestDb,
) {
    let app = spawn_app(&db).await;
    let c = clients(&app);
    let case = app.open(requests::start("material_collection")).await;
    let nul = "bad\0text";
    let draft_id = format!("{}/1", case.id);
    let signal = |event: Event| requests::signal(&case.id, event);
    let start = || requests::start("material_collection");
    let mut rows: Vec<Row> = vec![
        // CaseService
        rpc!("request_id", c.case, start_case, start().request_id(nul)),
        rpc!(
            "business_key",
            c.case,
            start_case,
            start().business_key(nul)
        ),
        rpc!("customer.id", c.case, start_case, start().customer(nul)),
        rpc!(
            "customer.display_name",
            c.case,
            start_case,
            pb::StartCaseRequest {
                customer: Some(pb::CustomerRef {
                    id: "c-1".into(),
                    display_name: nul.into(),
                }),
                ..start()
            }
        ),
        rpc!("subject", c.case, start_case, start().subject(nul)),
        rpc!("owner", c.case, start_case, start().owner(nul)),
        rpc!("attributes key", c.case, start_case, start().attr(nul, "v")),
        rpc!(
            "attributes[note]",
            c.case,
            start_case,
            start().attr("note", nul)
        ),
        rpc!(
            "actor.id",
            c.case,
            start_case,
            pb::StartCaseRequest {
                actor: Some(requests::actor("operator", nul)),
                ..start()
            }
        ),
        rpc!(
            "customer_replied.text",
            c.case,
            signal_case,
            signal(ev::customer_replied(nul))
        ),
        rpc!(
            "material_provided.items",
            c.case,
            signal_case,
            signal(ev::material_provided(&[nul], ""))
        ),
        rpc!(
            "material_provided.note",
            c.case,
            signal_case,
            signal(ev::material_provided(&["a"], nul))
        ),
        rpc!(
            "executor_done.note",
            c.case,
            signal_case,
            signal(ev::executor_done(nul))
        ),
        rpc!(
            "partner_done.note",
            c.case,
            signal_case,
            signal(ev::partner_done(nul))
        ),
        rpc!(
            "partner_waits_for_customer.what",
            c.case,
            signal_case,
            signal(ev::partner_waits_for_customer(nul))
        ),
        rpc!(
            "material_received.items",
            c.case,
            signal_case,
            signal(ev::material_received(&[nul]))
        ),
        rpc!(
            "request_review.reason",
            c.case,
            signal_case,
            signal(ev::request_review(nul))
        ),
        rpc!(
            "review_decided.note",
            c.case,
            signal_case,
            signal(ev::review_decided(true, nul))
        ),
        rpc!(
            "wait_for.what",
            c.case,
            signal_case,
            signal(ev::wait_for("customer", nul, &[]))
        ),
        rpc!(
            "wait_for.checklist",
            c.case,
            signal_case,
            signal(ev::wait_for("customer", "", &[nul]))
        ),
        rpc!(
            "complete.note",
            c.case,
            signal_case,
            signal(ev::complete(nul))
        ),
        rpc!(
            "reassign_owner.owner",
            c.case,
            signal_case,
            signal(ev::reassign_owner(nul))
        ),
        rpc!(
            "request_id",
            c.case,
            signal_case,
            pb::SignalCaseRequest {
                request_id: nul.into(),
                ..signal(ev::customer_replied("hi"))
            }
        ),
        rpc!(
            "reason",
            c.case,
            cancel_case,
            requests::cancel(&case.id, nul)
        ),
        rpc!(
            "owner",
            c.case,
            list_cases,
            pb::ListCasesRequest {
                owner: nul.into(),
                ..Default::default()
            }
        ),
        rpc!(
            "customer_id",
            c.case,
            list_cases,
            pb::ListCasesRequest {
                customer_id: nul.into(),
                ..Default::default()
            }
        ),
    ];
    // ReviewService
    let submit = || pb::SubmitDraftRequest {
        request_id: requests::unique("draft"),
        case_id: case.id.clone(),
        text: "Your invoice arrived.".into(),
        audience: "customer_private".into(),
        action_type: "standard_faq".into(),
        author: Some(requests::actor("reception", "reception-agent")),
        flags: None,
    };
    let approve = |reviewer: &str, note: &str| pb::ApproveDraftRequest {
        request_id: requests::unique("approve"),
        draft_id: draft_id.clone(),
        reviewer_id: reviewer.into(),
        note: note.into(),
    };
    let transfer = |to_reviewer: &str, to_team: &str, note: &str| pb::TransferReviewRequest {
        request_id: requests::unique("transfer"),
        draft_id: draft_id.clone(),
        reviewer_id: "rev-1".into(),
        to_reviewer: to_reviewer.into(),
        to_team: to_team.into(),
        note: note.into(),
    };
    let add_reviewer = |id: &str, name: &str, team: &str| pb::AddReviewerRequest {
        reviewer_id: id.into(),
        display_name: name.into(),
        teams: vec![team.into()],
        active: None,
        actor: Some(requests::operator()),
    };
    rows.extend([
        rpc!(
            "text",
            c.review,
            submit_draft,
            pb::SubmitDraftRequest {
                text: nul.into(),
                ..submit()
            }
        ),
        rpc!(
            "author.id",
            c.review,
            submit_draft,
            pb::SubmitDraftRequest {
                author: Some(requests::actor("reception", nul)),
                ..submit()
            }
        ),
        rpc!("note", c.review, approve_draft, approve("rev-1", nul)),
        rpc!("reviewer_id", c.review, approve_draft, approve(nul, "")),
        rpc!(
            "text",
            c.review,
            edit_draft,
            pb::EditDraftRequest {
                request_id: requests::unique("edit"),
                draft_id: draft_id.clone(),
                reviewer_id: "rev-1".into(),
                text: nul.into(),
                note: String::new(),
            }
        ),
        rpc!(
            "reason",
            c.review,
            reject_draft,
            pb::RejectDraftRequest {
                request_id: requests::unique("reject"),
                draft_id: draft_id.clone(),
                reviewer_id: "rev-1".into(),
                reason: nul.into(),
            }
        ),
        rpc!(
            "to_reviewer",
            c.review,
            transfer_review,
            transfer(nul, "", "")
        ),
        rpc!("to_team", c.review, transfer_review, transfer("", nul, "")),
        rpc!(
            "note",
            c.review,
            transfer_review,
            transfer("rev-2", "", nul)
        ),
        rpc!(
            "reason",
            c.review,
            take_over_case,
            pb::TakeOverCaseRequest {
                request_id: requests::unique("take"),
                case_id: case.id.clone(),
                reviewer_id: "rev-1".into(),
                reason: nul.into(),
            }
        ),
        rpc!(
            "note",
            c.review,
            hand_back_case,
            pb::HandBackCaseRequest {
                request_id: requests::unique("back"),
                case_id: case.id.clone(),
                reviewer_id: "rev-1".into(),
                note: nul.into(),
            }
        ),
        rpc!(
            "reviewer_id",
            c.review,
            add_reviewer,
            add_reviewer(nul, "", "t")
        ),
        rpc!(
            "display_name",
            c.review,
            add_reviewer,
            add_reviewer("rev-9", nul, "t")
        ),
        rpc!(
            "teams",
            c.review,
            add_reviewer,
            add_reviewer("rev-9", "", nul)
        ),
        rpc!(
            "reviewer",
            c.review,
            list_reviews,
            pb::ListReviewsRequest {
                reviewer: nul.into(),
                ..Default::default()
            }
        ),
        rpc!(
            "team",
            c.review,
            list_reviews,
            pb::ListReviewsRequest {
                team: nul.into(),
                ..Default::default()
            }
        ),
    ]);
    // AutomationService
    rows.extend([
        rpc!(
            "reason",
            c.automation,
            set_action_mode,
            pb::SetActionModeRequest {
                request_id: requests::unique("mode"),
                action_type: "standard_faq".into(),
                mode: "auto".into(),
                actor: Some(requests::operator()),
                reason: nul.into(),
                force: true,
            }
        ),
        rpc!(
            "reason",
            c.automation,
            pause_automation,
            pb::PauseAutomationRequest {
                request_id: requests::unique("pause"),
                actor: Some(requests::operator()),
                reason: nul.into(),
            }
        ),
        rpc!(
            "reason",
            c.automation,
            rollback_policy,
            pb::RollbackPolicyRequest {
                request_id: requests::unique("rollback"),
                to_version: 1,
                actor: Some(requests::operator()),
                reason: nul.into(),
            }
        ),
        rpc!(
            "policy_toml",
            c.automation,
            load_risk_policy,
            pb::LoadRiskPolicyRequest {
                request_id: requests::unique("risk"),
                policy_toml: format!("version = \"{nul}\""),
                actor: Some(requests::operator()),
                reason: "test".into(),
            }
        ),
        rpc!(
            "risk_policy_version",
            c.automation,
            replay_policy,
            pb::ReplayPolicyRequest {
                from: stamp(0, 0),
                to: stamp(1_700_000_000, 0),
                risk_policy_version: nul.into(),
                automation_policy_version: 0,
            }
        ),
    ]);
    // IdentityService
    let context = |customer: &str, json: &str| pb::PutCustomerContextRequest {
        customer_id: customer.into(),
        context_json: json.into(),
        actor: Some(requests::actor("backend", "crm")),
    };
    rows.extend([
        rpc!(
            "evidence",
            c.identity,
            confirm_identity,
            pb::ConfirmIdentityRequest {
                request_id: requests::unique("id"),
                case_id: case.id.clone(),
                method: "phone_match".into(),
                evidence: nul.into(),
                actor: Some(requests::actor("identity", "id-agent")),
                status: String::new(),
            }
        ),
        rpc!(
            "customer_id",
            c.identity,
            put_customer_context,
            context(nul, "{}")
        ),
        rpc!(
            "context_json",
            c.identity,
            put_customer_context,
            context("c-1", r#"{"tier":"gold\u0000"}"#)
        ),
        rpc!(
            "context_json",
            c.identity,
            put_customer_context,
            context("c-1", r#"{"a\u0000":1}"#)
        ),
        rpc!(
            "context_json",
            c.identity,
            put_customer_context,
            context("c-1", r#"{"deep":[{"x":["\u0000"]}]}"#)
        ),
        rpc!(
            "purpose",
            c.identity,
            get_customer_context,
            pb::GetCustomerContextRequest {
                case_id: case.id.clone(),
                actor: Some(requests::actor("knowledge", "kb")),
                purpose: nul.into(),
                request_id: String::new(),
                task_id: 0,
            }
        ),
    ]);
    // WorkerService and TaskService
    let fail = |code: &str, message: &str, details: &str| pb::FailActivityTaskRequest {
        task_token: WELL_FORMED_TOKEN.into(),
        retryable: true,
        code: code.into(),
        message: message.into(),
        details_json: details.into(),
    };
    rows.extend([
        rpc!(
            "worker_id",
            c.worker,
            poll_activity_task,
            pb::PollActivityTaskRequest {
                worker_id: nul.into(),
                ..poll(None, None)
            }
        ),
        rpc!(
            "task_queue",
            c.worker,
            poll_activity_task,
            pb::PollActivityTaskRequest {
                task_queue: nul.into(),
                ..poll(None, None)
            }
        ),
        rpc!(
            "activity_types",
            c.worker,
            poll_activity_task,
            pb::PollActivityTaskRequest {
                activity_types: vec![nul.into()],
                ..poll(None, None)
            }
        ),
        rpc!(
            "output_json",
            c.worker,
            complete_activity_task,
            pb::CompleteActivityTaskRequest {
                task_token: WELL_FORMED_TOKEN.into(),
                output_json: r#"{"sent":"\u0000"}"#.into(),
            }
        ),
        rpc!("code", c.worker, fail_activity_task, fail(nul, "m", "")),
        rpc!(
            "message",
            c.worker,
            fail_activity_task,
            fail("http_5xx", nul, "")
        ),
        rpc!(
            "details_json",
            c.worker,
            fail_activity_task,
            fail("http_5xx", "m", r#"["\u0000"]"#)
        ),
        rpc!(
            "details_json",
            c.worker,
            heartbeat_activity_task,
            pb::HeartbeatActivityTaskRequest {
                task_token: WELL_FORMED_TOKEN.into(),
                details_json: r#"{"\u0000":0}"#.into(),
                lease: None,
            }
        ),
        rpc!(
            "activity",
            c.task,
            list_tasks,
            pb::ListTasksRequest {
                activity: nul.into(),
                ..Default::default()
            }
        ),
        rpc!(
            "reason",
            c.task,
            cancel_task,
            pb::CancelTaskRequest {
                request_id: requests::unique("cancel"),
                task_id: 1,
                reason: nul.into(),
                actor: Some(requests::operator()),
            }
        ),
    ]);
    // ScheduleService
    let with_action = |change: fn(&mut pb::StartCaseAction, &str)| {
        let mut action = start_case_action();
        change(&mut action, nul);
        create_schedule(start_case_spec(action))
    };
    rows.extend([
        rpc!(
            "name",
            c.schedule,
            create_schedule,
            pb::CreateScheduleRequest {
                name: nul.into(),
                ..create_schedule(sweep_spec(None))
            }
        ),
        rpc!(
            "spec.cron",
            c.schedule,
            create_schedule,
            create_schedule(pb::ScheduleSpec {
                cron: format!("0 9 * * *{nul}"),
                ..sweep_spec(None)
            })
        ),
        rpc!(
            "spec.time_zone",
            c.schedule,
            create_schedule,
            create_schedule(pb::ScheduleSpec {
                time_zone: nul.into(),
                ..sweep_spec(None)
            })
        ),
        rpc!(
            "spec.start_case.business_key_template",
            c.schedule,
            create_schedule,
            with_action(|a, v| a.business_key_template = format!("{{date}}{v}"))
        ),
        rpc!(
            "spec.start_case.customer.id",
            c.schedule,
            create_schedule,
            with_action(|a, v| a.customer_id = v.into())
        ),
        rpc!(
            "spec.start_case.customer.display_name",
            c.schedule,
            create_schedule,
            with_action(|a, v| a.customer_display_name = v.into())
        ),
        rpc!(
            "spec.start_case.subject",
            c.schedule,
            create_schedule,
            with_action(|a, v| a.subject = v.into())
        ),
        rpc!(
            "spec.start_case.owner",
            c.schedule,
            create_schedule,
            with_action(|a, v| a.owner = v.into())
        ),
        rpc!(
            "spec.start_case.attributes[note]",
            c.schedule,
            create_schedule,
            with_action(|a, v| {
                a.attributes.insert("note".into(), v.into());
            })
        ),
        rpc!(
            "page_token",
            c.schedule,
            list_schedules,
            pb::ListSchedulesRequest {
                page_size: 0,
                page_token: nul.into(),
            }
        ),
    ]);
    expect_all_refused(rows).await;

    // Nothing was written: the one case as it was, no schedule, no reviewer, no context.
    let all = app.list_all(pb::ListCasesRequest::default()).await;
    assert_eq!(all.len(), 1, "no case was started");
    assert_unchanged(&app, &case).await;
    let schedules = c
        .schedule
        .clone()
        .list_schedules(pb::ListSchedulesRequest::default())
        .await
        .expect("lists")
        .into_inner();
    assert!(schedules.schedules.is_empty());
    let reviewers = c
        .review
        .clone()
        .list_reviewers(pb::ListReviewersRequest {})
        .await
        .expect("lists")
        .into_inner();
    assert!(reviewers.reviewers.is_empty());
    assert_healthy(&app).await;
    app.stop().await;
}

on_sqlite!(schedules_are_held_to_the_limits_of_the_calls_they_make);
async fn schedules_are_held_to_the_limits_of_the_calls_they_make(db: TestDb) {
    let app = spawn_app(&db).await;
    let c = clients(&app);
    let mut schedules = c.schedule.clone();
    let cases: Vec<(pb::ScheduleSpec, &[&str])> = vec![
        (
            start_case_spec(pb::StartCaseAction {
                owner: "o".repeat(1 << 20),
                ..start_case_action()
            }),
            &["spec.start_case.owner", "at most 200"],
        ),
        (
            start_case_spec(pb::StartCaseAction {
                attributes: attributes(100_000),
                ..start_case_action()
            }),
            &["spec.start_case.attributes", "at most 64"],
        ),
        (
            start_case_spec(pb::StartCaseAction {
                workflow_type: "refund".into(),
                ..start_case_action()
            }),
            &["spec.start_case.workflow_type", "refund"],
        ),
        (
            start_case_spec(pb::StartCaseAction {
                business_key_template: format!("{}-{{datetime}}", "k".repeat(180)),
                ..start_case_action()
            }),
            &["spec.start_case.business_key_template", "at most 200"],
        ),
        (
            start_case_spec(pb::StartCaseAction {
                attributes: [(
                    "timers.waiting_for_partner.remind_after".to_owned(),
                    "1h".to_owned(),
                )]
                .into(),
                ..start_case_action()
            }),
            &[
                "timers.waiting_for_partner.remind_after",
                "never waits in waiting_for_partner",
            ],
        ),
        (
            pb::ScheduleSpec {
                cron: "0 0 30 2 *".into(),
                ..start_case_spec(start_case_action())
            },
            &["spec", "never fires"],
        ),
        (
            pb::ScheduleSpec {
                cron: "0 0 9 1 1 * 2020".into(),
                ..start_case_spec(start_case_action())
            },
            &["cron", "never fires after"],
        ),
        (
            pb::ScheduleSpec {
                action: Some(Action::ReminderSweep(pb::ReminderSweepAction::default())),
                ..sweep_spec(None)
            },
            &[
                "filter",
                "state, waiting_for, workflow_type or waiting_longer_than",
            ],
        ),
        (
            pb::ScheduleSpec {
                missed_fire_policy: "fire_all".into(),
                missed_fire_limit: u32::MAX,
                ..sweep_spec(None)
            },
            &["missed-fire policy", "at most 1000"],
        ),
    ];
    for (spec, needles) in cases {
        let refused = schedules.create_schedule(create_schedule(spec)).await;
        expect_status(refused, Code::InvalidArgument, needles);
    }
    // StartCase refuses the same override the same way.
    let refused = app
        .client()
        .start_case(
            requests::start("material_collection")
                .attr("timers.waiting_for_partner.remind_after", "1h"),
        )
        .await;
    expect_status(
        refused,
        Code::InvalidArgument,
        &[
            "timers.waiting_for_partner.remind_after",
            "a material_collection case never waits",
        ],
    );
    let listed = schedules
        .list_schedules(pb::ListSchedulesRequest::default())
        .await
        .expect("lists")
        .into_inner();
    assert!(listed.schedules.is_empty(), "nothing was stored");
    // The same action within the limits is accepted.
    schedules
        .create_schedule(create_schedule(start_case_spec(start_case_action())))
        .await
        .expect("a sane start_case schedule");
    app.stop().await;
}

on_sqlite!(a_refusal_quotes_at_most_the_start_of_a_huge_value);
async fn a_refusal_quotes_at_most_the_start_of_a_huge_value(db: TestDb) {
    let app = spawn_app(&db).await;
    let c = clients(&app);
    let huge = "x".repeat(8 * 1024);
    let rows: Vec<Row> = vec![
        rpc!(
            "case_id",
            c.case,
            get_case,
            pb::GetCaseRequest {
                case_id: huge.clone(),
                ..Default::default()
            }
        ),
        rpc!("workflow_type", c.case, start_case, requests::start(&huge)),
        rpc!(
            "state",
            c.case,
            list_cases,
            pb::ListCasesRequest {
                state: huge.clone(),
                ..Default::default()
            }
        ),
        rpc!(
            "draft_id",
            c.review,
            get_review,
            pb::GetReviewRequest {
                draft_id: huge.clone()
            }
        ),
        rpc!(
            "schedule_id",
            c.schedule,
            get_schedule,
            pb::GetScheduleRequest {
                schedule_id: huge.clone(),
                ..Default::default()
            }
        ),
        rpc!(
            "spec.missed_fire_policy",
            c.schedule,
            create_schedule,
            create_schedule(pb::ScheduleSpec {
                missed_fire_policy: huge.clone(),
                ..sweep_spec(None)
            })
        ),
        rpc!(
            "state",
            c.task,
            list_tasks,
            pb::ListTasksRequest {
                state: huge.clone(),
                ..Default::default()
            }
        ),
        rpc!(
            "timers.waiting_for_customer.remind_after",
            c.case,
            start_case,
            requests::start("material_collection")
                .attr("timers.waiting_for_customer.remind_after", &huge)
        ),
    ];
    for status in expect_all_refused(rows).await {
        assert!(
            status.message().len() < 600,
            "the refusal is {} bytes long: {}",
            status.message().len(),
            status.message()
        );
    }
    app.stop().await;
}
