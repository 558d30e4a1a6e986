//! Proto ↔ domain conversions. Requests are validated here, once, into domain types; every
//! refusal names the offending field. The shared validators here (`name`, `text`,
//! `filter`, `capped`, `duration`, `time`, `json_without_nul`) are the bounds every service
//! applies to what callers send: lengths, list sizes, duration and time ranges, and no NUL
//! characters (PostgreSQL cannot store them in text or JSON).

use std::collections::BTreeMap;
use std::str::FromStr;

use aijia_proto::v1 as pb;
use aijia_proto::v1::signal_case_request::Event as PbEvent;
use aijia_workflows::bounds;
use aijia_workflows::{Actor, ActorRole, Event, NewCase, Party, ReplayOutcome};
use chrono::{DateTime, TimeDelta, Utc};
use tonic::Status;

use super::status::invalid;
use crate::engine::{CaseView, Change, TaskWait};
use crate::ids::{CaseId, RequestId};
use crate::store::{HistoryEvent, TaskState};

const MAX_TEXT: usize = 10_000;
const MAX_NAME: usize = 200;
const MAX_ATTRIBUTES: usize = 64;
/// Items of one checklist or material list (`wait_for.checklist`, `*.items`).
const MAX_ITEMS: usize = 100;

pub fn request_id(text: &str) -> Result<RequestId, Status> {
    RequestId::parse(text).map_err(|m| invalid("request_id", m))
}

pub fn case_id(text: &str) -> Result<CaseId, Status> {
    if text.trim().is_empty() {
        return Err(invalid("case_id", "is required"));
    }
    CaseId::parse(text).map_err(|m| invalid("case_id", m))
}

pub fn parse<T: FromStr<Err = aijia_workflows::ParseError>>(
    field: &str,
    text: &str,
) -> Result<T, Status> {
    text.trim().parse().map_err(|e| invalid(field, e))
}

/// `None` for an empty (unset) filter field.
pub fn optional<T: FromStr<Err = aijia_workflows::ParseError>>(
    field: &str,
    text: &str,
) -> Result<Option<T>, Status> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse(field, text).map(Some)
    }
}

/// A required short name (business key, owner, ids): trimmed, non-empty, bounded.
pub fn name(field: &str, text: &str) -> Result<String, Status> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if text.len() > MAX_NAME {
        return Err(invalid(
            field,
            format!("is {} bytes; at most {MAX_NAME}", text.len()),
        ));
    }
    without_nul(field, text)?;
    Ok(text.to_owned())
}

/// Free text: may be empty, bounded.
pub fn text(field: &str, text: &str) -> Result<String, Status> {
    if text.len() > MAX_TEXT {
        return Err(invalid(
            field,
            format!("is {} bytes; at most {MAX_TEXT}", text.len()),
        ));
    }
    without_nul(field, text)?;
    Ok(text.to_owned())
}

/// An optional filter naming something (an owner, a reviewer, …): `None` when empty, else
/// a [`name`].
pub fn filter(field: &str, text: &str) -> Result<Option<String>, Status> {
    match text.trim() {
        "" => Ok(None),
        given => name(field, given).map(Some),
    }
}

/// Text of any length for a field with its own bound: refused if it holds a NUL character.
pub fn without_nul(field: &str, text: &str) -> Result<(), Status> {
    if text.contains('\0') {
        return Err(invalid(
            field,
            "must not contain NUL characters (\\0); remove them",
        ));
    }
    Ok(())
}

/// A repeated field or map of `len` entries: at most `max`. Checked before any entry is
/// looked at, so an oversized request costs nothing.
pub fn capped(field: &str, len: usize, max: usize) -> Result<(), Status> {
    if len > max {
        return Err(invalid(
            field,
            format!("has {len} entries; at most {max} are allowed"),
        ));
    }
    Ok(())
}

/// A JSON document holding no NUL character in any string or key (PostgreSQL's JSON
/// cannot store `\u0000`).
pub fn json_without_nul(field: &str, value: &serde_json::Value) -> Result<(), Status> {
    use serde_json::Value;
    let ok = match value {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => return items.iter().try_for_each(|v| json_without_nul(field, v)),
        Value::Object(map) => {
            return map.iter().try_for_each(|(k, v)| {
                without_nul(field, k)?;
                json_without_nul(field, v)
            });
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            "must not contain \\u0000 (NUL) in any string; remove it",
        ))
    }
}

