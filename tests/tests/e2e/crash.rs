//! SIGKILL the real server binary while clients are signalling, restart it on the same
//! database, and check that every acknowledged signal is in the history exactly once at the
//! sequence number it was acknowledged with, and that unacknowledged ones are there at most
//! once (and exactly once after a retry with the same request id).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_tests::process::ServerProcess;
use aijia_tests::requests::{self, SignalExt, ev};
use aijia_tests::{TestDb, on_both_stores};
use tonic::transport::Channel;

const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");
const CASES: usize = 4;
const CLIENTS: usize = 8;
const LOAD: Duration = Duration::from_millis(1000);
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Acked {
    request_id: String,
    case_id: String,
    seq: i64,
}

#[derive(Debug, Default)]
struct Outcomes {
    acked: Vec<Acked>,
    /// Sent, but the answer never came (or was an error): in flight when the server died.
    unacked: Vec<pb::SignalCaseRequest>,
}

/// One client: signals its case in a loop with fresh request ids until told to stop.
async fn client_loop(
    client_no: usize,
    mut client: CaseServiceClient<Channel>,
    case_id: String,
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Outcomes>>,
) {
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // Both events leave a material collection case waiting for the customer.
        let event = if n % 2 == 0 {
            ev::reassign_owner(&format!("owner-{client_no}-{n}"))
        } else {
            ev::customer_replied(&format!("message {client_no}-{n}"))
        };
        let req = requests::signal(&case_id, event).request_id(&format!("crash-{client_no}-{n}"));
        let answer = tokio::time::timeout(CALL_TIMEOUT, client.signal_case(req.clone())).await;
        let mut outcomes = outcomes.lock().unwrap();
        match answer {
            Ok(Ok(resp)) => {
                let change = resp.into_inner().change.unwrap();
                assert!(
                    !change.duplicate,
                    "a fresh request id answered as duplicate"
                );
                outcomes.acked.push(Acked {
                    request_id: req.request_id,
                    case_id: case_id.clone(),
                    seq: change.event_seq,
                });
            }
            Ok(Err(_)) | Err(_) => outcomes.unacked.push(req),
        }
    }
}

/// request id → the sequence numbers of the events that carry it, for each case.
async fn request_seqs(
    client: &mut CaseServiceClient<Channel>,
    case_id: &str,
) -> (Vec<pb::HistoryEvent>, HashMap<String, Vec<i64>>) {
    let mut events = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .get_case_history(pb::GetCaseHistoryRequest {
                case_id: case_id.to_owned(),
                page_size: 1000,
                page_token: token.clone(),
            })
            .await
            .expect("history after the restart")
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut by_request: HashMap<String, Vec<i64>> = HashMap::new();
    for event in &events {
        by_request
            .entry(event.request_id.clone())
            .or_default()
            .push(event.seq);
    }
    (events, by_request)
}

on_both_stores!(acknowledged_signals_survive_sigkill_exactly_once);
async fn acknowledged_signals_survive_sigkill_exactly_once(db: TestDb) {
    let server = ServerProcess::spawn(BINARY, db.url()).await;
    let mut client = CaseServiceClient::new(server.channel().await);
    let mut cases = Vec::new();
    for _ in 0..CASES {
        let resp = client
            .start_case(requests::start("material_collection"))
            .await
            .expect("starting a case")
            .into_inner();
        cases.push(resp.case.unwrap().id);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut clients = Vec::new();
    for client_no in 0..CLIENTS {
        // A connection per client, as independent callers would have.
        let client = CaseServiceClient::new(server.channel().await);
        clients.push(tokio::spawn(client_loop(
            client_no,
            client,
            cases[client_no % CASES].clone(),
            Arc::clone(&stop),
            Arc::clone(&outcomes),
        )));
    }
    tokio::time::sleep(LOAD).await;
    stop.store(true, Ordering::SeqCst);
    server.kill().await;
    for task in clients {
        task.await.expect("a client task panicked");
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(
        outcomes.acked.len() >= 20,
        "too little load to test anything: {} acknowledged",
        outcomes.acked.len()
    );

    let server = ServerProcess::spawn(BINARY, db.url()).await;
    let mut client = CaseServiceClient::new(server.channel().await);
    let mut by_case = HashMap::new();
    for case_id in &cases {
        let (events, by_request) = request_seqs(&mut client, case_id).await;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "gapless history"
        );
        let case = client
            .get_case(pb::GetCaseRequest {
                case_id: case_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .case
            .unwrap();
        assert_eq!(
            case.version,
            events.len() as i64,
            "version = history length"
        );
        let replay = client
            .replay_case(pb::ReplayCaseRequest {
                case_id: case_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            replay.matches,
            "case {case_id} replays after the crash: {replay:?}"
        );
        by_case.insert(case_id.clone(), by_request);
    }

    for acked in &outcomes.acked {
        let seqs = by_case[&acked.case_id].get(&acked.request_id);
        assert_eq!(
            seqs,
            Some(&vec![acked.seq]),
            "acknowledged {} must be in the history once, at seq {}",
            acked.request_id,
            acked.seq
        );
    }

    let mut landed_before_retry = 0;
    for req in &outcomes.unacked {
        let before = by_case[&req.case_id]
            .get(&req.request_id)
            .cloned()
            .unwrap_or_default();
        assert!(
            before.len() <= 1,
            "{} is in the history {} times",
            req.request_id,
            before.len()
        );
        let change = client
            .signal_case(req.clone())
            .await
            .unwrap_or_else(|s| {
                panic!(
                    "retrying {}: {:?} {}",
                    req.request_id,
                    s.code(),
                    s.message()
                )
            })
            .into_inner()
            .change
            .unwrap();
        if let [seq] = before[..] {
            landed_before_retry += 1;
            assert!(
                change.duplicate,
                "{} was applied before the crash",
                req.request_id
            );
            assert_eq!(change.event_seq, seq);
        } else {
            assert!(!change.duplicate);
        }
        let (_, after) = request_seqs(&mut client, &req.case_id).await;
        assert_eq!(
            after[&req.request_id],
            vec![change.event_seq],
            "{} exactly once",
            req.request_id
        );
    }
    eprintln!(
        "crash test on {:?}: {} acknowledged, {} in flight at the kill ({} of those had landed)",
        db.backend(),
        outcomes.acked.len(),
        outcomes.unacked.len(),
        landed_before_retry
    );
    server.kill().await;
}
