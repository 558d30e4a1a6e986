-- Safety rails: the reviewers registry, automation policy versions, risk policy versions and
-- their activations, customers' private context, and the indexes that the review pass rate
-- and policy replay read. Drafts themselves live in their case (cases.data -> rails), so each
-- change to one commits with its history event.

-- Who may decide drafts. Deactivated reviewers stay for the record.
CREATE TABLE reviewers (
    id           TEXT        PRIMARY KEY,
    display_name TEXT        NOT NULL,
    teams        JSONB       NOT NULL DEFAULT '[]',
    active       BOOLEAN     NOT NULL DEFAULT true,
    added_by     TEXT        NOT NULL,             -- role:id of who registered them
    added_at     TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- One row per automation policy version (append-only); the highest version is in force.
-- Version 1 is written by the first server that needs it (every type in review).
CREATE TABLE automation_policies (
    version    BIGINT      PRIMARY KEY,
    modes      JSONB       NOT NULL,                -- {"standard_faq": "review", …}
    paused     BOOLEAN     NOT NULL,
    change     TEXT        NOT NULL,                -- what changed, in words
    reason     TEXT        NOT NULL,
    forced     BOOLEAN     NOT NULL DEFAULT false,  -- opened to auto below the bar
    actor_role TEXT        NOT NULL,
    actor_id   TEXT        NOT NULL,
    request_id TEXT        UNIQUE,                  -- a retried change finds its version
    created_at TIMESTAMPTZ NOT NULL
);

-- Every risk policy file ever loaded, by its `version` line (a version names one content).
CREATE TABLE risk_policies (
    version     TEXT        PRIMARY KEY,
    policy_toml TEXT        NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL
);

-- Each time a risk policy became the active one (append-only); the highest seq is in force.
CREATE TABLE risk_policy_activations (
    seq        BIGINT      PRIMARY KEY,
    version    TEXT        NOT NULL,
    reason     TEXT        NOT NULL,
    actor_role TEXT        NOT NULL,
    actor_id   TEXT        NOT NULL,
    request_id TEXT        UNIQUE,
    at         TIMESTAMPTZ NOT NULL
);

-- Customers' private context, put by backend services; read only for confirmed identities.
CREATE TABLE customer_contexts (
    customer_id TEXT        PRIMARY KEY,
    context     JSONB       NOT NULL,
    updated_by  TEXT        NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Review pass rates count decisions by time; replay reads submitted drafts by time. Partial,
-- so no other event pays for them.
CREATE INDEX case_events_draft_decided ON case_events (at) WHERE event_type = 'draft_decided';
CREATE INDEX case_events_draft_submitted ON case_events (at) WHERE event_type = 'draft_submitted';
