-- The crisis route: every unit has a 24/7 contact (group staff or the on-call phone),
-- linked to Telegram like a therapist; an urgent alert is delivered to each recipient on
-- its own row, so one unreachable person never stops the others, and "reached nobody"
-- can be seen and retried.

CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    language    TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    pseudonym   TEXT,
    created_at  TEXT NOT NULL,
    linked_at   TEXT
);
CREATE INDEX units_pseudonym ON units (pseudonym);

-- Invites may now link a unit's contact too (SQLite cannot alter a CHECK: rebuild).
CREATE TABLE invites_new (
    token_digest  TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('youth', 'therapist', 'unit')),
    subject_code  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);
INSERT INTO invites_new (token_digest, role, subject_code, created_at, expires_at, used_at)
SELECT token_digest, role, subject_code, created_at, expires_at, used_at FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;

-- Urgent (crisis) alerts: the unit at the time, why (a text, or "I want to talk now"),
-- when it escalates, who acknowledged it (a role, never an id), and since when it has
-- reached nobody.
ALTER TABLE alerts ADD COLUMN unit_code TEXT;
ALTER TABLE alerts ADD COLUMN reason TEXT;
ALTER TABLE alerts ADD COLUMN escalate_at TEXT;
ALTER TABLE alerts ADD COLUMN acked_by TEXT;
ALTER TABLE alerts ADD COLUMN nobody_since TEXT;

-- One row per recipient of an urgent alert. recipient is 'therapist:T-02', 'unit:W-1' or
-- 'coordinator:<pseudonym prefix>': never a Telegram id.
CREATE TABLE alert_deliveries (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'blocked', 'failed')),
    due_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      TEXT,
    ack_told_at  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (alert_id, recipient)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, due_at);
