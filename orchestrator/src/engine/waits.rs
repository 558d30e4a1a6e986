//! What a case waits on, for GetCase (and a task, for GetTask): its open drafts and
//! unfinished tasks, each with the sentence [`aijia_workflows::waits`] makes from what the
//! engine reads here (the task rows, and when a worker last polled for each task's type and
//! queue).

use aijia_workflows::Case;
use aijia_workflows::waits::{self, TaskFacts, TaskStanding};
use chrono::{DateTime, Utc};

use super::workers::LastPolls;
use super::{Engine, EngineError};
use crate::ids::CaseId;
use crate::store::{TaskRow, TaskState};

/// The most unfinished tasks GetCase shows of one case.
const MAX_TASKS: u32 = 100;

/// A case's open drafts and unfinished tasks, with why each waits.
#[derive(Debug, Clone, Default)]
pub struct PendingWork {
    /// (draft number, why).
    pub drafts: Vec<(u32, String)>,
    pub tasks: Vec<TaskWait>,
}

/// An unfinished task and why it waits.
#[derive(Debug, Clone)]
pub struct TaskWait {
    pub task: TaskRow,
    /// When a worker last polled for its type on its queue (`None`: none on record, or the
    /// task is finished).
    pub last_poll: Option<DateTime<Utc>>,
    /// Empty for a finished task.
    pub why: String,
}

impl Engine {
    /// Each task with why it waits (empty for a finished one), reading when a worker last
    /// polled for each unfinished task's type and queue once per pair.
    pub async fn task_waits(&self, rows: Vec<TaskRow>) -> Result<Vec<TaskWait>, EngineError> {
        let now = self.clock.now();
        let mut polls = LastPolls::default();
        let mut waits = Vec::with_capacity(rows.len());
        for task in rows {
            if matches!(task.state, TaskState::Completed | TaskState::Cancelled) {
                waits.push(TaskWait {
                    task,
                    last_poll: None,
                    why: String::new(),
                });
                continue;
            }
            let last_poll = polls
                .of(&self.store, &task.task_queue, &task.activity)
                .await?;
            let why = facts(&task, last_poll)
                .map(|f| waits::task_wait(&f, now))
                .unwrap_or_default();
            waits.push(TaskWait {
                task,
                last_poll,
                why,
            });
        }
        Ok(waits)
    }

    pub(super) async fn pending_work(
        &self,
        case_id: CaseId,
        case: &Case,
    ) -> Result<PendingWork, EngineError> {
        let now = self.clock.now();
        let drafts = case
            .rails
            .drafts
            .iter()
            .filter_map(|d| Some((d.number, waits::draft_wait(d, now)?)))
            .collect();
        let rows = self.store.unfinished_tasks(case_id.0, MAX_TASKS).await?;
        let tasks = self.task_waits(rows).await?;
        Ok(PendingWork { drafts, tasks })
    }
}

/// What [`waits::task_wait`] needs of a task; `None` for a finished one.
fn facts(task: &TaskRow, last_poll: Option<DateTime<Utc>>) -> Option<TaskFacts<'_>> {
    let standing = match task.state {
        TaskState::Pending => TaskStanding::Pending {
            due_at: task.run_at,
        },
        TaskState::Running => TaskStanding::Running {
            worker: task.lease_owner.as_deref().unwrap_or("an unknown worker"),
            lease_until: task.lease_expires_at.unwrap_or(task.updated_at),
        },
        TaskState::Failed => TaskStanding::Failed,
        TaskState::Completed | TaskState::Cancelled => return None,
    };
    Some(TaskFacts {
        task_id: task.id,
        activity: &task.activity,
        queue: &task.task_queue,
        standing,
        attempts: task.attempts,
        max_attempts: task.retry_policy.maximum_attempts,
        last_error: task
            .last_error
            .as_ref()
            .map(|e| (e.code.as_str(), e.message.as_str())),
        last_poll,
    })
}
