-- See migrations/postgres/0006_request_fingerprints_and_schedule_changes.sql. Times are
-- INTEGER microseconds.
ALTER TABLE case_events ADD COLUMN request_fingerprint TEXT;
ALTER TABLE schedules ADD COLUMN create_request_fingerprint TEXT;
ALTER TABLE schedule_fires ADD COLUMN request_fingerprint TEXT;
ALTER TABLE automation_policies ADD COLUMN request_fingerprint TEXT;
ALTER TABLE risk_policy_activations ADD COLUMN request_fingerprint TEXT;

CREATE INDEX cases_business_key ON cases (workflow_type, business_key, created_at);

CREATE TABLE schedule_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id   BLOB    NOT NULL,
    schedule_name TEXT    NOT NULL,
    change        TEXT    NOT NULL,
    actor_role    TEXT    NOT NULL,
    actor_id      TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX schedule_changes_schedule ON schedule_changes (schedule_id, id);
