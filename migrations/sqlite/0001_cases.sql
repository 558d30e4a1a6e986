-- The embedded store: the same tables as migrations/postgres, in SQLite's types.
-- Times are INTEGER microseconds since the Unix epoch (UTC), so range filters compare numbers.

CREATE TABLE cases (
    id               BLOB    PRIMARY KEY,
    workflow_type    TEXT    NOT NULL,
    business_key     TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    waiting_for      TEXT,
    waiting_since    INTEGER,
    owner            TEXT    NOT NULL,
    customer_id      TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    start_request_id TEXT    NOT NULL UNIQUE,
    data             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE UNIQUE INDEX cases_open_business_key ON cases (workflow_type, business_key)
    WHERE state NOT IN ('completed', 'cancelled');
CREATE INDEX cases_state ON cases (state, id);
CREATE INDEX cases_waiting ON cases (waiting_for, waiting_since);
CREATE INDEX cases_owner ON cases (owner, id);
CREATE INDEX cases_customer ON cases (customer_id, id);

CREATE TABLE case_events (
    case_id     BLOB    NOT NULL,
    seq         INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    state_after TEXT    NOT NULL,
    case_after  TEXT    NOT NULL,
    effects     TEXT    NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE UNIQUE INDEX case_events_request ON case_events (case_id, request_id);

CREATE TABLE timers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     BLOB    NOT NULL,
    name        TEXT    NOT NULL,
    fire_at     INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    UNIQUE (case_id, name)
);
CREATE INDEX timers_due ON timers (fire_at);

CREATE TABLE activity_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         BLOB    NOT NULL,
    activity        TEXT    NOT NULL,
    input           TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_seq     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    run_at          INTEGER NOT NULL
);
CREATE INDEX activity_tasks_runnable ON activity_tasks (run_at) WHERE state = 'pending';
CREATE INDEX activity_tasks_case ON activity_tasks (case_id);
