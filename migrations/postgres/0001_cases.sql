-- Service cases, their append-only history, their timers and their outbox of activity tasks.
-- A transition writes all four in one statement (see orchestrator/src/store/postgres.rs).
-- No foreign keys on the hot tables: every child row is written in the same statement as the
-- case row it belongs to, and FK checks would cost a lookup per row on the hot path.

CREATE TABLE cases (
    id               UUID PRIMARY KEY,          -- UUIDv7: time-ordered, so ids page newest first
    workflow_type    TEXT        NOT NULL,
    business_key     TEXT        NOT NULL,
    state            TEXT        NOT NULL,
    waiting_for      TEXT,
    waiting_since    TIMESTAMPTZ,
    owner            TEXT        NOT NULL,
    customer_id      TEXT        NOT NULL,
    version          BIGINT      NOT NULL,      -- = seq of the last history event
    start_request_id TEXT        NOT NULL UNIQUE,
    data             JSONB       NOT NULL,      -- the workflows::Case
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- One open case per business key and workflow type; the database refuses a racing duplicate.
CREATE UNIQUE INDEX cases_open_business_key ON cases (workflow_type, business_key)
    WHERE state NOT IN ('completed', 'cancelled');
CREATE INDEX cases_state ON cases (state, id);
CREATE INDEX cases_waiting ON cases (waiting_for, waiting_since);
CREATE INDEX cases_owner ON cases (owner, id);
CREATE INDEX cases_customer ON cases (customer_id, id);

CREATE TABLE case_events (
    case_id     UUID        NOT NULL,
    seq         BIGINT      NOT NULL,
    event_type  TEXT        NOT NULL,
    payload     JSONB       NOT NULL,
    actor_role  TEXT        NOT NULL,
    actor_id    TEXT        NOT NULL,
    request_id  TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    state_after TEXT        NOT NULL,
    case_after  JSONB       NOT NULL,           -- the case right after this event: the answer to a retry, and replay's yardstick
    effects     JSONB       NOT NULL,
    PRIMARY KEY (case_id, seq)
);
-- A request id is applied to a case at most once.
CREATE UNIQUE INDEX case_events_request ON case_events (case_id, request_id);

CREATE TABLE timers (
    id          BIGSERIAL   PRIMARY KEY,
    case_id     UUID        NOT NULL,
    name        TEXT        NOT NULL,           -- e.g. waiting_for_customer/remind
    fire_at     TIMESTAMPTZ NOT NULL,
    created_seq BIGINT      NOT NULL,
    UNIQUE (case_id, name)
);
CREATE INDEX timers_due ON timers (fire_at);

CREATE TABLE activity_tasks (
    id              BIGSERIAL   PRIMARY KEY,
    case_id         UUID        NOT NULL,
    activity        TEXT        NOT NULL,
    input           JSONB       NOT NULL,
    idempotency_key TEXT        NOT NULL UNIQUE, -- case:seq:activity
    state           TEXT        NOT NULL DEFAULT 'pending',
    attempts        INT         NOT NULL DEFAULT 0,
    created_seq     BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    run_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX activity_tasks_runnable ON activity_tasks (run_at) WHERE state = 'pending';
CREATE INDEX activity_tasks_case ON activity_tasks (case_id);
