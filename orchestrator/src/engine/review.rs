//! Drafts and their review, engine side: submit a draft (risk gate and route decided here,
//! recorded in the event), the review queue, the five human decisions, and the reviewers
//! registry. No SQL and no gRPC here.
//!
//! Every change to a draft is one case event committed like any signal: the draft lives in
//! the case (`rails.drafts`), so the draft, its history event and the `send_message` task of
//! an approval commit together or not at all.

use aijia_workflows::automation::BelowBar;
use aijia_workflows::automation::{self, ActionType};
use aijia_workflows::review::{
    Assignee, CaseDraft, DecisionRefusal, DraftStatus, DraftSubmitted, ReviewDecision,
    TakeOverRefusal, check_decision, check_hand_back, check_take_over,
};
use aijia_workflows::risk::{self, Audience, Draft, DraftFlags};
use aijia_workflows::{Actor, ActorRole, Case, Event, IdentityStatus};
use chrono::{DateTime, TimeDelta, Utc};
use tracing::{info, instrument};

use super::{Change, Engine, EngineError, MAX_ATTEMPTS, backoff};
use crate::ids::{CaseId, RequestId};
use crate::store::review::{ReviewQuery, Reviewer};
use crate::store::{Commit, CommitError, StoredCase};

/// Why a safety-rails call was refused (mapped to gRPC codes in `grpc/rails_convert.rs`).
#[derive(Debug, thiserror::Error)]
pub enum RailsError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "reviewer {0:?} is not an active reviewer in the registry; register them first \
         (`aijia review reviewers add {0}`)"
    )]
    UnknownReviewer(String),
    #[error("case {case_id} has no draft {number}")]
    NoSuchDraft { case_id: CaseId, number: u32 },
    #[error(transparent)]
    Decision(DecisionRefusal),
    #[error(transparent)]
    TakeOver(TakeOverRefusal),
    /// A transfer to a reviewer or team that does not exist.
    #[error("{field}: {message}")]
    UnknownAssignee {
        field: &'static str,
        message: String,
    },
    #[error(
        "the customer's identity is {status}, not confirmed: private context stays closed until \
         ConfirmIdentity confirms it (this refusal is recorded in the case's history as event #{seq})"
    )]
    IdentityNotConfirmed { status: IdentityStatus, seq: i64 },
    #[error(transparent)]
    BelowBar(BelowBar),
    #[error("policy_toml: {0}")]
    BadRiskPolicy(risk::PolicyError),
    #[error(
        "policy_toml: risk policy version {0:?} is already stored with other rules; give the new \
         file a new `version` line (every gate decision names the version it used)"
    )]
    RiskVersionTaken(String),
    #[error("automation policy version {0} does not exist")]
    NoSuchPolicyVersion(i64),
    #[error("risk policy version {0:?} is not stored")]
    NoSuchRiskPolicy(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl RailsError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> RailsError {
        RailsError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A draft as the caller submits it, validated at the edge.
#[derive(Debug, Clone)]
pub struct DraftSubmission {
    pub request_id: RequestId,
    pub case_id: CaseId,
    pub text: String,
    pub audience: Audience,
    pub action_type: ActionType,
    pub author: Actor,
    pub flags: DraftFlags,
}

/// A draft with its case, as the review queue shows it.
#[derive(Debug, Clone)]
pub struct ReviewItem {
    pub case_id: CaseId,
    pub case: Case,
    pub draft: CaseDraft,
    /// How long it waited: until now, or until its decision.
    pub age: TimeDelta,
}

/// Where a page of the queue starts: after this (submitted at, case, number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReviewCursor {
    pub submitted_at: DateTime<Utc>,
    pub case_id: uuid::Uuid,
    pub number: u32,
}

impl ReviewCursor {
    pub fn of(item: &ReviewItem) -> ReviewCursor {
        ReviewCursor {
            submitted_at: item.draft.submitted_at,
            case_id: item.case_id.0,
            number: item.draft.number,
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.submitted_at.timestamp_micros(),
            self.case_id.simple(),
            self.number
        )
    }

    pub fn decode(text: &str) -> Option<ReviewCursor> {
        let mut parts = text.trim().split('.');
        let micros: i64 = parts.next()?.parse().ok()?;
        let case_id = uuid::Uuid::parse_str(parts.next()?).ok()?;
        let number: u32 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        // A token is the caller's text: its time must be one the stores can hold.
        let submitted_at = DateTime::from_timestamp_micros(micros)
            .filter(|t| aijia_workflows::bounds::time(t.timestamp(), 0).is_ok())?;
        Some(ReviewCursor {
            submitted_at,
            case_id,
            number,
        })
    }
}

/// The review queue's filters; `None` matches anything.
#[derive(Debug, Clone)]
pub struct ReviewFilter {
    pub status: DraftStatus,
    pub reviewer: Option<String>,
    pub team: Option<String>,
    pub unassigned: bool,
    pub action_type: Option<ActionType>,
    pub case_id: Option<CaseId>,
    pub older_than: Option<TimeDelta>,
    pub after: Option<ReviewCursor>,
    pub limit: u32,
}

impl Engine {
    /// Reads the case, builds the event from what it reads (so the event and the decision see
    /// the same case), decides and commits, exactly once per request id, retrying on
    /// concurrent writers as [`Engine::signal`] does. The event is `None` for a repeated
    /// request, which gets its first answer.
    pub(crate) async fn apply_built<F>(
        &self,
        case_id: CaseId,
        request_id: &RequestId,
        actor: &Actor,
        mut build: F,
    ) -> Result<(Change, Option<Event>), RailsError>
    where
        F: FnMut(&StoredCase, DateTime<Utc>) -> Result<Event, RailsError>,
    {
        for attempt in 0..MAX_ATTEMPTS {
            let snapshot = self
                .store
                .signal_snapshot(case_id.0, request_id.as_str())
                .await
                .map_err(EngineError::from)?;
            if let Some(prior) = snapshot.prior {
                request_id
                    .answers_to(prior.fingerprint.as_deref())
                    .map_err(EngineError::from)?;
                return Ok((Change::from_applied(prior, true), None));
            }
            let stored = snapshot.case.ok_or(EngineError::NotFound(case_id))?;
            let now = self.clock.now();
            let event = build(&stored, now)?;
            let decision = aijia_workflows::decide(&stored.case, &event, now, &self.policy)
                .map_err(EngineError::from)?;
            let mut commit = Commit::new(
                case_id.0,
                stored.version,
                event.clone(),
                actor.clone(),
                request_id,
                now,
                decision,
            );
            match self.commit(&mut commit).await {
                Ok(()) => {
                    return Ok((Change::from_applied(commit.applied(), false), Some(event)));
                }
                Err(CommitError::VersionConflict | CommitError::DuplicateRequest) => {
                    backoff(attempt).await;
                }
                Err(CommitError::Store(e)) => return Err(EngineError::from(e).into()),
            }
        }
        Err(EngineError::Contended(case_id).into())
    }

    /// Submits a draft: the risk gate judges it under the active risk policy and the case's
    /// identity status, the route follows from the active automation policy, the pause and
    /// the case's take-over, and the event records all of it. A repeated request id returns
    /// the first answer.
    #[instrument(skip_all, fields(case_id = %s.case_id, action_type = %s.action_type))]
    pub async fn submit_draft(
        &self,
        s: DraftSubmission,
    ) -> Result<(Change, CaseDraft), RailsError> {
        // The draft is checked before anything is read: an empty one never reaches a case.
        let draft = Draft::new(s.text.clone(), s.audience, s.action_type.as_str(), s.flags)
            .map_err(|e| RailsError::invalid("text", e.to_string()))?;
        let in_force = self.in_force().await?;
        let risk_policy = self.risk_policy(&in_force.risk.version).await?;
        let automation = in_force.automation;
        let (change, event) = self
            .apply_built(s.case_id, &s.request_id, &s.author, |stored, _now| {
                let case = &stored.case;
                let identity = case.customer.identity;
                let assessment = risk::assess(&draft, identity, &risk_policy);
                let taken_over = case.rails.taken_over.is_some();
                let mode = automation.policy.mode(s.action_type);
                let paused = automation.policy.paused;
                let routing = automation::route(assessment.verdict, mode, paused, taken_over);
                Ok(Event::DraftSubmitted(Box::new(DraftSubmitted {
                    draft: case.rails.next_number(),
                    text: s.text.clone(),
                    audience: s.audience,
                    action_type: s.action_type,
                    flags: s.flags,
                    author: s.author.clone(),
                    identity,
                    assessment,
                    mode,
                    paused,
                    taken_over,
                    automation_policy_version: automation.version,
                    routing,
                })))
            })
            .await?;
        let number = match event {
            Some(Event::DraftSubmitted(d)) => d.draft,
            _ => self.submitted_number(s.case_id, change.event_seq).await?,
        };
        let draft =
            change
                .view
                .case
                .rails
                .draft(number)
                .cloned()
                .ok_or(RailsError::NoSuchDraft {
                    case_id: s.case_id,
                    number,
                })?;
        info!(case_id = %s.case_id, draft = number, action_type = %s.action_type,
              route = ?draft.routing.route, reason = ?draft.routing.reason, "draft routed");
        Ok((change, draft))
    }

    /// The draft number a stored `draft_submitted` event gave (for a repeated request).
    async fn submitted_number(&self, case_id: CaseId, seq: i64) -> Result<u32, RailsError> {
        let events = self
            .store
            .history(case_id.0, seq - 1, 1)
            .await
            .map_err(EngineError::from)?;
        match events.first().map(|e| &e.event) {
            Some(Event::DraftSubmitted(d)) => Ok(d.draft),
            _ => Err(RailsError::invalid(
                "request_id",
                format!("was used on case {case_id} for another kind of request"),
            )),
        }
    }

    /// An active registered reviewer, or the refusal to use if there is none.
    async fn reviewer_problem(&self, reviewer_id: &str) -> Result<Option<RailsError>, RailsError> {
        let found = self
            .store
            .get_reviewer(reviewer_id)
            .await
            .map_err(EngineError::from)?;
        Ok(match found {
            Some(r) if r.active => None,
            _ => Some(RailsError::UnknownReviewer(reviewer_id.to_owned())),
        })
    }

    /// Checks the target of a transfer: a registered active reviewer, or a team one of them
    /// belongs to.
    async fn assignee_problem(&self, to: &Assignee) -> Result<Option<RailsError>, RailsError> {
        let reviewers = self
            .store
            .list_reviewers()
            .await
            .map_err(EngineError::from)?;
        let active = || reviewers.iter().filter(|r| r.active);
        Ok(match to {
            Assignee::Reviewer(id) if !active().any(|r| &r.id == id) => {
                Some(RailsError::UnknownAssignee {
                    field: "to_reviewer",
                    message: format!("{id:?} is not an active reviewer in the registry"),
                })
            }
            Assignee::Team(team) if !active().any(|r| r.teams.contains(team)) => {
                let mut teams: Vec<&str> = active()
                    .flat_map(|r| r.teams.iter().map(String::as_str))
                    .collect();
                teams.sort_unstable();
                teams.dedup();
                Some(RailsError::UnknownAssignee {
                    field: "to_team",
                    message: format!(
                        "no active reviewer is in team {team:?}; teams: {}",
                        if teams.is_empty() {
                            "none yet".to_owned()
                        } else {
                            teams.join(", ")
                        }
                    ),
                })
            }
            _ => None,
        })
    }

    /// One of the four draft decisions (approve, edit, reject, transfer) by a registered
    /// reviewer. A decision on a decided draft is refused; a repeated request id returns the
    /// first answer.
    #[instrument(skip_all, fields(case_id = %case_id, draft = number, decision = decision.name()))]
    pub async fn decide_draft(
        &self,
        request_id: RequestId,
        case_id: CaseId,
        number: u32,
        reviewer_id: String,
        decision: ReviewDecision,
    ) -> Result<(Change, CaseDraft), RailsError> {
        let mut problem = self.reviewer_problem(&reviewer_id).await?;
        if problem.is_none()
            && let ReviewDecision::Transfer { to, .. } = &decision
        {
            problem = self.assignee_problem(to).await?;
        }
        let actor = Actor {
            role: ActorRole::Reviewer,
            id: reviewer_id.clone(),
        };
        let (change, _) = self
            .apply_built(case_id, &request_id, &actor, |stored, _now| {
                if let Some(problem) = problem.take() {
                    return Err(problem);
                }
                let draft =
                    check_decision(&stored.case, number, &decision).map_err(|e| match e {
                        DecisionRefusal::NoSuchDraft(number) => {
                            RailsError::NoSuchDraft { case_id, number }
                        }
                        other => RailsError::Decision(other),
                    })?;
                Ok(Event::DraftDecided {
                    draft: number,
                    reviewer: reviewer_id.clone(),
                    action_type: draft.action_type,
                    templated: draft.is_templated(),
                    decision: Box::new(decision.clone()),
                })
            })
            .await?;
        let draft = change
            .view
            .case
            .rails
            .draft(number)
            .cloned()
            .ok_or(RailsError::NoSuchDraft { case_id, number })?;
        info!(%case_id, draft = number, decision = decision.name(), seq = change.event_seq,
              "draft decision made");
        Ok((change, draft))
    }

    /// A named (registered) human takes the case over: it is theirs, and automation on it
    /// stops until it is handed back.
    #[instrument(skip_all, fields(case_id = %case_id))]
    pub async fn take_over(
        &self,
        request_id: RequestId,
        case_id: CaseId,
        reviewer_id: String,
        reason: String,
    ) -> Result<Change, RailsError> {
        let mut problem = self.reviewer_problem(&reviewer_id).await?;
        let actor = Actor {
            role: ActorRole::Reviewer,
            id: reviewer_id.clone(),
        };
        let (change, _) = self
            .apply_built(case_id, &request_id, &actor, |stored, _now| {
                if let Some(problem) = problem.take() {
                    return Err(problem);
                }
                check_take_over(&stored.case).map_err(RailsError::TakeOver)?;
                Ok(Event::CaseTakenOver {
                    by: reviewer_id.clone(),
                    reason: reason.clone(),
                })
            })
            .await?;
        Ok(change)
    }

    /// Hands a taken-over case back to its previous owner; automation resumes on it.
    #[instrument(skip_all, fields(case_id = %case_id))]
    pub async fn hand_back(
        &self,
        request_id: RequestId,
        case_id: CaseId,
        reviewer_id: String,
        note: String,
    ) -> Result<Change, RailsError> {
        let mut problem = self.reviewer_problem(&reviewer_id).await?;
        let actor = Actor {
            role: ActorRole::Reviewer,
            id: reviewer_id.clone(),
        };
        let (change, _) = self
            .apply_built(case_id, &request_id, &actor, |stored, _now| {
                if let Some(problem) = problem.take() {
                    return Err(problem);
                }
                check_hand_back(&stored.case).map_err(RailsError::TakeOver)?;
                Ok(Event::CaseHandedBack {
                    by: reviewer_id.clone(),
                    note: note.clone(),
                })
            })
            .await?;
        Ok(change)
    }

    /// The drafts that match `filter`, oldest first, at most `filter.limit`.
    pub async fn list_reviews(&self, filter: &ReviewFilter) -> Result<Vec<ReviewItem>, RailsError> {
        let now = self.clock.now();
        // An open draft's age runs until now; a decided one's stopped at its decision.
        let (submitted_before, waited_at_least_us) = match filter.older_than {
            None => (None, None),
            // The edge bounds `older_than` to ten years; before the epoch no draft waits.
            Some(age) if filter.status.is_open() => (Some(super::cut_off(now, age)), None),
            Some(age) => (None, Some(age.num_microseconds().unwrap_or(i64::MAX))),
        };
        let rows = self
            .store
            .review_queue(&ReviewQuery {
                status: filter.status,
                reviewer: filter.reviewer.clone(),
                team: filter.team.clone(),
                unassigned: filter.unassigned,
                action_type: filter.action_type,
                case_id: filter.case_id.map(|c| c.0),
                submitted_before,
                waited_at_least_us,
                after: filter.after.map(|c| (c.submitted_at, c.case_id, c.number)),
                limit: filter.limit,
            })
            .await
            .map_err(EngineError::from)?;
        rows.into_iter()
            .map(|(number, stored)| {
                let case_id = CaseId(stored.id);
                let draft = stored
                    .case
                    .rails
                    .draft(number)
                    .ok_or(RailsError::NoSuchDraft { case_id, number })?;
                Ok(review_item(case_id, &stored.case, draft, now))
            })
            .collect()
    }

    pub async fn get_review(&self, case_id: CaseId, number: u32) -> Result<ReviewItem, RailsError> {
        let stored = self
            .store
            .get(case_id.0)
            .await
            .map_err(EngineError::from)?
            .ok_or(EngineError::NotFound(case_id))?;
        let draft = stored
            .case
            .rails
            .draft(number)
            .ok_or(RailsError::NoSuchDraft { case_id, number })?;
        Ok(review_item(case_id, &stored.case, draft, self.clock.now()))
    }

    /// Registers a reviewer (or updates one): who may decide drafts.
    pub async fn add_reviewer(
        &self,
        id: String,
        display_name: String,
        teams: Vec<String>,
        active: bool,
        by: &Actor,
    ) -> Result<Reviewer, RailsError> {
        let now = self.clock.now();
        let reviewer = Reviewer {
            id,
            display_name,
            teams,
            active,
            added_by: format!("{}:{}", by.role, by.id),
            added_at: now,
            updated_at: now,
        };
        Ok(self
            .store
            .upsert_reviewer(&reviewer)
            .await
            .map_err(EngineError::from)?)
    }

    pub async fn list_reviewers(&self) -> Result<Vec<Reviewer>, RailsError> {
        Ok(self
            .store
            .list_reviewers()
            .await
            .map_err(EngineError::from)?)
    }
}

fn review_item(case_id: CaseId, case: &Case, draft: &CaseDraft, now: DateTime<Utc>) -> ReviewItem {
    let until = draft.decision.as_ref().map_or(now, |d| d.at);
    ReviewItem {
        case_id,
        case: case.clone(),
        draft: draft.clone(),
        age: (until - draft.submitted_at).max(TimeDelta::zero()),
    }
}
