//! The single mapping from engine errors to gRPC status codes.

use aijia_workflows::Refusal;
use tonic::Status;

use crate::engine::{EngineError, ScheduleRefusal};
use crate::store::StoreError;

impl From<EngineError> for Status {
    fn from(err: EngineError) -> Status {
        let message = err.to_string();
        match err {
            EngineError::NotFound(_)
            | EngineError::TaskNotFound(_)
            | EngineError::NoCaseWithKey { .. } => Status::not_found(message),
            // The request is what must change (a new request_id), not the system's state.
            EngineError::RequestReused(_) => Status::invalid_argument(message),
            EngineError::TaskNotInState { .. } => Status::failed_precondition(message),
            EngineError::Refused(Refusal::NotAccepted { .. }) => {
                Status::failed_precondition(message)
            }
            EngineError::Refused(Refusal::Invalid(_)) => Status::invalid_argument(message),
            EngineError::VersionConflict { .. } | EngineError::Contended(_) => {
                Status::aborted(message)
            }
            EngineError::Schedule(ScheduleRefusal::NotFound(_)) => Status::not_found(message),
            EngineError::Schedule(ScheduleRefusal::NameTaken(_)) => Status::already_exists(message),
            EngineError::Schedule(ScheduleRefusal::Invalid(_)) => Status::invalid_argument(message),
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

/// The safety rails' refusals (`engine/review.rs`), mapped the same way.
impl From<crate::engine::RailsError> for Status {
    fn from(err: crate::engine::RailsError) -> Status {
        use crate::engine::RailsError as E;
        use aijia_workflows::review::DecisionRefusal as D;
        let message = err.to_string();
        match err {
            E::Engine(e) => e.into(),
            E::UnknownReviewer(_) | E::IdentityNotConfirmed { .. } => {
                Status::permission_denied(message)
            }
            E::NoSuchDraft { .. }
            | E::Decision(D::NoSuchDraft(_))
            | E::NoSuchPolicyVersion(_)
            | E::NoSuchRiskPolicy(_) => Status::not_found(message),
            E::Decision(D::AlreadyDecided { .. }) | E::TakeOver(_) | E::BelowBar(_) => {
                Status::failed_precondition(message)
            }
            E::RiskVersionTaken(_) => Status::already_exists(message),
            E::Decision(D::Invalid(_))
            | E::UnknownAssignee { .. }
            | E::BadRiskPolicy(_)
            | E::Invalid { .. } => Status::invalid_argument(message),
        }
    }
}
