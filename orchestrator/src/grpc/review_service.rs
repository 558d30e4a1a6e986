//! `aijia.v1.ReviewService`: drafts, the review queue, the five human decisions and the
//! reviewers registry. Decode and validate, call the engine, encode.

use aijia_proto::v1 as pb;
use aijia_proto::v1::review_service_server::ReviewService;
use aijia_workflows::review::{Assignee, DraftStatus, ReviewDecision};
use tonic::{Request, Response, Status};

use super::convert;
use super::idempotency::request_id;
use super::rails_convert as rc;
use super::status::invalid;
use crate::engine::{Change, DraftSubmission, Engine, ReviewCursor, ReviewFilter, ReviewItem};
use crate::ids::{CaseId, RequestId};

#[derive(Debug, Clone)]
pub struct ReviewApi {
    engine: Engine,
}

impl ReviewApi {
    pub fn new(engine: Engine) -> Self {
        ReviewApi { engine }
    }

    async fn decide(
        &self,
        request_id: RequestId,
        draft_id: &str,
        reviewer_id: &str,
        decision: ReviewDecision,
    ) -> Result<Response<pb::ReviewDecisionResponse>, Status> {
        let (case_id, number) = rc::draft_id(draft_id)?;
        let reviewer = rc::reviewer_id("reviewer_id", reviewer_id)?;
        let (change, draft) = self
            .engine
            .decide_draft(request_id, case_id, number, reviewer, decision)
            .await?;
        Ok(Response::new(decision_response(case_id, &change, draft)))
    }
}

fn decision_response(
    case_id: CaseId,
    change: &Change,
    draft: aijia_workflows::review::CaseDraft,
) -> pb::ReviewDecisionResponse {
    let item = ReviewItem {
        case_id,
        case: change.view.case.clone(),
        age: draft
            .decision
            .as_ref()
            .map_or(change.view.case.updated_at, |d| d.at)
            .signed_duration_since(draft.submitted_at)
            .max(chrono::TimeDelta::zero()),
        draft,
    };
    pb::ReviewDecisionResponse {
        draft: Some(rc::draft(&item)),
        change: Some(convert::change(change)),
    }
}

#[tonic::async_trait]
impl ReviewService for ReviewApi {
    async fn submit_draft(
        &self,
        request: Request<pb::SubmitDraftRequest>,
    ) -> Result<Response<pb::SubmitDraftResponse>, Status> {
        let req = request.into_inner();
        // Fields are evaluated in order: the request is validated before it is hashed.
        let submission = DraftSubmission {
            case_id: convert::case_id(&req.case_id)?,
            text: convert::text("text", &req.text)?,
            audience: convert::parse("audience", &req.audience)?,
            action_type: convert::parse("action_type", &req.action_type)?,
            author: rc::author(req.author.as_ref())?,
            flags: rc::flags(req.flags.as_ref()),
            request_id: request_id(&req)?,
        };
        let case_id = submission.case_id;
        let (change, draft) = self.engine.submit_draft(submission).await?;
        let response = decision_response(case_id, &change, draft);
        Ok(Response::new(pb::SubmitDraftResponse {
            draft: response.draft,
            change: response.change,
        }))
    }

