//! What a case makes of its activity tasks' outcomes, in every state (terminal ones included):
//! a result is evidence, a task that failed for good puts the case on an operator's list
//! (`Case::attention`) until that task completes, is retried or is cancelled. None of these
//! moves the case's state or its timers, so an outcome that arrives late (after the case
//! moved on, completed or was cancelled) is still recorded and never refused.

use crate::event::Event;
use crate::model::Attention;

use super::step::Step;

/// Evidence kinds of task outcomes.
pub const ACTIVITY_COMPLETED: &str = "activity_completed";
pub const ACTIVITY_FAILED: &str = "activity_failed";
pub const TASK_RETRIED: &str = "task_retried";
pub const TASK_CANCELLED: &str = "task_cancelled";

/// Applies a task outcome; false for any other event (the machine decides those).
pub(super) fn handle(step: &mut Step<'_>, event: &Event) -> bool {
    let task_id = match event {
        Event::ActivityCompleted { task_id, .. }
        | Event::ActivityFailed { task_id, .. }
        | Event::TaskRetried { task_id }
        | Event::TaskCancelled { task_id, .. } => *task_id,
        _ => return false,
    };
    if task_id <= 0 {
        step.invalid::<()>(format!("task_id must be positive, not {task_id}"));
        return true;
    }
    // Whatever happens to a task ends what an operator had to do about it…
    step.case.attention.retain(|a| a.task_id != task_id);
    match event {
        Event::ActivityCompleted { activity, .. } => {
            step.evidence(
                ACTIVITY_COMPLETED,
                format!("{activity} (task {task_id}) completed"),
            );
        }
        // …except a failure for good, which is what an operator has to do something about.
        Event::ActivityFailed {
            activity,
            code,
            message,
            ..
        } => {
            step.case.attention.push(Attention {
                task_id,
                activity: activity.clone(),
                code: code.clone(),
                message: message.clone(),
                since: step.now(),
            });
            step.evidence(
                ACTIVITY_FAILED,
                format!("{activity} (task {task_id}) failed for good: {code}: {message}"),
            );
        }
        Event::TaskRetried { .. } => {
            step.evidence(
                TASK_RETRIED,
                format!("task {task_id} sent back to its queue"),
            );
        }
        Event::TaskCancelled { reason, .. } => {
            let reason = reason.trim();
            step.evidence(
                TASK_CANCELLED,
                format!("task {task_id} cancelled: {reason}"),
            );
        }
        _ => {}
    }
    true
}
