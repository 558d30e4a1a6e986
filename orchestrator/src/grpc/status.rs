//! The single mapping from engine errors to gRPC status codes. A storage failure never
//! reaches a client as database text: the client gets a stable message by kind of failure
//! and an error id, and the log gets the details under that id.

use aijia_workflows::Refusal;
use tonic::{Code, Status};

use crate::engine::{EngineError, ScheduleRefusal};
use crate::store::{Failure, StoreError};

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
            EngineError::Store(err) => storage_failure(&err),
        }
    }
}

fn storage_failure(err: &StoreError) -> Status {
    let code = match err.failure() {
        Failure::Unavailable => Code::Unavailable,
        Failure::Contention => Code::Aborted,
        Failure::BadData => Code::InvalidArgument,
        Failure::Internal => Code::Internal,
    };
    Status::new(code, err.reported())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database error with this SQLSTATE (or SQLite code), as the store reports it.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "invalid byte sequence for encoding \"UTF8\": 0x00 at line 1798"
            )
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "invalid byte sequence for encoding \"UTF8\": 0x00 at line 1798"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn status_of(cause: sqlx::Error) -> Status {
        EngineError::Store(StoreError::Database {
            context: "reading a case",
            cause,
        })
        .into()
    }

    fn coded(code: &'static str) -> Status {
        status_of(sqlx::Error::Database(Box::new(Coded(code))))
    }

    #[track_caller]
    fn assert_stable(status: &Status, code: Code, starts: &str) {
        assert_eq!(status.code(), code, "{status:?}");
        assert!(status.message().starts_with(starts), "{status:?}");
        assert!(status.message().contains("(error id "), "{status:?}");
        for leak in [
            "byte sequence",
            "line 1798",
            "reading a case",
            "pool",
            "SQL",
        ] {
            assert!(
                !status.message().contains(leak),
                "{leak:?} leaked: {status:?}"
            );
        }
    }

    #[test]
    fn connection_failures_and_pool_timeouts_are_unavailable() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for status in [
            status_of(sqlx::Error::PoolTimedOut),
            status_of(sqlx::Error::PoolClosed),
            status_of(sqlx::Error::Io(refused)),
            coded("08006"),
            coded("57P01"),
            coded("53300"),
        ] {
            assert_stable(&status, Code::Unavailable, "the database is unavailable");
        }
    }

    #[test]
    fn serialization_deadlock_lock_timeout_and_sqlite_busy_are_aborted() {
        // 517 is SQLITE_BUSY_SNAPSHOT, 6 SQLITE_LOCKED.
        for code in ["40001", "40P01", "55P03", "57014", "5", "517", "6"] {
            assert_stable(&coded(code), Code::Aborted, "the database gave way");
        }
    }

    #[test]
    fn data_exceptions_are_invalid_argument() {
        for code in ["22021", "22P05", "22003"] {
            assert_stable(
                &coded(code),
                Code::InvalidArgument,
                "the database refused a value",
            );
        }
    }

    #[test]
    fn everything_else_is_internal() {
        for status in [
            coded("42P01"),
            coded("23505"),
            coded("1"),
            status_of(sqlx::Error::RowNotFound),
        ] {
            assert_stable(&status, Code::Internal, "internal error");
        }
    }

    #[test]
    fn each_failure_gets_its_own_error_id() {
        assert_ne!(coded("42P01").message(), coded("42P01").message());
    }
}
