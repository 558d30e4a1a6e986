//! The gRPC surface: `aijia.v1` services plus standard health and reflection, so grpcurl and
//! other clients can discover the API.

mod case_service;
pub mod convert;
pub mod status;

pub use case_service::CaseApi;
