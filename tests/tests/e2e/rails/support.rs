//! Clients and small helpers of the rails tests.

use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_proto::v1::identity_service_client::IdentityServiceClient;
use aijia_proto::v1::review_service_client::ReviewServiceClient;
use aijia_proto::v1::task_service_client::TaskServiceClient;
use aijia_tests::TestApp;
use aijia_tests::requests::{self, StartExt, actor, unique};
use serde_json::Value;
use tonic::Status;
use tonic::transport::Channel;

/// From the gate's labelled corpus: nothing to find, identity or not.
pub const LOW_RISK: &str = "Thanks, we've received your documents and our team will go through them within 2 business days.";
pub const LOW_RISK_ZH: &str = "我们的营业时间是周一到周六 9:00-18:00，周日和法定节假日休息。";
pub const HIGH_RISK: &str =
    "We will refund 2000 yuan to your card and guarantee it arrives tomorrow.";
pub const CUSTOMER_SPECIFIC: &str =
    "Your order #58213 shipped this morning and should arrive on Thursday.";
pub const ASKS_FOR_IDENTITY: &str =
    "Could you please share your order number so I can look into this for you?";

pub fn reviews(app: &TestApp) -> ReviewServiceClient<Channel> {
    ReviewServiceClient::new(app.channel.clone())
}

pub fn automation(app: &TestApp) -> AutomationServiceClient<Channel> {
    AutomationServiceClient::new(app.channel.clone())
}

pub fn identity(app: &TestApp) -> IdentityServiceClient<Channel> {
    IdentityServiceClient::new(app.channel.clone())
}

pub fn operator() -> Option<pb::Actor> {
    Some(actor("operator", "olga"))
}

/// A material collection case waiting for the customer's "invoice" and "photo".
pub async fn material_case(app: &TestApp) -> pb::Case {
    app.open(requests::start("material_collection").attr("materials", "invoice,photo"))
        .await
}

pub async fn add_reviewer(app: &TestApp, id: &str, teams: &[&str]) -> pb::Reviewer {
    reviews(app)
        .add_reviewer(pb::AddReviewerRequest {
            reviewer_id: id.to_owned(),
            display_name: format!("Reviewer {id}"),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            active: None,
            actor: operator(),
        })
        .await
        .expect("AddReviewer")
        .into_inner()
        .reviewer
        .expect("a reviewer")
}

pub fn draft_request(case_id: &str, text: &str, action_type: &str) -> pb::SubmitDraftRequest {
    pb::SubmitDraftRequest {
        request_id: unique("draft"),
        case_id: case_id.to_owned(),
        text: text.to_owned(),
        audience: "customer_private".to_owned(),
        action_type: action_type.to_owned(),
        author: Some(actor("reception", "reception-agent")),
        flags: None,
    }
}

pub async fn try_submit(
    app: &TestApp,
    req: pb::SubmitDraftRequest,
) -> Result<pb::SubmitDraftResponse, Status> {
    reviews(app).submit_draft(req).await.map(|r| r.into_inner())
}

/// Submits a draft that must be accepted; returns the draft.
pub async fn submit(app: &TestApp, case_id: &str, text: &str, action_type: &str) -> pb::Draft {
    try_submit(app, draft_request(case_id, text, action_type))
        .await
        .unwrap_or_else(|s| panic!("SubmitDraft: {:?}: {}", s.code(), s.message()))
        .draft
        .expect("a draft")
}

pub async fn approve(
    app: &TestApp,
    draft_id: &str,
    reviewer: &str,
) -> Result<pb::ReviewDecisionResponse, Status> {
    reviews(app)
        .approve_draft(pb::ApproveDraftRequest {
            request_id: unique("approve"),
            draft_id: draft_id.to_owned(),
            reviewer_id: reviewer.to_owned(),
            note: String::new(),
        })
        .await
        .map(|r| r.into_inner())
}

pub async fn try_set_mode(
    app: &TestApp,
    action_type: &str,
    mode: &str,
    force: bool,
    reason: &str,
) -> Result<pb::AutomationPolicyResponse, Status> {
    automation(app)
        .set_action_mode(pb::SetActionModeRequest {
            request_id: unique("mode"),
            action_type: action_type.to_owned(),
            mode: mode.to_owned(),
            actor: operator(),
            reason: reason.to_owned(),
            force,
        })
        .await
        .map(|r| r.into_inner())
}

/// Sets a mode, forcing `auto` open whatever the pass rate.
pub async fn force_mode(
    app: &TestApp,
    action_type: &str,
    mode: &str,
) -> pb::AutomationPolicyResponse {
    try_set_mode(app, action_type, mode, true, "test set-up")
        .await
        .unwrap_or_else(|s| panic!("SetActionMode: {:?}: {}", s.code(), s.message()))
}

pub async fn policy(app: &TestApp) -> pb::AutomationPolicyResponse {
    automation(app)
        .get_automation_policy(pb::GetAutomationPolicyRequest {})
        .await
        .expect("GetAutomationPolicy")
        .into_inner()
}

pub fn mode_of(resp: &pb::AutomationPolicyResponse, action_type: &str) -> String {
    resp.policy
        .as_ref()
        .and_then(|p| p.modes.iter().find(|m| m.action_type == action_type))
        .map(|m| m.mode.clone())
        .unwrap_or_default()
}

pub async fn pause(app: &TestApp, paused: bool) -> pb::AutomationPolicyResponse {
    let mut client = automation(app);
    let resp = if paused {
        client
            .pause_automation(pb::PauseAutomationRequest {
                request_id: unique("pause"),
                actor: operator(),
                reason: "incident".to_owned(),
            })
            .await
    } else {
        client
            .resume_automation(pb::ResumeAutomationRequest {
                request_id: unique("resume"),
                actor: operator(),
                reason: "incident over".to_owned(),
            })
            .await
    };
    resp.expect("Pause/ResumeAutomation").into_inner()
}

/// Every activity task of a case.
pub async fn tasks_of(app: &TestApp, case_id: &str) -> Vec<pb::Task> {
    TaskServiceClient::new(app.channel.clone())
        .list_tasks(pb::ListTasksRequest {
            case_id: case_id.to_owned(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("ListTasks")
        .into_inner()
        .tasks
}

/// The activities of a case's tasks, oldest first.
pub async fn activities_of(app: &TestApp, case_id: &str) -> Vec<String> {
    let mut tasks = tasks_of(app, case_id).await;
    tasks.sort_by_key(|t| t.id);
    tasks.into_iter().map(|t| t.activity).collect()
}

/// The history events of one kind, as (actor role:id, payload).
pub async fn events_of(app: &TestApp, case_id: &str, kind: &str) -> Vec<(String, Value)> {
    app.history(case_id)
        .await
        .into_iter()
        .filter(|e| e.event_type == kind)
        .map(|e| {
            let actor = e
                .actor
                .as_ref()
                .map(|a| format!("{}:{}", a.role, a.id))
                .unwrap_or_default();
            (
                actor,
                serde_json::from_str(&e.payload_json).expect("payload is JSON"),
            )
        })
        .collect()
}

pub async fn list_reviews(app: &TestApp, req: pb::ListReviewsRequest) -> Vec<pb::Draft> {
    reviews(app)
        .list_reviews(req)
        .await
        .expect("ListReviews")
        .into_inner()
        .drafts
}
