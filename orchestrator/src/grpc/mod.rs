//! The gRPC surface: `aijia.v1` services plus standard health and reflection, so grpcurl and
//! other clients can discover the API.

mod automation_service;
mod case_service;
pub mod convert;
pub mod idempotency;
mod identity_service;
pub mod rails_convert;
mod review_service;
mod schedule_service;
pub mod status;
pub mod task_convert;
mod task_service;
mod worker_service;

pub use automation_service::AutomationApi;
pub use case_service::CaseApi;
pub use identity_service::IdentityApi;
pub use review_service::ReviewApi;
pub use schedule_service::ScheduleApi;
pub use task_service::TaskApi;
pub use worker_service::WorkerApi;
