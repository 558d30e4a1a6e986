//! How `aijia case` prints answers: aligned tables for people, JSON for scripts.

use aijia_proto::v1 as pb;
use serde_json::{Value, json};

pub(super) fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

pub(super) fn actor_text(a: Option<&pb::Actor>) -> String {
    a.map(|a| format!("{}:{}", a.role, a.id))
        .unwrap_or_default()
}

pub(super) fn print_json(value: &Value) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows under a header with each column padded to its widest cell.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

pub fn case_json(c: &pb::Case) -> Value {
    json!({
        "id": c.id,
        "workflow_type": c.workflow_type,
        "business_key": c.business_key,
        "customer": c.customer.as_ref().map(|cu| json!({
            "id": cu.id, "display_name": cu.display_name, "identity": cu.identity,
        })),
        "subject": c.subject,
        "owner": c.owner,
        "attributes": c.attributes,
        "state": c.state,
        "waiting": c.waiting.as_ref().map(|w| json!({
            "party": w.party,
            "what": w.what,
            "checklist": w.checklist.iter().map(|i| json!({"name": i.name, "done": i.done})).collect::<Vec<_>>(),
            "since": time(w.since.as_ref()),
        })),
        "next_step": c.next_step,
        "review_needed": c.review_needed,
        "complete": c.complete,
        "version": c.version,
        "created_at": time(c.created_at.as_ref()),
        "updated_at": time(c.updated_at.as_ref()),
        "evidence": c.evidence,
        "pending_timers": c.pending_timers.iter().map(|t| json!({
            "name": t.name, "fire_at": time(t.fire_at.as_ref()),
        })).collect::<Vec<_>>(),
        "attention": c.attention.iter().map(|a| json!({
            "task_id": a.task_id, "activity": a.activity, "code": a.code,
            "message": a.message, "since": time(a.since.as_ref()),
        })).collect::<Vec<_>>(),
        "pending_drafts": c.pending_drafts.iter().map(|d| json!({
            "number": d.number, "status": d.status, "action_type": d.action_type,
            "route_reason": d.route_reason, "assignee": d.assignee,
            "since": time(d.since.as_ref()), "why": d.why,
        })).collect::<Vec<_>>(),
        "pending_tasks": c.pending_tasks.iter().map(|t| json!({
            "task_id": t.task_id, "activity": t.activity, "task_queue": t.task_queue,
            "state": t.state, "attempts": t.attempts, "max_attempts": t.max_attempts,
            "due_at": time(t.due_at.as_ref()), "lease_owner": t.lease_owner,
            "lease_expires_at": time(t.lease_expires_at.as_ref()),
            "last_error_code": t.last_error_code, "last_error_message": t.last_error_message,
            "last_poll_at": time(t.last_poll_at.as_ref()), "why": t.why,
        })).collect::<Vec<_>>(),
    })
}

fn print_case(c: &pb::Case) {
    let customer = c
        .customer
        .as_ref()
        .map(|cu| format!("{} ({}, identity {})", cu.display_name, cu.id, cu.identity))
        .unwrap_or_default();
    let mut rows = vec![
        ("id", c.id.clone()),
        ("type", c.workflow_type.clone()),
        ("business key", c.business_key.clone()),
        ("customer", customer),
        ("subject", c.subject.clone()),
        ("owner", c.owner.clone()),
        ("state", c.state.clone()),
    ];
    if let Some(w) = &c.waiting {
        rows.push((
            "waiting for",
            format!("{}: {} (since {})", w.party, w.what, time(w.since.as_ref())),
        ));
        for item in &w.checklist {
            rows.push((
                "",
                format!("[{}] {}", if item.done { "x" } else { " " }, item.name),
            ));
        }
    }
    rows.push(("next step", c.next_step.clone()));
    for a in &c.attention {
        rows.push((
            "NEEDS OPERATOR",
            format!(
                "task {} ({}) failed: {}: {} (aijia task retry {})",
                a.task_id, a.activity, a.code, a.message, a.task_id
            ),
        ));
    }
    for d in &c.pending_drafts {
        rows.push(("draft waits", format!("{}/{}: {}", c.id, d.number, d.why)));
    }
    for t in &c.pending_tasks {
        rows.push((
            "task waits",
            format!(
                "task {} ({}, {}): {}",
                t.task_id, t.activity, t.state, t.why
            ),
        ));
    }
    rows.push(("review needed", c.review_needed.to_string()));
    rows.push(("complete", c.complete.to_string()));
    rows.push(("version", c.version.to_string()));
    rows.push(("updated", time(c.updated_at.as_ref())));
    for t in &c.pending_timers {
        rows.push((
            "timer",
            format!("{} at {}", t.name, time(t.fire_at.as_ref())),
        ));
    }
    for (k, v) in &c.attributes {
        rows.push(("attribute", format!("{k}={v}")));
    }
    rows.push(("evidence", c.evidence.clone()));
    for (k, v) in rows {
        outln!("{k:<14} {v}");
    }
}