fn items(field: &str, items: &[String]) -> Result<Vec<String>, Status> {
    capped(field, items.len(), MAX_ITEMS)?;
    items.iter().map(|i| name(field, i)).collect()
}

pub fn actor(actor: Option<&pb::Actor>) -> Result<Actor, Status> {
    let actor = actor.ok_or_else(|| {
        invalid(
            "actor",
            "is required: who acts, e.g. {role: \"operator\", id: \"alice\"}",
        )
    })?;
    let role: ActorRole = parse("actor.role", &actor.role)?;
    Ok(Actor {
        role,
        id: text("actor.id", actor.id.trim())?,
    })
}

pub fn new_case(req: &pb::StartCaseRequest) -> Result<NewCase, Status> {
    let customer = req
        .customer
        .as_ref()
        .ok_or_else(|| invalid("customer", "is required: {id, display_name}"))?;
    CaseFields {
        workflow_type: &req.workflow_type,
        business_key_field: "business_key",
        business_key: &req.business_key,
        customer_id: &customer.id,
        customer_display_name: &customer.display_name,
        subject: &req.subject,
        owner: &req.owner,
        attributes: &req.attributes,
    }
    .validate("")
}

/// What a new case is made of, as StartCase and a schedule's start_case action both give
/// it: one validator for both, so a schedule can never open a case StartCase would refuse.
pub struct CaseFields<'a> {
    pub workflow_type: &'a str,
    /// What the caller calls the business key (a schedule gives a template).
    pub business_key_field: &'a str,
    pub business_key: &'a str,
    pub customer_id: &'a str,
    pub customer_display_name: &'a str,
    pub subject: &'a str,
    pub owner: &'a str,
    pub attributes: &'a BTreeMap<String, String>,
}

impl CaseFields<'_> {
    /// The case to open; each field named after `prefix` (e.g. `spec.start_case.`).
    pub fn validate(&self, prefix: &str) -> Result<NewCase, Status> {
        let field = |name: &str| format!("{prefix}{name}");
        capped(&field("attributes"), self.attributes.len(), MAX_ATTRIBUTES)?;
        let attributes = self
            .attributes
            .iter()
            .map(|(k, v)| {
                let key = name(&field("attributes key"), k)?;
                let value = text(&field(&format!("attributes[{key}]")), v)?;
                Ok((key, value))
            })
            .collect::<Result<BTreeMap<_, _>, Status>>()?;
        Ok(NewCase {
            workflow_type: parse(&field("workflow_type"), self.workflow_type)?,
            business_key: name(&field(self.business_key_field), self.business_key)?,
            customer_id: name(&field("customer.id"), self.customer_id)?,
            customer_display_name: text(
                &field("customer.display_name"),
                self.customer_display_name.trim(),
            )?,
            subject: text(&field("subject"), self.subject.trim())?,
            owner: name(&field("owner"), self.owner)?,
            attributes,
        })
    }
}

pub fn event(event: Option<&PbEvent>) -> Result<Event, Status> {
    let event = event.ok_or_else(|| {
        invalid(
            "event",
            "is required: one of customer_replied, material_provided, executor_done, \
             partner_done, partner_waits_for_customer, material_received, request_review, \
             review_decided, wait_for, complete, reassign_owner",
        )
    })?;
    Ok(match event {
        PbEvent::CustomerReplied(e) => Event::CustomerReplied {
            text: text("customer_replied.text", &e.text)?,
        },
        PbEvent::MaterialProvided(e) => Event::MaterialProvided {
            items: items("material_provided.items", &e.items)?,
            note: text("material_provided.note", &e.note)?,
        },
        PbEvent::ExecutorDone(e) => Event::ExecutorDone {
            note: text("executor_done.note", &e.note)?,
        },
        PbEvent::PartnerDone(e) => Event::PartnerDone {
            note: text("partner_done.note", &e.note)?,
        },
        PbEvent::PartnerWaitsForCustomer(e) => Event::PartnerWaitsForCustomer {
            what: name("partner_waits_for_customer.what", &e.what)?,
        },
        PbEvent::MaterialReceived(e) => Event::MaterialReceived {
            items: items("material_received.items", &e.items)?,
        },
        PbEvent::RequestReview(e) => Event::RequestReview {
            reason: name("request_review.reason", &e.reason)?,
        },
        PbEvent::ReviewDecided(e) => Event::ReviewDecided {
            approved: e.approved,
            note: text("review_decided.note", &e.note)?,
        },
        PbEvent::WaitFor(e) => Event::WaitFor {
            party: parse::<Party>("wait_for.party", &e.party)?,
            what: text("wait_for.what", e.what.trim())?,
            checklist: items("wait_for.checklist", &e.checklist)?,
        },
        PbEvent::Complete(e) => Event::Complete {
            note: text("complete.note", &e.note)?,
        },
        PbEvent::ReassignOwner(e) => Event::ReassignOwner {
            owner: name("reassign_owner.owner", &e.owner)?,
        },
    })
}

