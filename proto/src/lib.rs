//! The public gRPC API of Aijia (`aijia.v1`). The `.proto` files beside this crate are the
//! contract; this crate only compiles them.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("aijia.v1");
}

/// Encoded `FileDescriptorSet` of `aijia.v1`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("aijia_v1_descriptor");
