-- The review queue's index: one row per draft of a case, written by the same commit statement
-- that changes the draft (the draft itself stays in cases.data -> rails). ListReviews pages
-- through it oldest first, and review pass rates count its decisions, without reading cases.
CREATE TABLE drafts (
    case_id       UUID        NOT NULL,
    number        INTEGER     NOT NULL,
    status        TEXT        NOT NULL,             -- pending_review, held, sent, approved, …
    action_type   TEXT        NOT NULL,
    templated     BOOLEAN     NOT NULL,             -- a state machine's activity, not a submission
    reason        TEXT        NOT NULL,             -- why it was routed where it was
    automation_version BIGINT NOT NULL,             -- the automation policy it was routed under
    assignee_kind TEXT,                             -- reviewer | team; NULL: anyone's
    assignee      TEXT,
    submitted_at  TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ,
    waited_us     BIGINT,                           -- decided_at - submitted_at
    PRIMARY KEY (case_id, number)
);
CREATE INDEX drafts_queue ON drafts (status, submitted_at, case_id, number);
CREATE INDEX drafts_decided ON drafts (decided_at) WHERE decided_at IS NOT NULL;
-- Policy replay reads the templated drafts of a period.
CREATE INDEX drafts_templated ON drafts (submitted_at) WHERE templated;

-- Drafts of cases written before this index existed.
INSERT INTO drafts (case_id, number, status, action_type, templated, reason,
                    automation_version, assignee_kind, assignee, submitted_at, decided_at,
                    waited_us)
SELECT c.id,
       (d->>'number')::integer,
       d->>'status',
       d->>'action_type',
       d->'origin'->>'kind' = 'activity',
       d->'routing'->>'reason',
       (d->>'automation_policy_version')::bigint,
       d->'assigned_to'->>'kind',
       d->'assigned_to'->>'name',
       (d->>'submitted_at')::timestamptz,
       (d->'decision'->>'at')::timestamptz,
       (extract(epoch FROM (d->'decision'->>'at')::timestamptz - (d->>'submitted_at')::timestamptz)
           * 1000000)::bigint
FROM cases c, jsonb_array_elements(c.data->'rails'->'drafts') AS d
WHERE jsonb_typeof(c.data->'rails'->'drafts') = 'array';

-- Pass rates now read the drafts index.
DROP INDEX case_events_draft_decided;
