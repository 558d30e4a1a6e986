//! Structured logs with `tracing`, human-readable by default or JSON for log shippers, and
//! OpenTelemetry trace export over OTLP/gRPC when (and only when) an endpoint is configured.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes it without blocking long.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes pending spans, giving the exporter at most two seconds: a collector that is down
    /// must never hold up a shutdown.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        let flush = tokio::task::spawn_blocking(move || provider.shutdown());
        if tokio::time::timeout(std::time::Duration::from_secs(2), flush)
            .await
            .is_err()
        {
            tracing::warn!("trace exporter did not flush within 2 s; dropping pending spans");
        }
    }
}

/// Installs the global subscriber. The filter comes from `AIJIA_LOG` (e.g.
/// `aijia_orchestrator=debug`), defaulting to `default_level`. Logs go to stderr so that
/// command output on stdout stays clean for scripts. Traces are exported when
/// `otlp_endpoint` is set (e.g. `http://127.0.0.1:4317`).
pub fn init(format: LogFormat, default_level: &str, otlp_endpoint: Option<&str>) -> Telemetry {
    let filter =
        EnvFilter::try_from_env("AIJIA_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour codes only for a person at a terminal, never into a file or a log shipper.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    let (provider, otel) = match otlp_endpoint.map(exporter).transpose() {
        Ok(Some(provider)) => {
            let tracer = provider.tracer("aijia");
            (
                Some(provider),
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
            )
        }
        Ok(None) => (None, None),
        Err(err) => {
            eprintln!("warning: trace export disabled: {err}");
            (None, None)
        }
    };
    // A second init (tests start several servers in one process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init();
    Telemetry { provider }
}

fn exporter(endpoint: &str) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("aijia")
                .build(),
        )
        .build())
}
