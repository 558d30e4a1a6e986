//! The real server, started in this process on a loopback port over a test's own database,
//! with a connected client and a manual clock; plus the short calls tests make all the time.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aijia_orchestrator::clock::ManualClock;
use aijia_orchestrator::server::{self, RunningServer, ServerConfig};
use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event;
use aijia_workflows::automation::ActionType;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::db::TestDb;
use crate::requests;

/// How long a graceful stop may take before the test calls it hung.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A server running in this test, and a client connected to it.
#[derive(Debug)]
pub struct TestApp {
    pub addr: SocketAddr,
    /// The server's only clock: it stands still unless a test advances it.
    pub clock: ManualClock,
    pub channel: Channel,
    client: CaseServiceClient<Channel>,
    server: RunningServer,
}

/// Starts the real server (migrations included) on 127.0.0.1:0 over `db`, and connects.
///
/// In-process activity workers are off, so a case's history holds exactly the events a test
/// sends (activity tasks stay queued), and the manual clock fires no timer until a test moves
/// it past one. [`spawn_app_with`] changes that.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// Like [`spawn_app`], with the configuration adjusted by `configure` first (e.g. to run the
/// in-process workers: `|c| c.workers.concurrency = 4`).
pub async fn spawn_app_with(db: &TestDb, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let clock = ManualClock::new(chrono::Utc::now());
    let listen = "127.0.0.1:0".parse().expect("a socket address");
    let mut config = ServerConfig::new(listen, db.url());
    config.workers.concurrency = 0;
    // Test servers share one PostgreSQL (100 connections) with every other test running:
    // two connections LISTEN, four serve the calls.
    config.pool.max_connections = 6;
    configure(&mut config);
    let server = server::start(&config, Arc::new(clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("starting the server on {:?}: {e:#}", db.backend()));
    let channel = connect(server.addr).await;
    TestApp {
        addr: server.addr,
        clock,
        client: CaseServiceClient::new(channel.clone()),
        channel,
        server,
    }
}

/// Opens every templated action type to `auto` (forced, with a reason), so the activities the
/// state machines emit run on their own instead of waiting for review (the default, review
/// mode): for tests of tasks and workers rather than of the safety rails.
pub async fn automate_templated_activities(channel: Channel) {
    let mut client = AutomationServiceClient::new(channel);
    // The action types automation governs among the activities the state machines emit.
    let governed = aijia_workflows::activity::ALL
        .iter()
        .filter_map(|activity| ActionType::of_activity(activity));
    for action_type in governed {
        client
            .set_action_mode(pb::SetActionModeRequest {
                request_id: requests::unique("automate"),
                action_type: action_type.as_str().to_owned(),
                mode: "auto".into(),
                actor: Some(requests::operator()),
                reason: "this test is about activity tasks, not their review".into(),
                force: true,
            })
            .await
            .unwrap_or_else(|s| panic!("opening {action_type} to auto: {s}"));
    }
}

/// A channel to `addr` (connected eagerly, so a dead server shows at once).
pub async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"))
}

impl TestApp {
    /// A client of its own (they share the connection).
    pub fn client(&self) -> CaseServiceClient<Channel> {
        self.client.clone()
    }

