-- The review queue's index: one row per draft of a case, written in the same transaction as
-- the commit that changes the draft (the draft itself stays in cases.data -> rails).
-- ListReviews pages through it oldest first; review pass rates count its decisions.
CREATE TABLE drafts (
    case_id       BLOB    NOT NULL,
    number        INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    action_type   TEXT    NOT NULL,
    templated     INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    automation_version INTEGER NOT NULL,
    assignee_kind TEXT,
    assignee      TEXT,
    submitted_at  INTEGER NOT NULL,                 -- microseconds since the epoch
    decided_at    INTEGER,
    waited_us     INTEGER,
    PRIMARY KEY (case_id, number)
);
CREATE INDEX drafts_queue ON drafts (status, submitted_at, case_id, number);
CREATE INDEX drafts_decided ON drafts (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX drafts_templated ON drafts (submitted_at) WHERE templated;

-- Drafts of cases written before this index existed (timestamps in the case JSON are RFC 3339).
INSERT INTO drafts (case_id, number, status, action_type, templated, reason,
                    automation_version, assignee_kind, assignee, submitted_at, decided_at,
                    waited_us)
SELECT c.id,
       json_extract(d.value, '$.number'),
       json_extract(d.value, '$.status'),
       json_extract(d.value, '$.action_type'),
       json_extract(d.value, '$.origin.kind') = 'activity',
       json_extract(d.value, '$.routing.reason'),
       json_extract(d.value, '$.automation_policy_version'),
       json_extract(d.value, '$.assigned_to.kind'),
       json_extract(d.value, '$.assigned_to.name'),
       CAST(round((julianday(json_extract(d.value, '$.submitted_at')) - 2440587.5) * 86400000000) AS INTEGER),
       CAST(round((julianday(json_extract(d.value, '$.decision.at')) - 2440587.5) * 86400000000) AS INTEGER),
       CAST(round((julianday(json_extract(d.value, '$.decision.at'))
                   - julianday(json_extract(d.value, '$.submitted_at'))) * 86400000000) AS INTEGER)
FROM cases c, json_each(c.data, '$.rails.drafts') AS d;

DROP INDEX case_events_draft_decided;
