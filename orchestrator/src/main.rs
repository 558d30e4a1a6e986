//! The `aijia` binary. Everything lives in the library; see `aijia_orchestrator::cli`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match aijia_orchestrator::cli::main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line, without a backtrace.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