pub fn case(c: Option<&pb::Case>, json: bool) -> anyhow::Result<()> {
    let Some(c) = c else { return Ok(()) };
    if json {
        return print_json(&case_json(c));
    }
    print_case(c);
    Ok(())
}

pub fn started(resp: &pb::StartCaseResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "created": resp.created,
            "duplicate": resp.duplicate,
            "case": resp.case.as_ref().map(case_json),
        }));
    }
    outln!(
        "{}",
        match (resp.created, resp.duplicate) {
            (true, _) => "case started",
            (false, true) => "case already started by this request (nothing new started)",
            (false, false) => "an open case has this business key (nothing new started)",
        }
    );
    case(resp.case.as_ref(), false)
}

pub fn change(change: Option<&pb::CaseChange>, json: bool) -> anyhow::Result<()> {
    let Some(change) = change else { return Ok(()) };
    if json {
        return print_json(&json!({
            "event_seq": change.event_seq,
            "duplicate": change.duplicate,
            "case": change.case.as_ref().map(case_json),
        }));
    }
    outln!(
        "event #{}{}",
        change.event_seq,
        if change.duplicate {
            " (already applied: same request id)"
        } else {
            " applied"
        }
    );
    case(change.case.as_ref(), false)
}

pub fn list(resp: &pb::ListCasesResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "cases": resp.cases.iter().map(case_json).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
        }));
    }
    let rows: Vec<Vec<String>> = resp
        .cases
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.workflow_type.clone(),
                c.state.clone(),
                c.waiting
                    .as_ref()
                    .map(|w| w.party.clone())
                    .unwrap_or_default(),
                c.waiting
                    .as_ref()
                    .map(|w| time(w.since.as_ref()))
                    .unwrap_or_default(),
                c.owner.clone(),
                c.customer
                    .as_ref()
                    .map(|cu| cu.id.clone())
                    .unwrap_or_default(),
                c.version.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "TYPE",
            "STATE",
            "WAITING FOR",
            "SINCE",
            "OWNER",
            "CUSTOMER",
            "VERSION",
        ],
        &rows,
    );
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    Ok(())
}

pub fn history(resp: &pb::GetCaseHistoryResponse, json: bool) -> anyhow::Result<()> {
    if json {
        let events: Vec<Value> = resp
            .events
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "event_type": e.event_type,
                    "payload": serde_json::from_str::<Value>(&e.payload_json).unwrap_or(Value::Null),
                    "actor": e.actor.as_ref().map(|a| json!({"role": a.role, "id": a.id})),
                    "request_id": e.request_id,
                    "at": time(e.at.as_ref()),
                    "state_after": e.state_after,
                    "effects": serde_json::from_str::<Value>(&e.effects_json).unwrap_or(Value::Null),
                })
            })
            .collect();
        return print_json(&json!({"events": events, "next_page_token": resp.next_page_token}));
    }
    let rows: Vec<Vec<String>> = resp
        .events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                time(e.at.as_ref()),
                e.event_type.clone(),
                e.actor
                    .as_ref()
                    .map(|a| format!("{}:{}", a.role, a.id))
                    .unwrap_or_default(),
                e.state_after.clone(),
            ]
        })
        .collect();
    table(&["SEQ", "AT", "EVENT", "ACTOR", "STATE AFTER"], &rows);
    if !resp.next_page_token.is_empty() {
        outln!("more: --page-token {}", resp.next_page_token);
    }
    Ok(())
}

pub fn replay(resp: &pb::ReplayCaseResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "matches": resp.matches,
            "events_replayed": resp.events_replayed,
            "mismatch": resp.mismatch.as_ref().map(|m| json!({
                "seq": m.seq, "field": m.field, "stored": m.stored, "replayed": m.replayed,
            })),
        }));
    }
    match &resp.mismatch {
        None => outln!(
            "replay matches: {} events reproduce the stored case",
            resp.events_replayed
        ),
        Some(m) => outln!(
            "replay MISMATCH at event #{}: field {} stored {} but replay gives {}",
            m.seq,
            m.field,
            m.stored,
            m.replayed
        ),
    }
    Ok(())
}
