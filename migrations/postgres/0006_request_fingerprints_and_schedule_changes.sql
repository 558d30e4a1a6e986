-- Request ids keep their word: each idempotency record keeps the fingerprint of the request
-- that made it ("Kind:sha256", see orchestrator/src/grpc/idempotency.rs), so the same id sent
-- with another request is refused instead of answered. NULL: recorded before fingerprints
-- were kept, or keyed by the server itself; such a record matches any request.
ALTER TABLE case_events ADD COLUMN request_fingerprint TEXT;
ALTER TABLE schedules ADD COLUMN create_request_fingerprint TEXT;
ALTER TABLE schedule_fires ADD COLUMN request_fingerprint TEXT;
ALTER TABLE automation_policies ADD COLUMN request_fingerprint TEXT;
ALTER TABLE risk_policy_activations ADD COLUMN request_fingerprint TEXT;

-- GetCase by business key reads closed cases too (the open one has its own unique index).
CREATE INDEX cases_business_key ON cases (workflow_type, business_key, created_at);

-- Who changed a schedule and why (append-only; kept when the schedule is deleted).
CREATE TABLE schedule_changes (
    id            BIGSERIAL   PRIMARY KEY,
    schedule_id   UUID        NOT NULL,
    schedule_name TEXT        NOT NULL,
    change        TEXT        NOT NULL,     -- updated, paused, resumed, deleted
    actor_role    TEXT        NOT NULL,
    actor_id      TEXT        NOT NULL,
    reason        TEXT        NOT NULL,
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedule_changes_schedule ON schedule_changes (schedule_id, id);
