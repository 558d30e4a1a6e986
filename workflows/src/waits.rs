//! Why a case's unfinished work waits: one short sentence per open draft and per unfinished
//! activity task, for operators (`GetCase`, `aijia case get`). Computed here, in one place,
//! from plain facts the engine reads (the draft as the case keeps it; a task row and when a
//! worker last polled for its type and queue), with `now` as a parameter.

use chrono::{DateTime, TimeDelta, Utc};

use crate::automation::RouteReason;
use crate::policy::format_duration;
use crate::review::{CaseDraft, DraftStatus};

/// A worker that polled for a type and queue within this long counts as serving it: a long
/// poll lasts at most 60 s, and a polling worker is recorded at least every few seconds.
pub const POLL_GRACE: TimeDelta = TimeDelta::seconds(90);

/// Where an unfinished task stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStanding<'a> {
    /// Waiting to be claimed once `due_at` has come.
    Pending { due_at: DateTime<Utc> },
    /// Claimed by `worker` until `lease_until`.
    Running {
        worker: &'a str,
        lease_until: DateTime<Utc>,
    },
    /// Failed for good: in its case's attention.
    Failed,
}

/// What is known of one unfinished task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFacts<'a> {
    pub task_id: i64,
    pub activity: &'a str,
    pub queue: &'a str,
    pub standing: TaskStanding<'a>,
    /// Attempts made in the current round.
    pub attempts: u32,
    /// Attempts its retry policy allows; 0: no limit.
    pub max_attempts: u32,
    /// The last failed attempt's code and message.
    pub last_error: Option<(&'a str, &'a str)>,
    /// When a worker last polled for this activity type on this queue; `None`: not within the
    /// time workers are remembered.
    pub last_poll: Option<DateTime<Utc>>,
}

/// Why the task waits, e.g. "due since 2026-12-02 16:40:00 UTC (5m); no worker has polled for
/// send_message on default ever".
pub fn task_wait(t: &TaskFacts<'_>, now: DateTime<Utc>) -> String {
    let of_max = |n: u32| match t.max_attempts {
        0 => format!("attempt {n}"),
        max => format!("attempt {n} of {max}"),
    };
    let after_error = t
        .last_error
        .map(|(code, message)| format!(" after {code}: {message}"))
        .unwrap_or_default();
    match &t.standing {
        TaskStanding::Pending { due_at } if *due_at > now => format!(
            "{} due at {} (in {}){after_error}",
            of_max(t.attempts + 1),
            time(*due_at),
            span(*due_at - now)
        ),
        TaskStanding::Pending { due_at } => {
            let waited = format!(
                "{} due since {} ({})",
                of_max(t.attempts + 1),
                time(*due_at),
                span(now - *due_at)
            );
            format!(
                "{waited}; {}",
                served(t.activity, t.queue, t.last_poll, now)
            )
        }
        TaskStanding::Running {
            worker,
            lease_until,
        } if *lease_until < now => {
            let next = if t.max_attempts != 0 && t.attempts >= t.max_attempts {
                "it fails for good at the sweeper's next look"
            } else {
                "another worker will take it over"
            };
            format!(
                "{}: the lease of {worker} ran out at {}; {next}",
                of_max(t.attempts),
                time(*lease_until)
            )
        }
        TaskStanding::Running {
            worker,
            lease_until,
        } => format!(
            "{} running on {worker}, leased until {}",
            of_max(t.attempts),
            time(*lease_until)
        ),
        TaskStanding::Failed => format!(
            "failed for good{after_error}; needs an operator: aijia task retry {} (or cancel)",
            t.task_id
        ),
    }
}

/// Whether a worker serves `activity` on `queue`, given its last poll: "waiting for a free
/// worker (…)" when one polled within [`POLL_GRACE`], else "no worker has polled for <type> on
/// <queue> since <time>" (or "ever").
pub fn served(
    activity: &str,
    queue: &str,
    last_poll: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    match last_poll {
        Some(at) if now - at <= POLL_GRACE => format!(
            "waiting for a free worker (one polled for {activity} on {queue} at {})",
            time(at)
        ),
        Some(at) => format!(
            "no worker has polled for {activity} on {queue} since {}",
            time(at)
        ),
        None => format!("no worker has polled for {activity} on {queue} ever"),
    }
}

/// Why an open draft waits, e.g. "pending review since … (2h), unassigned: high_risk (the
/// risk gate found something)"; `None` for a draft that no longer waits.
pub fn draft_wait(draft: &CaseDraft, now: DateTime<Utc>) -> Option<String> {
    let since = format!(
        "since {} ({})",
        time(draft.submitted_at),
        span(now - draft.submitted_at)
    );
    let why = route_reason(draft.routing.reason);
    match draft.status {
        DraftStatus::PendingReview => {
            let assignee = draft
                .assigned_to
                .as_ref()
                .map_or_else(|| "unassigned".to_owned(), |a| format!("assigned to {a}"));
            Some(format!(
                "pending review {since}, {assignee}: {} {}",
                draft.action_type, why
            ))
        }
        DraftStatus::Held => Some(format!(
            "held {since}: {} {why}; a reviewer may still decide it",
            draft.action_type
        )),
        _ => None,
    }
}

