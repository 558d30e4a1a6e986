//! Generates the aijia.v1 messages, clients and servers, plus the descriptor set that the
//! server's reflection service publishes. protoc comes vendored: nothing to install.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let files = [
        "aijia/v1/case.proto",
        "aijia/v1/schedule.proto",
        "aijia/v1/worker.proto",
        "aijia/v1/review.proto",
        "aijia/v1/automation.proto",
        "aijia/v1/identity.proto",
    ];
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Sorted maps encode the same way every time, so a request's fingerprint is stable
    // (orchestrator/src/grpc/idempotency.rs).
    config.btree_map(["."]);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("aijia_v1_descriptor.bin"))
        .compile_with_config(config, &files, &["."])?;
    Ok(())
}
