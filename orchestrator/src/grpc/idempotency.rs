//! Request fingerprints: what tells a retry from a new request that reuses its request id.
//!
//! Every request message that carries a `request_id` is listed here, once. Its fingerprint is
//! `Kind:sha256` over its protobuf encoding with the request id cleared: all the fields the
//! caller sent, the actor included (the history says who acted, so the same id sent by another
//! actor is another request). The encoding is deterministic (fields in tag order, maps kept
//! sorted by `proto/build.rs`), and a field added to a message later leaves the fingerprints of
//! requests that do not set it unchanged. The engine stores the fingerprint with the answer and
//! compares it on every hit (`RequestId::answers_to`).

use aijia_proto::v1 as pb;
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::convert;
use crate::ids::RequestId;

/// A request message with a `request_id`.
pub trait Idempotent: Message + Clone {
    /// The RPC, named in the refusal of a reused id.
    const KIND: &'static str;
    fn request_id_mut(&mut self) -> &mut String;
}

macro_rules! idempotent {
    ($($message:ident => $kind:literal),* $(,)?) => {
        $(impl Idempotent for pb::$message {
            const KIND: &'static str = $kind;
            fn request_id_mut(&mut self) -> &mut String {
                &mut self.request_id
            }
        })*

        /// The `aijia.v1` request messages fingerprinted here, checked against the descriptor
        /// set by the end-to-end tests so that a new one cannot be left out.
        pub const FINGERPRINTED: &[&str] = &[$(stringify!($message)),*];
    };
}

idempotent! {
    StartCaseRequest => "StartCase",
    SignalCaseRequest => "SignalCase",
    CancelCaseRequest => "CancelCase",
    SubmitDraftRequest => "SubmitDraft",
    ApproveDraftRequest => "ApproveDraft",
    EditDraftRequest => "EditDraft",
    RejectDraftRequest => "RejectDraft",
    TransferReviewRequest => "TransferReview",
    TakeOverCaseRequest => "TakeOverCase",
    HandBackCaseRequest => "HandBackCase",
    ConfirmIdentityRequest => "ConfirmIdentity",
    GetCustomerContextRequest => "GetCustomerContext",
    SetActionModeRequest => "SetActionMode",
    PauseAutomationRequest => "PauseAutomation",
    ResumeAutomationRequest => "ResumeAutomation",
    RollbackPolicyRequest => "RollbackPolicy",
    LoadRiskPolicyRequest => "LoadRiskPolicy",
    CreateScheduleRequest => "CreateSchedule",
    TriggerScheduleRequest => "TriggerSchedule",
    RetryTaskRequest => "RetryTask",
    CancelTaskRequest => "CancelTask",
}

/// The request's id (validated), carrying the request's fingerprint. Call it after the rest of
/// the request is validated: it copies and hashes the whole message, which a request past its
/// caps should not cost.
pub fn request_id<R: Idempotent>(req: &R) -> Result<RequestId, Status> {
    let mut bare = req.clone();
    let id = convert::request_id(&std::mem::take(bare.request_id_mut()))?;
    Ok(id.with_fingerprint(fingerprint(&bare)))
}

fn fingerprint<R: Idempotent>(bare: &R) -> String {
    let digest = Sha256::digest(bare.encode_to_vec());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{hex}", R::KIND)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn start(attributes: &[(&str, &str)], subject: &str) -> pb::StartCaseRequest {
        pb::StartCaseRequest {
            request_id: "r-1".into(),
            workflow_type: "material_collection".into(),
            subject: subject.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_whatever_the_order_of_its_map_entries() {
        let a = request_id(&start(&[("a", "1"), ("b", "2"), ("c", "3")], "s")).unwrap();
        let b = request_id(&start(&[("c", "3"), ("a", "1"), ("b", "2")], "s")).unwrap();
        assert_eq!(a, b);
        assert!(a.fingerprint().unwrap().starts_with("StartCase:"));
    }

    #[test]
    fn a_different_field_or_kind_changes_the_fingerprint_and_the_request_id_does_not() {
        let first = request_id(&start(&[], "s")).unwrap();
        let other = request_id(&start(&[], "t")).unwrap();
        assert_ne!(first.fingerprint(), other.fingerprint());
        let mut retried = start(&[], "s");
        retried.request_id = "  r-1 ".into();
        assert_eq!(request_id(&retried).unwrap(), first);
        let err = other.answers_to(first.fingerprint()).unwrap_err();
        assert_eq!(err.earlier, "StartCase");
        assert!(
            first.answers_to(None).is_ok(),
            "records without a fingerprint match"
        );
    }
}
