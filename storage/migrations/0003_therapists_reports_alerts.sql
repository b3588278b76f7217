-- The therapist's side: their own ratings, alerts with acknowledgement, and an outbox
-- that also carries therapist prompts, weekly reports and alerts.

CREATE TABLE therapist_ratings (
    occurrence_key  TEXT NOT NULL,
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    therapist_code  TEXT NOT NULL REFERENCES therapists (code),
    item            TEXT NOT NULL CHECK (item IN ('bond', 'goal', 'task')),
    value           TEXT NOT NULL,
    rated_at        TEXT NOT NULL,
    PRIMARY KEY (occurrence_key, youth_code, item)
);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    ref             TEXT NOT NULL UNIQUE,
    dedupe_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('crisis', 'rupture', 'missed')),
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    therapist_code  TEXT NOT NULL REFERENCES therapists (code),
    detail          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    acked_at        TEXT,
    escalated_at    TEXT
);

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('checkin', 'reminder', 'rating', 'report',
                                                   'alert', 'escalation')),
    youth_code      TEXT REFERENCES youths (code),
    therapist_code  TEXT REFERENCES therapists (code),
    ref             TEXT,
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
INSERT INTO outbox_new (id, dedupe_key, kind, youth_code, series_id, occurrence_key,
    discipline, session_end, due_at, expires_at, state, attempts, last_error, scheduled_at,
    sent_at, closed_at)
SELECT id, dedupe_key, kind, youth_code, series_id, occurrence_key, discipline, session_end,
    due_at, expires_at, state, attempts, last_error, scheduled_at, sent_at, closed_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_youth ON outbox (youth_code, kind);
CREATE INDEX outbox_ref ON outbox (ref);
