-- Who polls for tasks: one row per worker, task queue and activity type, upserted by the long
-- poll (remote PollActivityTask and in-process workers alike) at most once every few seconds
-- per worker. GetCase reads it to say that no worker serves a task's type and queue;
-- ListWorkers lists the workers seen recently; the sweeper deletes rows not seen for a day.
CREATE TABLE workers (
    worker_id     TEXT        NOT NULL,
    task_queue    TEXT        NOT NULL,
    activity      TEXT        NOT NULL,
    node          TEXT        NOT NULL,                 -- the server process that saw the poll
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_poll_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (task_queue, activity, worker_id)
);
CREATE INDEX workers_last_poll ON workers (last_poll_at);