/// An optional duration: not negative, at most ten years (`bounds::MAX_DURATION_SECS`).
pub fn duration(
    field: &str,
    d: Option<&prost_types::Duration>,
) -> Result<Option<TimeDelta>, Status> {
    let Some(d) = d else { return Ok(None) };
    bounds::duration(d.seconds, d.nanos)
        .map(Some)
        .map_err(|m| invalid(field, m))
}

/// A required point in time within the years 1970 to 9999.
pub fn time(field: &str, t: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>, Status> {
    let t = t.ok_or_else(|| invalid(field, "is required"))?;
    bounds::time(t.seconds, t.nanos).map_err(|m| invalid(field, m))
}

pub fn page_size(field: &str, size: i32, default: u32, max: u32) -> Result<u32, Status> {
    match size {
        0 => Ok(default),
        n if n < 0 || n as u32 > max => Err(invalid(field, format!("must be between 1 and {max}"))),
        n => Ok(n as u32),
    }
}

/// A `page_token` sent back by a caller: `None` when empty (the first page), else what
/// `decode` makes of it; a token `decode` refuses was not issued by this server.
pub fn page_token<T>(
    token: &str,
    decode: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, Status> {
    match token.trim() {
        "" => Ok(None),
        token => decode(token)
            .map(Some)
            .ok_or_else(|| invalid("page_token", "is not a token this server issued")),
    }
}

/// Cuts `items`, fetched with `limit + 1`, to `limit` and returns the next page's token: the
/// `cursor` of the last item kept when the extra one showed that another page follows, else
/// empty.
pub fn page<T>(items: &mut Vec<T>, limit: u32, cursor: impl FnOnce(&T) -> String) -> String {
    if items.len() <= limit as usize {
        return String::new();
    }
    items.truncate(limit as usize);
    items.last().map(cursor).unwrap_or_default()
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

pub fn case(view: &CaseView) -> pb::Case {
    let c = &view.case;
    pb::Case {
        id: view.id.to_string(),
        workflow_type: c.workflow_type.to_string(),
        business_key: c.business_key.clone(),
        customer: Some(pb::Customer {
            id: c.customer.id.clone(),
            display_name: c.customer.display_name.clone(),
            identity: c.customer.identity.to_string(),
        }),
        subject: c.subject.clone(),
        owner: c.owner.clone(),
        attributes: c
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        state: c.state.to_string(),
        waiting: c.waiting.as_ref().map(|w| pb::Waiting {
            party: w.party.to_string(),
            what: w.what.clone(),
            checklist: w
                .checklist
                .iter()
                .map(|i| pb::ChecklistItem {
                    name: i.name.clone(),
                    done: i.done,
                })
                .collect(),
            since: Some(timestamp(w.since)),
        }),
        next_step: c.next_step.clone(),
        review_needed: c.review_needed,
        complete: c.is_complete(),
        version: view.version,
        created_at: Some(timestamp(c.created_at)),
        updated_at: Some(timestamp(c.updated_at)),
        evidence: format!("aijia://cases/{}/history", view.id),
        pending_timers: view
            .timers
            .iter()
            .map(|t| pb::Timer {
                name: t.name.clone(),
                fire_at: Some(timestamp(t.fire_at)),
            })
            .collect(),
        attention: c
            .attention
            .iter()
            .map(|a| pb::Attention {
                task_id: a.task_id,
                activity: a.activity.clone(),
                code: a.code.clone(),
                message: a.message.clone(),
                since: Some(timestamp(a.since)),
            })
            .collect(),
        pending_drafts: view
            .pending
            .drafts
            .iter()
            .filter_map(|(number, why)| {
                let d = c.rails.draft(*number)?;
                Some(pb::PendingDraft {
                    number: d.number,
                    status: d.status.to_string(),
                    action_type: d.action_type.to_string(),
                    route_reason: d.routing.reason.to_string(),
                    assignee: d
                        .assigned_to
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    since: Some(timestamp(d.submitted_at)),
                    why: why.clone(),
                })
            })
            .collect(),
        pending_tasks: view.pending.tasks.iter().map(pending_task).collect(),
    }
}

fn pending_task(w: &TaskWait) -> pb::PendingTask {
    let t = &w.task;
    let running = t.state == TaskState::Running;
    pb::PendingTask {
        task_id: t.id,
        activity: t.activity.clone(),
        task_queue: t.task_queue.clone(),
        state: t.state.to_string(),
        attempts: t.attempts,
        max_attempts: t.retry_policy.maximum_attempts,
        due_at: (t.state == TaskState::Pending).then(|| timestamp(t.run_at)),
        lease_owner: t
            .lease_owner
            .clone()
            .filter(|_| running)
            .unwrap_or_default(),
        lease_expires_at: t.lease_expires_at.filter(|_| running).map(timestamp),
        last_error_code: t
            .last_error
            .as_ref()
            .map(|e| e.code.clone())
            .unwrap_or_default(),
        last_error_message: t
            .last_error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default(),
        last_poll_at: w.last_poll.map(timestamp),
        why: w.why.clone(),
    }
}

pub fn change(change: &Change) -> pb::CaseChange {
    pb::CaseChange {
        case: Some(case(&change.view)),
        event_seq: change.event_seq,
        duplicate: change.duplicate,
    }
}

pub fn history_event(e: &HistoryEvent) -> pb::HistoryEvent {
    pb::HistoryEvent {
        seq: e.seq,
        event_type: e.event.kind().to_owned(),
        payload_json: serde_json::to_string(&e.event).unwrap_or_default(),
        actor: Some(pb::Actor {
            role: e.actor.role.to_string(),
            id: e.actor.id.clone(),
        }),
        request_id: e.request_id.clone(),
        at: Some(timestamp(e.at)),
        state_after: e.case_after.state.to_string(),
        effects_json: serde_json::to_string(&e.effects).unwrap_or_default(),
    }
}

pub fn replay(outcome: &ReplayOutcome) -> pb::ReplayCaseResponse {
    match outcome {
        ReplayOutcome::Match { events } => pb::ReplayCaseResponse {
            matches: true,
            events_replayed: *events as i64,
            mismatch: None,
        },
        ReplayOutcome::Mismatch(m) => pb::ReplayCaseResponse {
            matches: false,
            events_replayed: m.seq.unwrap_or(0) as i64,
            mismatch: Some(pb::ReplayMismatch {
                seq: m.seq.unwrap_or(0) as i64,
                field: m.field.clone(),
                stored: m.stored.clone(),
                replayed: m.replayed.clone(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_extra_row_cuts_the_page_and_names_its_last_item_as_the_next_token() {
        let mut items = vec![1, 2, 3];
        assert_eq!(page(&mut items, 2, |i| i.to_string()), "2");
        assert_eq!(items, [1, 2]);
        let mut last = vec![1, 2];
        assert_eq!(page(&mut last, 2, |i| i.to_string()), "");
        assert_eq!(last, [1, 2]);
    }

    #[test]
    fn an_empty_page_token_is_the_first_page_and_a_refused_one_names_page_token() {
        let decode = |t: &str| t.parse::<i64>().ok();
        assert_eq!(
            page_token(" ", decode).expect("an empty token is the first page"),
            None
        );
        assert_eq!(
            page_token(" 7 ", decode).expect("a decodable token is taken"),
            Some(7)
        );
        let refused = page_token("x", decode).expect_err("an undecodable token is refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(
            refused.message().contains("page_token"),
            "{}",
            refused.message()
        );
    }
}
