//! Two servers on one database, each deciding on the cases it last committed without reading
//! them: a case the other server moved since is never the basis of an answer. Every signal
//! applies once, at the next seq, and a refusal or a version conflict always reflects the case
//! as it is in the database.

use aijia_tests::requests::{self, SignalExt, StartExt, ev};
use aijia_tests::{TestDb, expect_status, on_both_stores, spawn_app};
use tonic::Code;

on_both_stores!(a_server_never_answers_from_a_case_another_server_moved);
async fn a_server_never_answers_from_a_case_another_server_moved(db: TestDb) {
    let a = spawn_app(&db).await;
    let b = spawn_app(&db).await;

    // A opened the case (and holds it at version 1); B moves it on.
    let case = a
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    b.send(&case.id, ev::material_provided(&["invoice"], ""))
        .await;
    // On A's version the case still waits for the invoice and refuses `complete`; the case
    // as it is accepts it.
    let complete = requests::signal(&case.id, ev::complete("filed")).request_id("complete-1");
    let done = a.signal(complete.clone()).await;
    assert_eq!(done.event_seq, 3);
    assert_eq!(
        done.case.as_ref().map(|c| c.state.as_str()),
        Some("completed")
    );
    // The same request again, on either server: the first answer, nothing applied twice.
    for server in [&a, &b] {
        let again = server.signal(complete.clone()).await;
        assert!(again.duplicate);
        assert_eq!(again.event_seq, 3);
    }

    // B cancels a case A holds as open: A refuses with the state the case is really in.
    let other = a
        .open(requests::start("material_collection").attr("materials", "invoice"))
        .await;
    b.cancel(requests::cancel(&other.id, "customer withdrew"))
        .await;
    expect_status(
        a.try_signal(requests::signal(
            &other.id,
            ev::material_provided(&["invoice"], ""),
        ))
        .await,
        Code::FailedPrecondition,
        &["cancelled"],
    );

    // An expected version is checked against the case as it is, not as A last saw it.
    let third = a.open(requests::start("progress_inquiry")).await;
    b.send(&third.id, ev::customer_replied("any news?")).await;
    let on_time = a
        .signal(
            requests::signal(&third.id, ev::customer_replied("still waiting")).expected_version(2),
        )
        .await;
    assert_eq!(on_time.event_seq, 3);
    b.send(&third.id, ev::customer_replied("hello?")).await;
    expect_status(
        a.try_signal(requests::signal(&third.id, ev::customer_replied("late")).expected_version(3))
            .await,
        Code::Aborted,
        &["version 4", "expected 3"],
    );

    for id in [&case.id, &other.id, &third.id] {
        let history = a.history(id).await;
        let seqs: Vec<i64> = history.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=history.len() as i64).collect::<Vec<_>>());
        assert!(a.replay(id).await.matches);
    }
    assert_eq!(
        a.history(&other.id).await.len(),
        2,
        "the refused signal wrote nothing"
    );
    a.stop().await;
    b.stop().await;
}
