//! Structured logs with `tracing`: human-readable by default, JSON for log shippers.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. The filter comes from `AIJIA_LOG` (e.g.
/// `aijia_orchestrator=debug`), defaulting to `info`. Logs go to stderr so that command
/// output on stdout stays clean for scripts.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_env("AIJIA_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
