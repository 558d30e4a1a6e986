//! Assertions shared by the end-to-end tests.

use aijia_proto::v1 as pb;
use aijia_proto::v1::signal_case_request::Event;
use aijia_tests::TestApp;
use chrono::{DateTime, TimeDelta, Utc};

/// Sends `event` to `case` and checks what every applied event shares: the next sequence
/// number, version = that number, the same case, not a duplicate. Returns the case after it.
pub async fn apply(app: &TestApp, case: &pb::Case, event: Event) -> pb::Case {
    let change = app.send(&case.id, event).await;
    let after = change.case.clone().expect("a change carries the case");
    assert_eq!(
        change.event_seq,
        case.version + 1,
        "event_seq of {change:?}"
    );
    assert_eq!(after.version, change.event_seq, "version after the event");
    assert_eq!(after.id, case.id);
    after
}

/// Asserts the case waits for `party` and that what it waits for reads `what`.
#[track_caller]
pub fn assert_waiting(case: &pb::Case, state: &str, party: &str, what: &str) {
    assert_eq!(case.state, state, "state of {case:#?}");
    let waiting = case
        .waiting
        .as_ref()
        .unwrap_or_else(|| panic!("a case in {state} must say what it waits for: {case:#?}"));
    assert_eq!(waiting.party, party, "waiting party");
    assert_eq!(waiting.what, what, "what the case waits for");
    assert_eq!(
        case.review_needed,
        state == "waiting_for_review",
        "review_needed in {state}"
    );
    assert!(!case.complete);
    assert!(
        case.next_step.starts_with("wait for "),
        "next step of a waiting case: {:?}",
        case.next_step
    );
}

/// Asserts a case that waits for nobody (received, completed, cancelled).
#[track_caller]
pub fn assert_not_waiting(case: &pb::Case, state: &str) {
    assert_eq!(case.state, state, "state of {case:#?}");
    assert!(
        case.waiting.is_none(),
        "a case in {state} waits for nobody: {case:#?}"
    );
    assert!(!case.review_needed);
    assert_eq!(case.complete, state == "completed", "complete in {state}");
    assert!(
        !case.next_step.is_empty(),
        "every case says what comes next"
    );
}

/// The checklist as (name, done) pairs.
pub fn checklist(case: &pb::Case) -> Vec<(String, bool)> {
    case.waiting
        .as_ref()
        .map(|w| {
            w.checklist
                .iter()
                .map(|i| (i.name.clone(), i.done))
                .collect()
        })
        .unwrap_or_default()
}

pub fn items(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect()
}

pub fn time(t: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.expect("a timestamp");
    DateTime::from_timestamp(t.seconds, t.nanos as u32).expect("a timestamp in range")
}

/// Asserts the case's pending timers all belong to its waiting `state` (named
/// `{state}/<kind>`), include `{state}/remind`, and fall due after the wait began. Returns each
/// timer's name and delay from the start of the wait, sorted, so that a test can check that a
/// wait entered again re-arms the same timers from its new start. (The delays themselves are
/// the timer policy's business, not these tests'.)
#[track_caller]
pub fn assert_timers(case: &pb::Case, state: &str) -> Vec<(String, TimeDelta)> {
    let since = time(
        case.waiting
            .as_ref()
            .expect("a waiting case")
            .since
            .as_ref(),
    );
    let mut timers: Vec<(String, TimeDelta)> = case
        .pending_timers
        .iter()
        .map(|t| (t.name.clone(), time(t.fire_at.as_ref()) - since))
        .collect();
    timers.sort();
    let prefix = format!("{state}/");
    assert!(
        timers.iter().all(|(name, _)| name.starts_with(&prefix)),
        "every pending timer of a case in {state} belongs to that state: {timers:?}"
    );
    assert!(
        timers
            .iter()
            .any(|(name, _)| *name == format!("{state}/remind")),
        "a case in {state} has a reminder pending: {timers:?}"
    );
    assert!(
        timers.iter().all(|(_, delay)| *delay > TimeDelta::zero()),
        "timers fall due after the wait began: {timers:?}"
    );
    timers
}

/// Asserts the case is where `before` left it: same version, history no longer.
pub async fn assert_unchanged(app: &TestApp, before: &pb::Case) {
    let now = app.get(&before.id).await;
    assert_eq!(now.version, before.version, "version moved");
    assert_eq!(now.state, before.state, "state moved");
    assert_eq!(now.owner, before.owner, "owner moved");
    let history = app.history(&before.id).await;
    assert_eq!(history.len() as i64, before.version, "history grew");
}

/// Runs the real `aijia` command line against `app` (`--server` is added) and returns its
/// exit status and output as text: (success, stdout, stderr).
pub async fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_aijia-under-test"))
        .args(args)
        .arg("--server")
        .arg(format!("http://{}", app.addr))
        .output()
        .await
        .unwrap_or_else(|e| panic!("running aijia {args:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
