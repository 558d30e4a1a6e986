//! Schedules addressed by name as well as id; who changed them and why, kept and shown; next
//! fire times in the schedule's own zone, in the API and in `aijia schedule get`.

use aijia_orchestrator::clock::Clock;
use aijia_proto::v1 as pb;
use aijia_proto::v1::schedule_service_client::ScheduleServiceClient;
use aijia_proto::v1::schedule_spec::Action;
use aijia_tests::requests::{actor, unique};
use aijia_tests::{Backend, TestApp, TestDb, expect_status, on_both_stores, spawn_app};
use chrono::{DateTime, TimeZone, Utc};
use tonic::Code;
use tonic::transport::Channel;

use crate::support::cli;

fn client(app: &TestApp) -> ScheduleServiceClient<Channel> {
    ScheduleServiceClient::new(app.channel.clone())
}

fn spec(cron: &str, zone: &str) -> pb::ScheduleSpec {
    pb::ScheduleSpec {
        cron: cron.to_owned(),
        time_zone: zone.to_owned(),
        action: Some(Action::ReminderSweep(pb::ReminderSweepAction {
            waiting_for: "partner".to_owned(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

async fn create(app: &TestApp, name: &str, cron: &str, zone: &str) -> pb::Schedule {
    client(app)
        .create_schedule(pb::CreateScheduleRequest {
            request_id: unique("create"),
            name: name.to_owned(),
            spec: Some(spec(cron, zone)),
            paused: false,
        })
        .await
        .expect("CreateSchedule")
        .into_inner()
        .schedule
        .expect("a schedule")
}

async fn get_by_name(app: &TestApp, name: &str) -> Result<pb::Schedule, tonic::Status> {
    client(app)
        .get_schedule(pb::GetScheduleRequest {
            name: name.to_owned(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().schedule.expect("a schedule"))
}

/// The schedule a change answers with.
macro_rules! schedule_of {
    ($call:expr) => {
        $call
            .await
            .expect("the schedule change")
            .into_inner()
            .schedule
            .expect("a schedule")
    };
}

fn olga() -> Option<pb::Actor> {
    Some(actor("operator", "olga"))
}

/// The change log as (change, actor id, reason), newest first.
fn log(s: &pb::Schedule) -> Vec<(String, String, String)> {
    s.changes
        .iter()
        .map(|c| {
            (
                c.change.clone(),
                c.actor.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
                c.reason.clone(),
            )
        })
        .collect()
}

fn entry(change: &str, who: &str, why: &str) -> (String, String, String) {
    (change.to_owned(), who.to_owned(), why.to_owned())
}

on_both_stores!(schedules_are_addressed_by_name_and_record_who_changed_them_and_why);
async fn schedules_are_addressed_by_name_and_record_who_changed_them_and_why(db: TestDb) {
    let app = spawn_app(&db).await;
    let created = create(&app, "partner-nudge", "0 9 * * 1-5", "Asia/Shanghai").await;
    let by_name = get_by_name(&app, "partner-nudge").await.unwrap();
    assert_eq!(by_name.id, created.id);
    assert!(by_name.changes.is_empty());

    let paused = schedule_of!(client(&app).pause_schedule(pb::PauseScheduleRequest {
        name: "partner-nudge".into(),
        actor: olga(),
        reason: "partners on holiday".into(),
        ..Default::default()
    }));
    assert!(paused.paused);
    assert!(paused.next_fire_times.is_empty() && paused.next_fire_times_local.is_empty());
    let resumed = schedule_of!(client(&app).resume_schedule(pb::ResumeScheduleRequest {
        name: "partner-nudge".into(),
        actor: Some(actor("operator", "li")),
        reason: "holiday over".into(),
        ..Default::default()
    }));
    assert!(!resumed.paused);
    let updated = schedule_of!(client(&app).update_schedule(pb::UpdateScheduleRequest {
        name: "partner-nudge".into(),
        spec: Some(spec("30 8 * * 1-5", "Asia/Shanghai")),
        actor: olga(),
        reason: "earlier, before standup".into(),
        ..Default::default()
    }));
    assert_eq!(updated.spec.unwrap().cron, "30 8 * * 1-5");

    let shown = get_by_name(&app, "partner-nudge").await.unwrap();
    assert_eq!(
        log(&shown),
        vec![
            entry("updated", "olga", "earlier, before standup"),
            entry("resumed", "li", "holiday over"),
            entry("paused", "olga", "partners on holiday"),
        ],
        "newest first"
    );
    assert!(shown.changes.iter().all(|c| c.at.is_some()));

    // Pausing what is already running changes nothing and logs nothing.
    let again = schedule_of!(client(&app).resume_schedule(pb::ResumeScheduleRequest {
        schedule_id: created.id.clone(),
        actor: olga(),
        reason: "just in case".into(),
        ..Default::default()
    }));
    assert_eq!(again.changes.len(), 3);

    let fire = client(&app)
        .trigger_schedule(pb::TriggerScheduleRequest {
            request_id: unique("trigger"),
            name: "partner-nudge".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .fire
        .unwrap();
    assert_eq!(fire.outcome, "triggered");
    assert_eq!(
        get_by_name(&app, "partner-nudge")
            .await
            .unwrap()
            .recent_fires
            .len(),
        1
    );

    client(&app)
        .delete_schedule(pb::DeleteScheduleRequest {
            name: "partner-nudge".into(),
            actor: olga(),
            reason: "replaced by the CRM's own reminders".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    expect_status(
        get_by_name(&app, "partner-nudge").await,
        Code::NotFound,
        &["partner-nudge"],
    );
    // The log outlives the schedule.
    let deleted = deletions(&db, &created.id).await;
    assert_eq!(
        deleted,
        vec![(
            "olga".to_owned(),
            "replaced by the CRM's own reminders".to_owned()
        )]
    );
    app.stop().await;
}

/// Who deleted the schedule and why, from its change log in the database.
async fn deletions(db: &TestDb, schedule_id: &str) -> Vec<(String, String)> {
    let id = uuid::Uuid::parse_str(schedule_id).unwrap();
    match db.backend() {
        Backend::Postgres => sqlx::query_as(
            "SELECT actor_id, reason FROM schedule_changes
             WHERE change = 'deleted' AND schedule_id = $1",
        )
        .bind(id)
        .fetch_all(&mut db.pg().await)
        .await
        .unwrap(),
        Backend::Sqlite => sqlx::query_as(
            "SELECT actor_id, reason FROM schedule_changes
             WHERE change = 'deleted' AND schedule_id = ?1",
        )
        .bind(id)
        .fetch_all(&mut db.sqlite_conn().await)
        .await
        .unwrap(),
    }
}

on_both_stores!(schedule_changes_without_actor_reason_or_a_schedule_are_refused);
async fn schedule_changes_without_actor_reason_or_a_schedule_are_refused(db: TestDb) {
    let app = spawn_app(&db).await;
    let created = create(&app, "daily-check", "0 9 * * *", "UTC").await;
    let pause = |name: &str, actor: Option<pb::Actor>, reason: &str| pb::PauseScheduleRequest {
        name: name.to_owned(),
        actor,
        reason: reason.to_owned(),
        ..Default::default()
    };
    let cases = [
        (
            pause("daily-check", olga(), ""),
            Code::InvalidArgument,
            "reason",
        ),
        (
            pause("daily-check", None, "why"),
            Code::InvalidArgument,
            "actor",
        ),
        (
            pause("", olga(), "why"),
            Code::InvalidArgument,
            "schedule_id",
        ),
        (pause("no-such", olga(), "why"), Code::NotFound, "no-such"),
        (
            pb::PauseScheduleRequest {
                schedule_id: created.id.clone(),
                ..pause("daily-check", olga(), "why")
            },
            Code::InvalidArgument,
            "not both",
        ),
    ];
    for (req, code, needle) in cases {
        expect_status(client(&app).pause_schedule(req).await, code, &[needle]);
    }
    let shown = get_by_name(&app, "daily-check").await.unwrap();
    assert!(
        !shown.paused && shown.changes.is_empty(),
        "nothing changed or logged"
    );
    app.stop().await;
}

on_both_stores!(next_fire_times_are_shown_in_the_schedules_zone_across_a_dst_change);
async fn next_fire_times_are_shown_in_the_schedules_zone_across_a_dst_change(db: TestDb) {
    let app = spawn_app(&db).await;
    // New York moves to daylight time on Sunday 14 March 2027.
    let friday_evening = Utc.with_ymd_and_hms(2027, 3, 12, 20, 0, 0).unwrap();
    app.clock.advance(friday_evening - app.clock.now());
    let created = create(&app, "ny-morning", "0 9 * * *", "America/New_York").await;
    assert_eq!(
        created.next_fire_times_local,
        [
            "2027-03-13T09:00:00-05:00",
            "2027-03-14T09:00:00-04:00",
            "2027-03-15T09:00:00-04:00"
        ]
    );
    for (utc, local) in created
        .next_fire_times
        .iter()
        .zip(&created.next_fire_times_local)
    {
        let local = DateTime::parse_from_rfc3339(local).unwrap();
        assert_eq!(local.timestamp(), utc.seconds, "the same instant");
    }

    let (ok, text, stderr) = cli(&app, &["schedule", "get", "ny-morning"]).await;
    assert!(ok, "{stderr}");
    assert!(
        text.contains("2027-03-13 09:00:00 -05:00 America/New_York")
            && text.contains("2027-03-14 09:00:00 -04:00 America/New_York"),
        "{text}"
    );

    let pause = ["schedule", "pause", "ny-morning", "--reason", "snow day"];
    let (ok, text, stderr) = cli(&app, &[&pause[..], &["--actor", "operator:olga"]].concat()).await;
    assert!(ok, "{stderr}");
    assert!(text.contains("paused by operator:olga: snow day"), "{text}");
    app.stop().await;
}
