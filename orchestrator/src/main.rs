//! The `aijia` binary. Everything lives in the library; see `aijia_orchestrator::cli`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    aijia_orchestrator::cli::run().await
}
