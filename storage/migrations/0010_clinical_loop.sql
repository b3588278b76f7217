-- The clinical loop (issue 13): the session a check-in is about, so its first message can
-- name it ("je muziektherapie van vanochtend"); and when an alert was discussed with the
-- youth ("Besproken"), next to when it was seen.
ALTER TABLE checkins ADD COLUMN session_end TEXT;
ALTER TABLE alerts ADD COLUMN discussed_at TEXT;
ALTER TABLE alerts ADD COLUMN discussed_by TEXT;

-- A new outbox kind, 'talk': the short prompt a therapist gets before the next session
-- with a youth whose last check-in was low or raised an alert ("Even bespreken?").
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt as it is,
-- with the one value added.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('checkin', 'reminder', 'rating', 'report',
                                                   'alert', 'escalation', 'talk')),
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
    closed_at       TEXT,
    owner           TEXT,
    lease_until     TEXT
);
INSERT INTO outbox_new (id, dedupe_key, kind, youth_code, therapist_code, ref, series_id,
    occurrence_key, discipline, session_end, due_at, expires_at, state, attempts, last_error,
    scheduled_at, sent_at, closed_at, owner, lease_until)
SELECT id, dedupe_key, kind, youth_code, therapist_code, ref, series_id, occurrence_key,
    discipline, session_end, due_at, expires_at, state, attempts, last_error, scheduled_at,
    sent_at, closed_at, owner, lease_until
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_youth ON outbox (youth_code, kind);
CREATE INDEX outbox_ref ON outbox (ref);
