-- Timers become claimable work: what a timer does when it fires travels with it (so a fire is
-- decided from history, not from whatever policy is in force later), and a claim is a lease
-- that expires if the claiming node dies.
ALTER TABLE timers ADD COLUMN action JSONB NOT NULL DEFAULT 'null';
ALTER TABLE timers ADD COLUMN locked_until TIMESTAMPTZ;

-- Cron schedules. next_fire_at is when some node must next look at the schedule (the next
-- nominal fire plus its jitter); NULL while paused. A claim is a lease, like timers.
CREATE TABLE schedules (
    id                UUID        PRIMARY KEY,
    name              TEXT        NOT NULL UNIQUE,
    create_request_id TEXT        NOT NULL UNIQUE,
    spec              JSONB       NOT NULL,
    paused            BOOLEAN     NOT NULL DEFAULT false,
    last_nominal      TIMESTAMPTZ,
    next_fire_at      TIMESTAMPTZ,
    locked_until      TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE NOT paused;

-- One row per fire: a nominal time fires at most once per schedule.
CREATE TABLE schedule_fires (
    schedule_id UUID        NOT NULL,
    nominal     TIMESTAMPTZ NOT NULL,
    actual      TIMESTAMPTZ NOT NULL,
    outcome     TEXT        NOT NULL,
    detail      TEXT        NOT NULL,
    request_id  TEXT,
    PRIMARY KEY (schedule_id, nominal)
);
CREATE UNIQUE INDEX schedule_fires_request ON schedule_fires (schedule_id, request_id)
    WHERE request_id IS NOT NULL;
