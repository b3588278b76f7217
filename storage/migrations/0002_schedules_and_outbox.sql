-- Session schedules, phone windows and the outbox of due messages.
-- The outbox is the source of truth for delivery: every message that must go out has a
-- row with a unique dedupe key, so a restart derives everything from here.

ALTER TABLE youths ADD COLUMN unit TEXT;
ALTER TABLE youths ADD COLUMN unreachable_at TEXT;

CREATE TABLE series (
    id                    INTEGER PRIMARY KEY,
    therapist_code        TEXT NOT NULL REFERENCES therapists (code),
    discipline            TEXT NOT NULL,
    weekdays              TEXT NOT NULL,
    start_time            TEXT NOT NULL,
    duration_minutes      INTEGER NOT NULL,
    timezone              TEXT NOT NULL,
    first_date            TEXT NOT NULL,
    last_date             TEXT,
    paused                INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    send_after_minutes    INTEGER NOT NULL,
    remind_after_minutes  INTEGER NOT NULL,
    expire_after_minutes  INTEGER NOT NULL,
    created_at            TEXT NOT NULL
);

CREATE TABLE series_youths (
    series_id   INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    youth_code  TEXT NOT NULL REFERENCES youths (code),
    PRIMARY KEY (series_id, youth_code)
);

CREATE TABLE series_changes (
    series_id      INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    original_date  TEXT NOT NULL,
    cancelled      INTEGER NOT NULL CHECK (cancelled IN (0, 1)),
    moved_to       TEXT,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (series_id, original_date)
);

CREATE TABLE phone_windows (
    id          INTEGER PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('unit', 'youth')),
    scope_code  TEXT NOT NULL,
    weekdays    TEXT NOT NULL,
    start_time  TEXT NOT NULL,
    end_time    TEXT NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('checkin', 'reminder')),
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    series_id       INTEGER REFERENCES series (id),
    occurrence_key  TEXT NOT NULL,
    discipline      TEXT,
    session_end     TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed',
                                                   'expired', 'cancelled', 'blocked')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    scheduled_at    TEXT NOT NULL,
    sent_at         TEXT,
    closed_at       TEXT
);
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_youth ON outbox (youth_code, kind);
