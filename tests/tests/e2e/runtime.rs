//! The server as an operator runs it: background loops that survive a failing row, a health
//! answer that tells the truth (database down, shutdown), database errors that never reach a
//! client as database text, start-up that says at once why the database cannot be reached,
//! a CLI that ends quietly when its reader goes away, and logs that hold no customer text.

use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aijia_orchestrator::clock::ManualClock;
use aijia_orchestrator::server::{self, ServerConfig};
use aijia_orchestrator::store::{Store, TaskError};
use aijia_proto::v1 as pb;
use aijia_proto::v1::identity_service_client::IdentityServiceClient;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use aijia_proto::v1::schedule_service_client::ScheduleServiceClient;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use aijia_tests::app::connect;
use aijia_tests::process::{ServerProcess, health};
use aijia_tests::requests::{self, StartExt, actor, ev, unique};
use aijia_tests::{
    Backend, TestApp, TestDb, automate_templated_activities, on_both_stores, on_postgres,
    spawn_app, spawn_app_with,
};
use chrono::TimeDelta;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");

/// Polls `check` until it answers, or fails the test after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn schedule_request(name: &str, action: pb::schedule_spec::Action) -> pb::CreateScheduleRequest {
    pb::CreateScheduleRequest {
        request_id: unique("schedule"),
        name: name.to_owned(),
        spec: Some(pb::ScheduleSpec {
            cron: "* * * * * *".into(),
            time_zone: String::new(),
            missed_fire_policy: "fire_once".into(),
            missed_fire_limit: 0,
            jitter: None,
            action: Some(action),
        }),
        paused: false,
    }
}

fn sweep() -> pb::schedule_spec::Action {
    pb::schedule_spec::Action::ReminderSweep(pb::ReminderSweepAction {
        state: String::new(),
        waiting_for: "customer".into(),
        workflow_type: String::new(),
        waiting_longer_than: Some(prost_types::Duration {
            seconds: 60,
            nanos: 0,
        }),
    })
}

async fn fires(
    client: &mut ScheduleServiceClient<tonic::transport::Channel>,
    id: &str,
) -> Vec<pb::ScheduleFire> {
    client
        .get_schedule(pb::GetScheduleRequest {
            schedule_id: id.to_owned(),
            ..Default::default()
        })
        .await
        .expect("GetSchedule")
        .into_inner()
        .schedule
        .expect("a schedule")
        .recent_fires
}

async fn a_schedule_whose_stored_spec_fails_is_recorded_as_failed_and_the_others_keep_firing(
    db: TestDb,
) {
    let app = spawn_app_with(&db, |c| {
        c.scheduler.poll_interval = Duration::from_millis(20);
    })
    .await;
    let mut schedules = ScheduleServiceClient::new(app.channel.clone());
    let create = |req| {
        let mut schedules = schedules.clone();
        async move {
            let resp = schedules
                .create_schedule(req)
                .await
                .expect("CreateSchedule");
            resp.into_inner().schedule.expect("a schedule").id
        }
    };
    let healthy = create(schedule_request("healthy", sweep())).await;
    let poisoned = create(schedule_request("poisoned", sweep())).await;
    // A stored filter whose cut-off overflows the calendar: before the bounds, the sweep's date
    // arithmetic panicked here and took the loop with it. The edge refuses such a filter, so
    // it is written under the server; the fire's own check now finds it.
    db.execute(match db.backend() {
        Backend::Postgres => {
            "UPDATE schedules SET spec = jsonb_set(spec, '{action,filter,waiting_longer_than_secs}', \
             '9223372036854775807') WHERE name = 'poisoned'"
        }
        Backend::Sqlite => {
            "UPDATE schedules SET spec = json_set(spec, '$.action.filter.waiting_longer_than_secs', \
             9223372036854775807) WHERE name = 'poisoned'"
        }
    })
    .await;

    for _ in 0..4 {
        let before = fires(&mut schedules, &healthy).await.len();
        app.clock.advance(TimeDelta::seconds(1));
        eventually(
            Duration::from_secs(10),
            "the healthy schedule to fire",
            || {
                let mut schedules = schedules.clone();
                let healthy = healthy.clone();
                async move { (fires(&mut schedules, &healthy).await.len() > before).then_some(()) }
            },
        )
        .await;
    }

    let healthy_fires = fires(&mut schedules, &healthy).await;
    assert!(healthy_fires.len() >= 4, "{healthy_fires:#?}");
    assert!(
        healthy_fires.iter().all(|f| f.outcome == "ok"),
        "{healthy_fires:#?}"
    );
    let poisoned_fires = fires(&mut schedules, &poisoned).await;
    assert_eq!(
        poisoned_fires.len(),
        1,
        "the failing schedule is backed off, not fired each second: {poisoned_fires:#?}"
    );
    assert_eq!(poisoned_fires[0].outcome, "failed");
    assert!(
        poisoned_fires[0].detail.contains("waiting_longer_than"),
        "the failure names what is wrong: {poisoned_fires:#?}"
    );
    assert_eq!(
        health(app.channel.clone(), "").await,
        Some(ServingStatus::Serving),
        "a failing row is not a failing server"
    );
    app.stop().await;
}
on_both_stores!(
    a_schedule_whose_stored_spec_fails_is_recorded_as_failed_and_the_others_keep_firing
);

