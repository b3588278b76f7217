-- The kiosk (issue 15): a youth's channel (Telegram, kiosk or both) with its history,
-- the tablets registered per unit, the one-time codes a therapist gives a youth after a
-- session, and the short kiosk sessions a code opens on a tablet.

-- One row per change, the newest counts; never updated, so the history stays. No row:
-- the default (core.kiosk.default_channel) holds.
CREATE TABLE youth_channels (
    id          INTEGER PRIMARY KEY,
    youth_code  TEXT NOT NULL REFERENCES youths (code),
    channel     TEXT NOT NULL CHECK (channel IN ('telegram', 'kiosk', 'both')),
    changed_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX youth_channels_by_youth ON youth_channels (youth_code, id);

-- A tablet, known by the digest of its device cookie (the cookie itself is not stored).
CREATE TABLE kiosk_devices (
    id             INTEGER PRIMARY KEY,
    token_digest   TEXT NOT NULL UNIQUE,
    unit_code      TEXT NOT NULL,
    label          TEXT NOT NULL DEFAULT '',
    registered_at  TEXT NOT NULL,
    registered_by  TEXT NOT NULL,
    failures       INTEGER NOT NULL DEFAULT 0,
    locked_at      TEXT,
    retired_at     TEXT
);

-- A code opens one check-in, once, on a tablet of the youth's unit, until it expires.
-- Only a keyed digest finds it; the code itself is kept sealed (under the text key,
-- outside the database) for the therapist's screen, and dropped once used or expired.
CREATE TABLE kiosk_codes (
    id              INTEGER PRIMARY KEY,
    code_digest     TEXT NOT NULL,
    code_enc        BLOB,
    checkin_id      INTEGER NOT NULL REFERENCES checkins (id) ON DELETE CASCADE,
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    therapist_code  TEXT NOT NULL,
    unit_code       TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    failures        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kiosk_codes_digest ON kiosk_codes (code_digest);
CREATE INDEX kiosk_codes_checkin ON kiosk_codes (checkin_id);

-- A code redeemed on a tablet: the page's key to that one check-in, by the digest of a
-- random token in a cookie; it ends when the youth finishes or after 90 s untouched.
CREATE TABLE kiosk_sessions (
    token_digest  TEXT PRIMARY KEY,
    code_id       INTEGER NOT NULL REFERENCES kiosk_codes (id) ON DELETE CASCADE,
    device_id     INTEGER NOT NULL REFERENCES kiosk_devices (id),
    started_at    TEXT NOT NULL,
    touched_at    TEXT NOT NULL,
    ended_at      TEXT,
    crisis        INTEGER NOT NULL DEFAULT 0 CHECK (crisis IN (0, 1))
);
