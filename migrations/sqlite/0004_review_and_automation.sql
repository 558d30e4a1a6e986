-- See migrations/postgres/0004_review_and_automation.sql. Times are INTEGER microseconds,
-- JSON is TEXT, booleans are INTEGER 0/1.

CREATE TABLE reviewers (
    id           TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    teams        TEXT    NOT NULL DEFAULT '[]',
    active       INTEGER NOT NULL DEFAULT 1,
    added_by     TEXT    NOT NULL,
    added_at     INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE automation_policies (
    version    INTEGER PRIMARY KEY,
    modes      TEXT    NOT NULL,
    paused     INTEGER NOT NULL,
    change     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    forced     INTEGER NOT NULL DEFAULT 0,
    actor_role TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    request_id TEXT    UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE risk_policies (
    version     TEXT    PRIMARY KEY,
    policy_toml TEXT    NOT NULL,
    loaded_at   INTEGER NOT NULL
);

CREATE TABLE risk_policy_activations (
    seq        INTEGER PRIMARY KEY,
    version    TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    actor_role TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    request_id TEXT    UNIQUE,
    at         INTEGER NOT NULL
);

CREATE TABLE customer_contexts (
    customer_id TEXT    PRIMARY KEY,
    context     TEXT    NOT NULL,
    updated_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX case_events_draft_decided ON case_events (at) WHERE event_type = 'draft_decided';
CREATE INDEX case_events_draft_submitted ON case_events (at) WHERE event_type = 'draft_submitted';