async fn health_turns_not_serving_before_the_server_drains(db: TestDb) {
    let app = spawn_app(&db).await;
    let channel = connect(app.addr).await;
    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("Health/Watch")
        .into_inner();
    let first = watch.message().await.expect("a status").expect("a status");
    assert_eq!(first.status(), ServingStatus::Serving);

    let stopping = tokio::spawn(app.stop());
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a status change when the stop begins")
        .expect("a status")
        .expect("a status");
    assert_eq!(next.status(), ServingStatus::NotServing);
    // The watch is an open call: the drain waits for it to end.
    drop(watch);
    drop(channel);
    stopping.await.expect("the stop");
}
on_both_stores!(health_turns_not_serving_before_the_server_drains);

/// `url` with `user` in place of its user (and no password).
fn with_user(url: &str, user: &str) -> String {
    let scheme = url.find("://").expect("a url") + 3;
    let at = url.rfind('@').expect("a user in the test url");
    format!("{}{user}{}", &url[..scheme], &url[at..])
}

/// Waits until the server's health check of `service` answers `want`.
async fn until_health(app: &TestApp, service: &str, want: ServingStatus) {
    let what = format!("{service:?} {want:?}");
    eventually(Duration::from_secs(10), &what, || async {
        (health(app.channel.clone(), service).await == Some(want)).then_some(())
    })
    .await;
}

/// Runs each statement as the test database's administrator.
async fn run_all(admin: &mut sqlx::PgConnection, statements: impl IntoIterator<Item = String>) {
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *admin)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

async fn health_is_not_serving_while_the_database_is_unreachable(db: TestDb) {
    let mut admin = db.pg().await;
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let role = format!("r_{}", uuid::Uuid::now_v7().simple());
    run_all(
        &mut admin,
        [
            format!("CREATE ROLE {role} LOGIN"),
            format!("GRANT ALL ON SCHEMA {schema} TO {role}"),
        ],
    )
    .await;
    let url = with_user(db.url(), &role);
    let app = spawn_app_with(&db, |c| {
        c.database_url = url;
        c.health_ping = Duration::from_millis(100);
    })
    .await;
    until_health(&app, "", ServingStatus::Serving).await;

    // The database refuses the server: its role may no longer log in, and its sessions end.
    run_all(
        &mut admin,
        [
            format!("ALTER ROLE {role} NOLOGIN"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            ),
        ],
    )
    .await;
    for service in ["", "aijia.v1.CaseService", "aijia.v1.WorkerService"] {
        until_health(&app, service, ServingStatus::NotServing).await;
    }

    run_all(&mut admin, [format!("ALTER ROLE {role} LOGIN")]).await;
    until_health(&app, "", ServingStatus::Serving).await;
    app.stop().await;
    run_all(
        &mut admin,
        [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")],
    )
    .await;
}
on_postgres!(health_is_not_serving_while_the_database_is_unreachable);

async fn a_database_error_reaches_the_client_without_database_text(db: TestDb) {
    let app = spawn_app(&db).await;
    app.open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    // A real failure of every statement on cases, under the running server.
    db.execute("ALTER TABLE cases RENAME TO cases_elsewhere")
        .await;
    let status = app
        .client()
        .list_cases(pb::ListCasesRequest::default())
        .await
        .expect_err("listing a table that is gone fails");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    let message = status.message();
    assert!(message.contains("(error id "), "{message}");
    for leak in [
        "cases",
        "relation",
        "table",
        "SELECT",
        "database error",
        "42P01",
        "sqlx",
    ] {
        assert!(!message.contains(leak), "{leak:?} in {message:?}");
    }
    db.execute("ALTER TABLE cases_elsewhere RENAME TO cases")
        .await;
    app.stop().await;
}
on_both_stores!(a_database_error_reaches_the_client_without_database_text);

/// Starts a server on `url` and returns how it failed and how long that took.
async fn failed_start(url: &str) -> (String, Duration) {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), url);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let started = Instant::now();
    let err = server::start(&config, clock)
        .await
        .expect_err("no database there");
    (format!("{err:#}"), started.elapsed())
}

