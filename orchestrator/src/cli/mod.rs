//! The `aijia` command line: run a server (`dev`, `serve`), migrate a database, and operate
//! cases on a running server over gRPC (`case …`).

/// `println!` for command output. A reader that went away (`aijia … | head -2`) ends the
/// command quietly and successfully, as it does any Unix filter, instead of a panic.
macro_rules! outln {
    () => {
        $crate::cli::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}

mod case;
mod identity;
mod output;
mod policy;
mod review;
mod schedule;
mod task;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::clock::SystemClock;
use crate::server::{self, ServerConfig};
use crate::store::{MAX_CONNECTIONS, PoolConfig, Store};
use crate::telemetry::{self, LogFormat};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7600";
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7600";

#[derive(Debug, Parser)]
#[command(
    name = "aijia",
    version,
    about = "Durable service cases: orchestrator and operator CLI"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "AIJIA_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    /// Export traces over OTLP/gRPC to this collector (e.g. http://127.0.0.1:4317); off when unset.
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server on the embedded SQLite store: no set-up, no flags needed.
    Dev {
        #[arg(long, env = "AIJIA_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Where the embedded database lives.
        #[arg(long, env = "AIJIA_DATA_DIR", default_value = ".aijia")]
        data_dir: PathBuf,
        /// Use this database instead of the embedded one (postgres://… or sqlite:…).
        #[arg(long, env = "AIJIA_DATABASE_URL")]
        database_url: Option<String>,
        #[command(flatten)]
        workers: task::WorkerArgs,
        #[command(flatten)]
        scheduler: schedule::SchedulerArgs,
        #[command(flatten)]
        rails: policy::RailsArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run the server on PostgreSQL (or any database url).
    Serve {
        #[arg(long, env = "AIJIA_LISTEN", default_value = "0.0.0.0:7600")]
        listen: SocketAddr,
        #[arg(long, env = "AIJIA_DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        workers: task::WorkerArgs,
        #[command(flatten)]
        scheduler: schedule::SchedulerArgs,
        #[command(flatten)]
        rails: policy::RailsArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Apply database migrations and exit (the servers also apply them at start-up).
    Migrate {
        #[arg(long, env = "AIJIA_DATABASE_URL")]
        database_url: String,
    },
    /// Operate service cases on a running server.
    Case(case::CaseArgs),
    /// Manage cron schedules on a running server.
    Schedule(schedule::ScheduleArgs),
    /// List, retry and cancel activity tasks on a running server.
    Task(task::TaskArgs),
    /// The workers that polled for activity tasks recently.
    Worker(worker::WorkersArgs),
    /// The review queue and the five decisions: approve, edit, reject, transfer, take over.
    Review(review::ReviewArgs),
    /// Automation modes, the global pause, policy history, rollback, replay, risk policies.
    Policy(policy::PolicyArgs),
    /// Identity checks and customers' private context.
    Identity(identity::IdentityArgs),
}

#[derive(Debug, clap::Args)]
struct DbArgs {
    /// The most PostgreSQL connections this process holds (3 to 1000; two are its LISTENs
    /// for wake-ups). PostgreSQL allows 100 by default for all processes together: keep the
    /// sum over all nodes below that.
    #[arg(
        long,
        env = "AIJIA_DB_MAX_CONNECTIONS",
        default_value_t = PoolConfig::default().max_connections,
        value_parser = clap::value_parser!(u32)
            .range(i64::from(*MAX_CONNECTIONS.start())..=i64::from(*MAX_CONNECTIONS.end())),
    )]
    db_max_connections: u32,
}

impl DbArgs {
    fn config(&self) -> PoolConfig {
        PoolConfig {
            max_connections: self.db_max_connections,
        }
    }
}

