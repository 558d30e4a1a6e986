//! The real server binary as a separate process, for tests that must kill it mid-load or
//! drive it with the real CLI.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::NamedTempFile;
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long the binary may take to answer health checks after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// `aijia serve` running as a child process, logging to a temporary file.
#[derive(Debug)]
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
    log: NamedTempFile,
}

impl ServerProcess {
    /// Starts `binary serve --database-url … --listen 127.0.0.1:<free port>` and waits until
    /// its gRPC health check answers SERVING.
    pub async fn spawn(binary: &str, database_url: &str) -> ServerProcess {
        Self::spawn_with_args(binary, database_url, &[]).await
    }

    /// Like [`ServerProcess::spawn`], with more `serve` flags (e.g. `--worker-concurrency 0`).
    pub async fn spawn_with_args(
        binary: &str,
        database_url: &str,
        extra: &[&str],
    ) -> ServerProcess {
        let mut args = vec!["serve", "--database-url", database_url];
        args.extend_from_slice(extra);
        Self::start(binary, &args).await
    }

    /// `binary dev --data-dir <data_dir> --listen 127.0.0.1:<free port>`: the embedded store,
    /// as a newcomer runs it.
    pub async fn spawn_dev(binary: &str, data_dir: &std::path::Path) -> ServerProcess {
        let data_dir = data_dir.to_str().expect("a UTF-8 temporary directory");
        Self::start(binary, &["dev", "--data-dir", data_dir]).await
    }

    /// Starts `binary <args> --listen 127.0.0.1:<free port>` and waits until its gRPC health
    /// check answers SERVING.
    async fn start(binary: &str, args: &[&str]) -> ServerProcess {
        let addr = free_port();
        let log = NamedTempFile::new().expect("creating a log file for the server process");
        let stderr = log.reopen().expect("reopening the server log file");
        let child = Command::new(binary)
            .args(args)
            .arg("--listen")
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
        let mut process = ServerProcess { addr, child, log };
        process.wait_ready().await;
        process
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited with {status} before it was ready; its log:\n{}",
                    self.log()
                );
            }
            if let Ok(channel) = try_connect(self.addr).await
                && health(channel, "aijia.v1.CaseService").await == Some(ServingStatus::Serving)
            {
                return;
            }
            if started.elapsed() > READY_TIMEOUT {
                panic!(
                    "the server did not become ready within {READY_TIMEOUT:?}; its log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A fresh connection to the process.
    pub async fn channel(&self) -> Channel {
        crate::app::connect(self.addr).await
    }

    /// `SIGKILL`: the process gets no chance to finish anything.
    pub async fn kill(mut self) {
        self.child
            .start_kill()
            .expect("sending SIGKILL to the server");
        let status = self
            .child
            .wait()
            .await
            .expect("waiting for the killed server");
        assert!(
            !status.success(),
            "a killed server cannot exit successfully: {status}"
        );
    }

    /// What the process wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("the bound address")
}

async fn try_connect(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid endpoint")
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
}

/// The `grpc.health.v1` status of `service` ("" for the server as a whole), if it answers.
pub async fn health(channel: Channel, service: &str) -> Option<ServingStatus> {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let resp = HealthClient::new(channel).check(request).await.ok()?;
    ServingStatus::try_from(resp.into_inner().status).ok()
}