    async fn list_reviews(
        &self,
        request: Request<pb::ListReviewsRequest>,
    ) -> Result<Response<pb::ListReviewsResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size("page_size", req.page_size, 50, 500)?;
        let status = convert::optional::<DraftStatus>("status", &req.status)?
            .unwrap_or(DraftStatus::PendingReview);
        let after = convert::page_token(&req.page_token, ReviewCursor::decode)?;
        let filter = ReviewFilter {
            status,
            reviewer: convert::filter("reviewer", &req.reviewer)?,
            team: convert::filter("team", &req.team)?,
            unassigned: req.unassigned,
            action_type: convert::optional("action_type", &req.action_type)?,
            case_id: match req.case_id.trim() {
                "" => None,
                id => Some(convert::case_id(id)?),
            },
            older_than: convert::duration("older_than", req.older_than.as_ref())?,
            after,
            limit: limit + 1,
        };
        let mut items = self.engine.list_reviews(&filter).await?;
        let next_page_token = convert::page(&mut items, limit, |i| ReviewCursor::of(i).encode());
        Ok(Response::new(pb::ListReviewsResponse {
            drafts: items.iter().map(rc::draft).collect(),
            next_page_token,
        }))
    }

    async fn get_review(
        &self,
        request: Request<pb::GetReviewRequest>,
    ) -> Result<Response<pb::GetReviewResponse>, Status> {
        let (case_id, number) = rc::draft_id(&request.get_ref().draft_id)?;
        let item = self.engine.get_review(case_id, number).await?;
        Ok(Response::new(pb::GetReviewResponse {
            draft: Some(rc::draft(&item)),
        }))
    }

    async fn approve_draft(
        &self,
        request: Request<pb::ApproveDraftRequest>,
    ) -> Result<Response<pb::ReviewDecisionResponse>, Status> {
        let req = request.into_inner();
        let decision = ReviewDecision::Approve {
            note: convert::text("note", req.note.trim())?,
        };
        self.decide(request_id(&req)?, &req.draft_id, &req.reviewer_id, decision)
            .await
    }

    async fn edit_draft(
        &self,
        request: Request<pb::EditDraftRequest>,
    ) -> Result<Response<pb::ReviewDecisionResponse>, Status> {
        let req = request.into_inner();
        let text = convert::text("text", &req.text)?;
        if text.trim().is_empty() {
            return Err(invalid("text", "is required: the text to send instead"));
        }
        let decision = ReviewDecision::Edit {
            text,
            note: convert::text("note", req.note.trim())?,
        };
        self.decide(request_id(&req)?, &req.draft_id, &req.reviewer_id, decision)
            .await
    }

    async fn reject_draft(
        &self,
        request: Request<pb::RejectDraftRequest>,
    ) -> Result<Response<pb::ReviewDecisionResponse>, Status> {
        let req = request.into_inner();
        let decision = ReviewDecision::Reject {
            reason: rc::reason("reason", &req.reason)?,
        };
        self.decide(request_id(&req)?, &req.draft_id, &req.reviewer_id, decision)
            .await
    }

    async fn transfer_review(
        &self,
        request: Request<pb::TransferReviewRequest>,
    ) -> Result<Response<pb::ReviewDecisionResponse>, Status> {
        let req = request.into_inner();
        let to = match (req.to_reviewer.trim(), req.to_team.trim()) {
            ("", "") => {
                return Err(invalid(
                    "to_reviewer",
                    "or to_team is required: who decides the draft now",
                ));
            }
            (reviewer, "") => Assignee::Reviewer(convert::name("to_reviewer", reviewer)?),
            ("", team) => Assignee::Team(convert::name("to_team", team)?),
            _ => {
                return Err(invalid("to_team", "give to_reviewer or to_team, not both"));
            }
        };
        let decision = ReviewDecision::Transfer {
            to,
            note: convert::text("note", req.note.trim())?,
        };
        self.decide(request_id(&req)?, &req.draft_id, &req.reviewer_id, decision)
            .await
    }

    async fn take_over_case(
        &self,
        request: Request<pb::TakeOverCaseRequest>,
    ) -> Result<Response<pb::TakeOverCaseResponse>, Status> {
        let req = request.into_inner();
        let change = self
            .engine
            .take_over(
                request_id(&req)?,
                convert::case_id(&req.case_id)?,
                rc::reviewer_id("reviewer_id", &req.reviewer_id)?,
                rc::reason("reason", &req.reason)?,
            )
            .await?;
        Ok(Response::new(pb::TakeOverCaseResponse {
            change: Some(convert::change(&change)),
        }))
    }

    async fn hand_back_case(
        &self,
        request: Request<pb::HandBackCaseRequest>,
    ) -> Result<Response<pb::TakeOverCaseResponse>, Status> {
        let req = request.into_inner();
        let change = self
            .engine
            .hand_back(
                request_id(&req)?,
                convert::case_id(&req.case_id)?,
                rc::reviewer_id("reviewer_id", &req.reviewer_id)?,
                convert::text("note", req.note.trim())?,
            )
            .await?;
        Ok(Response::new(pb::TakeOverCaseResponse {
            change: Some(convert::change(&change)),
        }))
    }

    async fn add_reviewer(
        &self,
        request: Request<pb::AddReviewerRequest>,
    ) -> Result<Response<pb::AddReviewerResponse>, Status> {
        let req = request.into_inner();
        let id = rc::reviewer_id("reviewer_id", &req.reviewer_id)?;
        let display_name = match convert::text("display_name", req.display_name.trim())? {
            name if name.is_empty() => id.clone(),
            name => name,
        };
        let teams = rc::teams(&req.teams)?;
        let actor = rc::actor(req.actor.as_ref())?;
        let reviewer = self
            .engine
            .add_reviewer(id, display_name, teams, req.active.unwrap_or(true), &actor)
            .await?;
        Ok(Response::new(pb::AddReviewerResponse {
            reviewer: Some(rc::reviewer(&reviewer)),
        }))
    }

    async fn list_reviewers(
        &self,
        _request: Request<pb::ListReviewersRequest>,
    ) -> Result<Response<pb::ListReviewersResponse>, Status> {
        let reviewers = self.engine.list_reviewers().await?;
        Ok(Response::new(pb::ListReviewersResponse {
            reviewers: reviewers.iter().map(rc::reviewer).collect(),
        }))
    }
}
