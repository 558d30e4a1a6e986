-- See migrations/postgres/0007_workers.sql. Times are INTEGER microseconds.
CREATE TABLE workers (
    worker_id     TEXT    NOT NULL,
    task_queue    TEXT    NOT NULL,
    activity      TEXT    NOT NULL,
    node          TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_poll_at  INTEGER NOT NULL,
    PRIMARY KEY (task_queue, activity, worker_id)
);
CREATE INDEX workers_last_poll ON workers (last_poll_at);