    /// Stops the server gracefully; a stop that hangs or fails fails the test.
    pub async fn stop(self) {
        let TestApp {
            server,
            client,
            channel,
            ..
        } = self;
        drop(client);
        drop(channel);
        match tokio::time::timeout(STOP_TIMEOUT, server.stop()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the server stopped with an error: {e:#}"),
            Err(_) => panic!("the server did not stop within {STOP_TIMEOUT:?}"),
        }
    }

    pub async fn start(&self, req: pb::StartCaseRequest) -> pb::StartCaseResponse {
        ok(self.client().start_case(req).await, "StartCase")
    }

    /// Starts a case that must be new, and returns it.
    pub async fn open(&self, req: pb::StartCaseRequest) -> pb::Case {
        let resp = self.start(req).await;
        assert!(
            resp.created,
            "expected a new case, got an existing one: {resp:?}"
        );
        resp.case.expect("StartCase answered without a case")
    }

    pub async fn try_signal(&self, req: pb::SignalCaseRequest) -> Result<pb::CaseChange, Status> {
        self.client().signal_case(req).await.map(|r| {
            r.into_inner()
                .change
                .expect("SignalCase answered without a change")
        })
    }

    pub async fn signal(&self, req: pb::SignalCaseRequest) -> pb::CaseChange {
        let what = format!("SignalCase {:?}", req.event);
        ok(self.try_signal(req).await.map(tonic::Response::new), &what)
    }

    /// Sends `event` with a fresh request id; it must be applied (not a duplicate).
    pub async fn send(&self, case_id: &str, event: Event) -> pb::CaseChange {
        let change = self.signal(requests::signal(case_id, event)).await;
        assert!(
            !change.duplicate,
            "a fresh request id answered as a duplicate: {change:?}"
        );
        change
    }

    pub async fn try_cancel(&self, req: pb::CancelCaseRequest) -> Result<pb::CaseChange, Status> {
        self.client().cancel_case(req).await.map(|r| {
            r.into_inner()
                .change
                .expect("CancelCase answered without a change")
        })
    }

    pub async fn cancel(&self, req: pb::CancelCaseRequest) -> pb::CaseChange {
        ok(
            self.try_cancel(req).await.map(tonic::Response::new),
            "CancelCase",
        )
    }

    pub async fn get(&self, case_id: &str) -> pb::Case {
        let req = pb::GetCaseRequest {
            case_id: case_id.to_owned(),
            ..Default::default()
        };
        ok(self.client().get_case(req).await, "GetCase")
            .case
            .expect("GetCase answered without a case")
    }

    pub async fn list(&self, req: pb::ListCasesRequest) -> pb::ListCasesResponse {
        ok(self.client().list_cases(req).await, "ListCases")
    }

    /// Every case matching `req`'s filters, following page tokens.
    pub async fn list_all(&self, mut req: pb::ListCasesRequest) -> Vec<pb::Case> {
        let mut cases = Vec::new();
        for _ in 0..1000 {
            let page = self.list(req.clone()).await;
            cases.extend(page.cases);
            if page.next_page_token.is_empty() {
                return cases;
            }
            req.page_token = page.next_page_token;
        }
        panic!("ListCases kept returning page tokens");
    }

    pub async fn history_page(
        &self,
        case_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> pb::GetCaseHistoryResponse {
        let req = pb::GetCaseHistoryRequest {
            case_id: case_id.to_owned(),
            page_size,
            page_token: page_token.to_owned(),
        };
        ok(self.client().get_case_history(req).await, "GetCaseHistory")
    }

    /// The whole history of a case, oldest first.
    pub async fn history(&self, case_id: &str) -> Vec<pb::HistoryEvent> {
        let mut events = Vec::new();
        let mut token = String::new();
        for _ in 0..10_000 {
            let page = self.history_page(case_id, 1000, &token).await;
            events.extend(page.events);
            if page.next_page_token.is_empty() {
                return events;
            }
            token = page.next_page_token;
        }
        panic!("GetCaseHistory kept returning page tokens");
    }

    pub async fn replay(&self, case_id: &str) -> pb::ReplayCaseResponse {
        let req = pb::ReplayCaseRequest {
            case_id: case_id.to_owned(),
        };
        ok(self.client().replay_case(req).await, "ReplayCase")
    }
}

fn ok<T>(result: Result<tonic::Response<T>, Status>, what: &str) -> T {
    match result {
        Ok(resp) => resp.into_inner(),
        Err(status) => panic!("{what} failed: {:?}: {}", status.code(), status.message()),
    }
}

/// Asserts that a call failed with `code` and a message containing every one of `needles`;
/// returns the status for further checks.
pub fn expect_status<T: Debug>(result: Result<T, Status>, code: Code, needles: &[&str]) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?}, but the call succeeded with {value:?}"),
        Err(status) => status,
    };
    assert_eq!(
        status.code(),
        code,
        "expected {code:?}, got {:?}: {}",
        status.code(),
        status.message()
    );
    for needle in needles {
        assert!(
            status.message().contains(needle),
            "the {code:?} message should mention {needle:?}: {}",
            status.message()
        );
    }
    status
}