fn route_reason(reason: RouteReason) -> &'static str {
    match reason {
        RouteReason::HighRisk => "is in auto, but the risk gate found something",
        RouteReason::ModeReview => "is in review mode (AI drafts, a human sends)",
        RouteReason::ModeOff => "is off",
        RouteReason::Paused => "while all automation is paused",
        RouteReason::TakenOver => "while a human has taken the case over",
        RouteReason::LowRisk | RouteReason::ModeAuto => "went out on its own",
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A wait to the second: `5m3s`.
fn span(d: TimeDelta) -> String {
    format_duration(TimeDelta::seconds(d.num_seconds()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::automation::{ActionType, Route, Routing};
    use crate::event::{Actor, ActorRole};
    use crate::review::{Assignee, DraftOrigin};
    use crate::risk::DraftFlags;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 16, 0, 0).unwrap() + TimeDelta::minutes(min)
    }

    fn pending(due: i64, last_poll: Option<DateTime<Utc>>) -> TaskFacts<'static> {
        TaskFacts {
            task_id: 7,
            activity: "send_message",
            queue: "default",
            standing: TaskStanding::Pending { due_at: at(due) },
            attempts: 0,
            max_attempts: 25,
            last_error: None,
            last_poll,
        }
    }

    fn draft(status: DraftStatus, reason: RouteReason, assigned_to: Option<Assignee>) -> CaseDraft {
        CaseDraft {
            number: 3,
            origin: DraftOrigin::Submitted,
            text: "customer text stays out of the reason".into(),
            audience: None,
            action_type: ActionType::StandardFaq,
            flags: DraftFlags::default(),
            author: Actor {
                role: ActorRole::Reception,
                id: "agent-1".into(),
            },
            assessment: None,
            routing: Routing {
                route: Route::Review,
                reason,
            },
            automation_policy_version: 1,
            status,
            submitted_at: at(0),
            assigned_to,
            decision: None,
        }
    }

    #[test]
    fn an_open_draft_says_since_when_who_decides_and_why_it_was_routed_so() {
        let team = Some(Assignee::Team("billing".into()));
        let queued = draft(DraftStatus::PendingReview, RouteReason::HighRisk, team);
        assert_eq!(
            draft_wait(&queued, at(120)).as_deref(),
            Some(
                "pending review since 2026-12-02 16:00:00 UTC (2h), assigned to team billing: \
                 standard_faq is in auto, but the risk gate found something"
            )
        );
        let held = draft(DraftStatus::Held, RouteReason::TakenOver, None);
        assert_eq!(
            draft_wait(&held, at(5)).as_deref(),
            Some(
                "held since 2026-12-02 16:00:00 UTC (5m): standard_faq while a human has taken \
                 the case over; a reviewer may still decide it"
            )
        );
        let sent = draft(DraftStatus::Approved, RouteReason::HighRisk, None);
        assert_eq!(
            draft_wait(&sent, at(5)),
            None,
            "a decided draft waits for nothing"
        );
    }

    #[test]
    fn a_due_task_nobody_polls_for_says_since_when_or_ever() {
        assert_eq!(
            task_wait(&pending(0, None), at(5)),
            "attempt 1 of 25 due since 2026-12-02 16:00:00 UTC (5m); \
             no worker has polled for send_message on default ever"
        );
        assert_eq!(
            task_wait(&pending(0, Some(at(-10))), at(5)),
            "attempt 1 of 25 due since 2026-12-02 16:00:00 UTC (5m); \
             no worker has polled for send_message on default since 2026-12-02 15:50:00 UTC"
        );
    }

    #[test]
    fn a_due_task_with_a_polling_worker_waits_for_a_free_one() {
        let why = task_wait(&pending(0, Some(at(5) - TimeDelta::seconds(30))), at(5));
        assert!(why.contains("waiting for a free worker"), "{why}");
    }

    #[test]
    fn a_retry_says_when_and_after_what() {
        let mut t = pending(10, None);
        t.attempts = 2;
        t.last_error = Some(("http_5xx", "503"));
        assert_eq!(
            task_wait(&t, at(5)),
            "attempt 3 of 25 due at 2026-12-02 16:10:00 UTC (in 5m) after http_5xx: 503"
        );
    }

    #[test]
    fn running_and_failed_tasks_say_who_and_what_to_do() {
        let mut t = pending(0, None);
        t.attempts = 1;
        t.max_attempts = 0;
        t.standing = TaskStanding::Running {
            worker: "w-1",
            lease_until: at(6),
        };
        assert_eq!(
            task_wait(&t, at(5)),
            "attempt 1 running on w-1, leased until 2026-12-02 16:06:00 UTC"
        );
        assert!(task_wait(&t, at(7)).ends_with(
            "the lease of w-1 ran out at 2026-12-02 16:06:00 UTC; another worker will take it over"
        ));
        t.max_attempts = 1;
        assert!(task_wait(&t, at(7)).ends_with("fails for good at the sweeper's next look"));
        t.standing = TaskStanding::Failed;
        t.last_error = Some(("http_4xx", "400"));
        assert_eq!(
            task_wait(&t, at(7)),
            "failed for good after http_4xx: 400; needs an operator: aijia task retry 7 (or cancel)"
        );
    }
}