/// Runs the command line and turns an error into a one-line message and a failing exit code;
/// the binary's `main` is only this.
pub async fn run() -> std::process::ExitCode {
    match main().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line, without a backtrace.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Dev {
            listen,
            data_dir,
            database_url,
            workers,
            scheduler,
            rails,
            db,
        } => {
            let telemetry = telemetry::init(cli.log_format, "info", cli.otlp_endpoint.as_deref());
            let database_url = match database_url {
                Some(url) => url,
                None => {
                    std::fs::create_dir_all(&data_dir).with_context(|| {
                        format!("while creating the data directory {}", data_dir.display())
                    })?;
                    format!("sqlite:{}", data_dir.join("aijia.db").display())
                }
            };
            let mut config = ServerConfig::new(listen, database_url);
            config.workers = workers.config()?;
            config.scheduler = scheduler.config();
            config.rails = rails.config()?;
            config.pool = db.config();
            let served = run_server(config, true).await;
            telemetry.shutdown().await;
            served
        }
        Command::Serve {
            listen,
            database_url,
            workers,
            scheduler,
            rails,
            db,
        } => {
            let telemetry = telemetry::init(cli.log_format, "info", cli.otlp_endpoint.as_deref());
            let mut config = ServerConfig::new(listen, database_url);
            config.workers = workers.config()?;
            config.scheduler = scheduler.config();
            config.rails = rails.config()?;
            config.pool = db.config();
            let served = run_server(config, false).await;
            telemetry.shutdown().await;
            served
        }
        Command::Migrate { database_url } => {
            telemetry::init(cli.log_format, "info", None);
            let store = Store::connect(&database_url)
                .await
                .with_context(|| format!("while migrating {}", server::redact(&database_url)))?;
            outln!("migrations applied to the {} database", store.backend());
            Ok(())
        }
        Command::Case(args) => {
            telemetry::init(cli.log_format, "warn", None);
            case::run(args).await
        }
        Command::Schedule(args) => {
            telemetry::init(cli.log_format, "warn", None);
            schedule::run(args).await
        }
        Command::Task(args) => {
            telemetry::init(cli.log_format, "warn", None);
            task::run(args).await
        }
        Command::Worker(args) => {
            telemetry::init(cli.log_format, "warn", None);
            worker::run(args).await
        }
        Command::Review(args) => {
            telemetry::init(cli.log_format, "warn", None);
            review::run(args).await
        }
        Command::Policy(args) => {
            telemetry::init(cli.log_format, "warn", None);
            policy::run(args).await
        }
        Command::Identity(args) => {
            telemetry::init(cli.log_format, "warn", None);
            identity::run(args).await
        }
    }
}

/// Writes one line of command output (see `outln!`).
pub(crate) fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing the output: {err}");
        std::process::exit(1);
    }
}

/// The flags of every client command (`case`, `task`, `review`, …): which server, and how
/// to print what it answers. Flattened into each, so their names, variables and help agree.
#[derive(Debug, Args)]
struct ClientArgs {
    /// The server's address.
    #[arg(long, global = true, env = "AIJIA_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
}

impl ClientArgs {
    /// A channel to the server, with errors that say what to check.
    async fn connect(&self) -> anyhow::Result<tonic::transport::Channel> {
        let server = &self.server;
        tonic::transport::Channel::from_shared(server.clone())
            .with_context(|| format!("{server:?} is not a server address (e.g. {DEFAULT_SERVER})"))?
            .connect()
            .await
            .with_context(|| format!("while connecting to {server} (is `aijia dev` running?)"))
    }
}

/// `--actor`, flattened into the client commands that change something (all but `workers`).
#[derive(Debug, Args)]
struct ActorArgs {
    /// Who acts, as role:id (e.g. operator:alice, reviewer:bob, identity:identity-agent); kept
    /// with the change it makes.
    #[arg(long, global = true, env = "AIJIA_ACTOR", default_value_t = default_actor())]
    actor: String,
}

fn default_actor() -> String {
    format!(
        "operator:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".into())
    )
}

impl ActorArgs {
    /// `role:id` split for the wire; the server judges both parts, so a malformed value gets
    /// its error, not a second one here.
    fn actor(&self) -> aijia_proto::v1::Actor {
        let (role, id) = self.actor.split_once(':').unwrap_or((&self.actor, ""));
        aijia_proto::v1::Actor {
            role: role.to_owned(),
            id: id.to_owned(),
        }
    }
}

async fn run_server(config: ServerConfig, print_way_in: bool) -> anyhow::Result<()> {
    let running = server::start(&config, Arc::new(SystemClock)).await?;
    if print_way_in {
        print_welcome(running.addr, &config.database_url);
    }
    let token = running.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight calls (Ctrl-C again to exit at once)");
        token.cancel();
        shutdown_signal().await;
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

fn print_welcome(addr: SocketAddr, database_url: &str) {
    let server = format!("http://{addr}");
    outln!(
        "\nAijia is running.\n  gRPC:     {addr}  (health and reflection on; try `grpcurl -plaintext {addr} list`)\n  database: {}\n\nTry, in another terminal:\n  cargo run -p aijia-orchestrator -- case start --server {server} --type material_collection \\\n      --business-key order-1001 --customer-id c-42 --customer-name \"Li Wei\" --owner alice \\\n      --subject \"Warranty claim\" --attr materials=\"invoice,photo of the device\"\n  cargo run -p aijia-orchestrator -- case list --server {server}\n\nCtrl-C stops it.\n",
        server::redact(database_url)
    );
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
