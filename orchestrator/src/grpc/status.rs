//! The single mapping from engine errors to gRPC status codes.

use aijia_workflows::Refusal;
use tonic::Status;

use crate::engine::EngineError;
use crate::store::StoreError;

impl From<EngineError> for Status {
    fn from(err: EngineError) -> Status {
        let message = err.to_string();
        match err {
            EngineError::NotFound(_) => Status::not_found(message),
            EngineError::Refused(Refusal::NotAccepted { .. }) => {
                Status::failed_precondition(message)
            }
            EngineError::Refused(Refusal::Invalid(_)) => Status::invalid_argument(message),
            EngineError::VersionConflict { .. } | EngineError::Contended(_) => {
                Status::aborted(message)
            }
            EngineError::Store(StoreError::Database { .. }) => {
                tracing::error!(error = %message, "storage failure");
                Status::unavailable(message)
            }
            EngineError::Store(_) => {
                tracing::error!(error = %message, "storage failure");
                Status::internal(message)
            }
        }
    }
}

/// INVALID_ARGUMENT naming the field, so a person knows what to fix.
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {message}"))
}
