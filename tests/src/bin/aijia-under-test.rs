//! The `aijia` binary, built inside the test package so that crash tests can run the real
//! server as a separate process (and `SIGKILL` it) with `env!("CARGO_BIN_EXE_aijia-under-test")`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    aijia_orchestrator::cli::run().await
}
