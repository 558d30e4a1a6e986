-- Activity tasks become a queue (see orchestrator/src/store/tasks.rs): where a task is served
-- (task_queue), who holds it until when (lease_owner, lease_expires_at), how it is retried
-- (retry_policy, carried by each task), how its last attempt failed, what it produced, and
-- when it finished. `attempts` counts the attempts of the current round (an operator's retry
-- starts a new round at 0); `claims` counts every claim ever and is the fence a task token
-- carries, so a token from an earlier round or attempt can never settle the task.
-- state: pending | running | completed | failed | cancelled.
ALTER TABLE activity_tasks
    ADD COLUMN task_queue        TEXT        NOT NULL DEFAULT 'default',
    ADD COLUMN claims            BIGINT      NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner       TEXT,
    ADD COLUMN lease_expires_at  TIMESTAMPTZ,
    -- = serde of aijia_activities::RetryPolicy::default() (checked by a store test).
    ADD COLUMN retry_policy      JSONB       NOT NULL DEFAULT
        '{"initial_interval":"1s","backoff_coefficient":2.0,"maximum_interval":"5m","maximum_attempts":10,"non_retryable_codes":[]}',
    ADD COLUMN last_error        JSONB,
    ADD COLUMN heartbeat_details JSONB,
    ADD COLUMN result            JSONB,
    ADD COLUMN completed_at      TIMESTAMPTZ,             -- when it completed, failed for good or was cancelled
    ADD COLUMN updated_at        TIMESTAMPTZ;            -- NULL until the task first changes: created_at

-- Claiming: pending tasks by queue, type and due time; running tasks by lease expiry.
DROP INDEX activity_tasks_runnable;
CREATE INDEX activity_tasks_pending ON activity_tasks (task_queue, activity, run_at) WHERE state = 'pending';
CREATE INDEX activity_tasks_leases ON activity_tasks (lease_expires_at) WHERE state = 'running';
-- Operators list tasks by state (newest first); retention deletes finished ones by age.
CREATE INDEX activity_tasks_state ON activity_tasks (state, id);
CREATE INDEX activity_tasks_finished ON activity_tasks (completed_at) WHERE state IN ('completed', 'cancelled');

-- A case needs an operator while one of its tasks has failed for good (case.attention is not
-- empty); kept by every commit, filtered by ListCases.
ALTER TABLE cases ADD COLUMN needs_operator BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX cases_needs_operator ON cases (id) WHERE needs_operator;