#[tokio::test]
async fn a_refused_database_port_fails_the_start_at_once_naming_host_and_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (err, took) = failed_start(&format!("postgres://aijia@127.0.0.1:{port}/aijia")).await;
    assert!(
        err.contains(&format!("connection refused at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

async fn a_missing_database_fails_the_start_at_once_naming_it(db: TestDb) {
    let options: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let url = db
        .url()
        .replacen(&format!("/{name}?"), "/aijia_no_such_database?", 1);
    assert_ne!(url, db.url(), "the test url names its database");
    let (err, took) = failed_start(&url).await;
    assert!(
        err.contains("database \"aijia_no_such_database\" does not exist"),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
}
on_postgres!(a_missing_database_fails_the_start_at_once_naming_it);

#[tokio::test]
async fn the_cli_ends_quietly_when_its_reader_has_gone() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("aijia.db").display());
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // `| head -0`: nobody reads
    let out = tokio::process::Command::new(BINARY)
        .args(["migrate", "--database-url", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

/// Distinctive customer-side texts: none may appear in the server's log.
const NAME: &str = "Qorvath Xilbenna";
const SUBJECT: &str = "subject-zebra-quartz";
const ATTRIBUTE: &str = "attribute-walnut-plinth";
const REPLY: &str = "reply-ochre-lantern";
const NOTE: &str = "note-saffron-kettle";
const DRAFT: &str = "Your parcel is ready, draft-cobalt-meadow";
const CONTEXT: &str = "context-umber-violin";

async fn the_log_at_the_default_level_holds_no_customer_text(db: TestDb) {
    let server = ServerProcess::spawn(BINARY, db.url()).await;
    let channel = server.channel().await;
    automate_templated_activities(channel.clone()).await;
    let mut cases = pb::case_service_client::CaseServiceClient::new(channel.clone());
    let mut start = requests::start("material_collection")
        .subject(SUBJECT)
        .attr("materials", "invoice,photo")
        .attr("remark", ATTRIBUTE);
    start.customer.as_mut().unwrap().display_name = NAME.into();
    let case = cases
        .start_case(start)
        .await
        .expect("StartCase")
        .into_inner()
        .case
        .unwrap();
    let customer = case.customer.clone().unwrap().id;
    IdentityServiceClient::new(channel.clone())
        .put_customer_context(pb::PutCustomerContextRequest {
            customer_id: customer,
            context_json: format!(r#"{{"note": "{CONTEXT}"}}"#),
            actor: Some(actor("backend", "crm")),
        })
        .await
        .expect("PutCustomerContext");
    for event in [
        ev::customer_replied(REPLY),
        ev::material_provided(&["invoice"], NOTE),
    ] {
        cases
            .signal_case(requests::signal(&case.id, event))
            .await
            .expect("SignalCase");
    }
    let mut reviews = ReviewServiceClient::new(channel.clone());
    reviews
        .add_reviewer(pb::AddReviewerRequest {
            reviewer_id: "rev-log".into(),
            display_name: "Reviewer".into(),
            teams: Vec::new(),
            active: None,
            actor: Some(actor("operator", "olga")),
        })
        .await
        .expect("AddReviewer");
    let draft = reviews
        .submit_draft(pb::SubmitDraftRequest {
            request_id: unique("draft"),
            case_id: case.id.clone(),
            text: DRAFT.into(),
            audience: "customer_private".into(),
            action_type: "standard_faq".into(),
            author: Some(actor("reception", "reception-agent")),
            flags: None,
        })
        .await
        .expect("SubmitDraft")
        .into_inner()
        .draft
        .unwrap();
    if draft.status == "pending_review" {
        reviews
            .approve_draft(pb::ApproveDraftRequest {
                request_id: unique("approve"),
                draft_id: draft.draft_id.clone(),
                reviewer_id: "rev-log".into(),
                note: NOTE.into(),
            })
            .await
            .expect("ApproveDraft");
    }

    // The in-process workers deliver through the record adapter; wait until they have.
    let tasks = TaskServiceClient::new(channel.clone());
    eventually(Duration::from_secs(20), "the activities to run", || {
        let mut tasks = tasks.clone();
        let case_id = case.id.clone();
        async move {
            let all = tasks
                .list_tasks(pb::ListTasksRequest {
                    case_id,
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .tasks;
            let sent = all
                .iter()
                .any(|t| t.activity == "send_message" && t.state == "completed");
            (sent
                && all
                    .iter()
                    .all(|t| t.state != "pending" && t.state != "running"))
            .then_some(())
        }
    })
    .await;

    let log = server.log();
    assert!(log.contains("case started"), "{log}");
    assert!(log.contains("recorded a delivery"), "{log}");
    for text in [
        NAME,
        SUBJECT,
        ATTRIBUTE,
        REPLY,
        NOTE,
        DRAFT,
        "draft-cobalt-meadow",
        CONTEXT,
    ] {
        assert!(!log.contains(text), "{text:?} is in the log:\n{log}");
    }
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a log file:\n{log}"
    );
    server.kill().await;

    // A start on a migrated database is quiet about what it did not need to create.
    let again = ServerProcess::spawn(BINARY, db.url()).await;
    let log = again.log();
    assert!(log.contains("aijia listening"), "{log}");
    assert!(
        !log.contains("already exists"),
        "no migration notices:\n{log}"
    );
    again.kill().await;
}
on_both_stores!(the_log_at_the_default_level_holds_no_customer_text);

async fn a_failed_timer_keeps_its_failure_and_is_held_back_not_reclaimed(db: TestDb) {
    let store = Store::connect(db.url()).await.expect("the store");
    // A due timer, as a commit would have started it.
    db.execute(match db.backend() {
        Backend::Postgres => {
            "INSERT INTO timers (case_id, name, fire_at, created_seq, action) \
             VALUES (gen_random_uuid(), 'waiting_for_customer/remind', '2000-01-01Z', 1, 'null')"
        }
        Backend::Sqlite => {
            "INSERT INTO timers (case_id, name, fire_at, created_seq, action) \
             VALUES (randomblob(16), 'waiting_for_customer/remind', 946684800000000, 1, 'null')"
        }
    })
    .await;
    let now = chrono::Utc::now();
    let lease = TimeDelta::seconds(30);
    let claimed = store.claim_due_timers(now, now + lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    store
        .timer_failed(
            &claimed[0],
            "panicked: out of range",
            now + TimeDelta::minutes(5),
        )
        .await
        .unwrap();

    let after_lease = now + lease + TimeDelta::seconds(1);
    let again = store
        .claim_due_timers(after_lease, after_lease + lease, 10)
        .await
        .unwrap();
    assert!(again.is_empty(), "held back past its lease: {again:?}");
    let after_backoff = now + TimeDelta::minutes(6);
    let again = store
        .claim_due_timers(after_backoff, after_backoff + lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "tried again after the back-off");

    let select = "SELECT failures, last_error FROM timers";
    let (failures, error): (i64, String) = match db.backend() {
        Backend::Postgres => {
            let (f, e): (i32, String) = sqlx::query_as(select)
                .fetch_one(&mut db.pg().await)
                .await
                .unwrap();
            (i64::from(f), e)
        }
        Backend::Sqlite => sqlx::query_as(select)
            .fetch_one(&mut db.sqlite_conn().await)
            .await
            .unwrap(),
    };
    assert_eq!((failures, error.as_str()), (1, "panicked: out of range"));
}
on_both_stores!(a_failed_timer_keeps_its_failure_and_is_held_back_not_reclaimed);

async fn a_call_that_waits_long_for_a_connection_is_logged_at_warn(db: TestDb) {
    let server =
        ServerProcess::spawn_with_args(BINARY, db.url(), &["--db-max-connections", "3"]).await;
    let channel = server.channel().await;
    // Two connections LISTEN; the one left waits on a lock the test holds, so the next call
    // waits for it.
    let mut admin = db.pg().await;
    run_all(
        &mut admin,
        [
            "BEGIN".to_owned(),
            "LOCK TABLE cases IN ACCESS EXCLUSIVE MODE".to_owned(),
        ],
    )
    .await;
    let list = || {
        let mut cases = pb::case_service_client::CaseServiceClient::new(channel.clone());
        tokio::spawn(async move { cases.list_cases(pb::ListCasesRequest::default()).await })
    };
    let calls = [list(), list()];
    tokio::time::sleep(Duration::from_millis(1500)).await;
    run_all(&mut admin, ["COMMIT".to_owned()]).await;
    for call in calls {
        call.await
            .unwrap()
            .expect("ListCases once the lock is gone");
    }
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("exceeded slow threshold")),
        "{log}"
    );
    server.kill().await;
}
on_postgres!(a_call_that_waits_long_for_a_connection_is_logged_at_warn);

async fn a_task_whose_expiry_failed_keeps_the_error_and_is_held_back(db: TestDb) {
    let store = Store::connect(db.url()).await.expect("the store");
    // A running task whose last lease ran out long ago, with no attempts left.
    db.execute(match db.backend() {
        Backend::Postgres => {
            "INSERT INTO activity_tasks (case_id, activity, input, idempotency_key, state, \
             attempts, created_seq, created_at, run_at, claims, lease_owner, lease_expires_at) \
             VALUES (gen_random_uuid(), 'send_message', '{}', 'held-1', 'running', 10, 1, \
             '2000-01-01Z', '2000-01-01Z', 1, 'gone', '2000-01-01Z')"
        }
        Backend::Sqlite => {
            "INSERT INTO activity_tasks (case_id, activity, input, idempotency_key, state, \
             attempts, created_seq, created_at, run_at, claims, lease_owner, lease_expires_at) \
             VALUES (randomblob(16), 'send_message', '{}', 'held-1', 'running', 10, 1, \
             946684800000000, 946684800000000, 1, 'gone', 946684800000000)"
        }
    })
    .await;
    let now = chrono::Utc::now();
    let expired = store.exhausted_leases(now, 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    let error = TaskError {
        code: "panicked".into(),
        message: "panicked: out of range".into(),
        retryable: false,
        details: serde_json::Value::Null,
        attempt: 10,
        at: Some(now),
    };
    let held = store
        .hold_task(
            expired[0].id,
            expired[0].claims,
            &error,
            now + TimeDelta::minutes(5),
            now,
        )
        .await
        .unwrap();
    assert!(held);

    let next_sweep = now + TimeDelta::seconds(5);
    assert!(
        store
            .exhausted_leases(next_sweep, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let after_backoff = now + TimeDelta::minutes(6);
    let again = store.exhausted_leases(after_backoff, 10).await.unwrap();
    assert_eq!(again.len(), 1, "tried again after the back-off");
    let task = store.get_task(expired[0].id).await.unwrap().unwrap();
    assert_eq!(task.last_error.map(|e| e.code), Some("panicked".to_owned()));
}
on_both_stores!(a_task_whose_expiry_failed_keeps_the_error_and_is_held_back);
