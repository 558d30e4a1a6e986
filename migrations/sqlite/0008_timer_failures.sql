-- A timer whose fire failed (panicked) keeps the count and the last error on its own row,
-- and is left alone (locked_until) for a while before it is tried again.
ALTER TABLE timers ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN last_error TEXT;
