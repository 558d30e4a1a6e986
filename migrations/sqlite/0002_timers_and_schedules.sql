-- See migrations/postgres/0002_timers_and_schedules.sql. Times are INTEGER microseconds.
ALTER TABLE timers ADD COLUMN action TEXT NOT NULL DEFAULT 'null';
ALTER TABLE timers ADD COLUMN locked_until INTEGER;

CREATE TABLE schedules (
    id                BLOB    PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    create_request_id TEXT    NOT NULL UNIQUE,
    spec              TEXT    NOT NULL,
    paused            INTEGER NOT NULL DEFAULT 0,
    last_nominal      INTEGER,
    next_fire_at      INTEGER,
    locked_until      INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE paused = 0;

CREATE TABLE schedule_fires (
    schedule_id BLOB    NOT NULL,
    nominal     INTEGER NOT NULL,
    actual      INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    request_id  TEXT,
    PRIMARY KEY (schedule_id, nominal)
);
CREATE UNIQUE INDEX schedule_fires_request ON schedule_fires (schedule_id, request_id)
    WHERE request_id IS NOT NULL;
