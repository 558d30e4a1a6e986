-- See migrations/postgres/0003_activity_tasks.sql. Times are INTEGER microseconds, JSON is TEXT.
ALTER TABLE activity_tasks ADD COLUMN task_queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE activity_tasks ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE activity_tasks ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE activity_tasks ADD COLUMN retry_policy TEXT NOT NULL DEFAULT
    '{"initial_interval":"1s","backoff_coefficient":2.0,"maximum_interval":"5m","maximum_attempts":10,"non_retryable_codes":[]}';
ALTER TABLE activity_tasks ADD COLUMN last_error TEXT;
ALTER TABLE activity_tasks ADD COLUMN heartbeat_details TEXT;
ALTER TABLE activity_tasks ADD COLUMN result TEXT;
ALTER TABLE activity_tasks ADD COLUMN completed_at INTEGER;
ALTER TABLE activity_tasks ADD COLUMN updated_at INTEGER;  -- NULL until the task first changes

DROP INDEX activity_tasks_runnable;
CREATE INDEX activity_tasks_pending ON activity_tasks (task_queue, activity, run_at) WHERE state = 'pending';
CREATE INDEX activity_tasks_leases ON activity_tasks (lease_expires_at) WHERE state = 'running';
CREATE INDEX activity_tasks_state ON activity_tasks (state, id);
CREATE INDEX activity_tasks_finished ON activity_tasks (completed_at) WHERE state IN ('completed', 'cancelled');

ALTER TABLE cases ADD COLUMN needs_operator INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_needs_operator ON cases (id) WHERE needs_operator = 1;
