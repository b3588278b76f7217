-- Identity, enrolment, consent and the check-in.
-- No table holds a Telegram user id or chat id in clear: participants are known by an
-- HMAC pseudonym, and the chat id lives encrypted in `contacts` only.

CREATE TABLE therapists (
    code        TEXT PRIMARY KEY,
    language    TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    pseudonym   TEXT UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE youths (
    code                   TEXT PRIMARY KEY,
    therapist_code         TEXT NOT NULL REFERENCES therapists (code),
    birth_year             INTEGER NOT NULL,
    language               TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    simple_mode            INTEGER NOT NULL DEFAULT 0 CHECK (simple_mode IN (0, 1)),
    guardian_consent_date  TEXT,
    pseudonym              TEXT UNIQUE,
    paused                 INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_at             TEXT NOT NULL
);

CREATE TABLE invites (
    token_digest  TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('youth', 'therapist')),
    subject_code  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);

CREATE TABLE contacts (
    pseudonym    TEXT PRIMARY KEY,
    chat_id_enc  BLOB NOT NULL
);

CREATE TABLE consents (
    id            INTEGER PRIMARY KEY,
    pseudonym     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    text_version  TEXT NOT NULL,
    text_sha256   TEXT NOT NULL,
    language      TEXT NOT NULL,
    agreed_at     TEXT NOT NULL,
    withdrawn_at  TEXT
);

CREATE TABLE checkins (
    id                     INTEGER PRIMARY KEY,
    ref                    TEXT NOT NULL UNIQUE,
    youth_pseudonym        TEXT NOT NULL REFERENCES youths (pseudonym) ON UPDATE CASCADE,
    occurrence_key         TEXT NOT NULL,
    discipline             TEXT,
    questionnaire_version  TEXT NOT NULL,
    simple_mode            INTEGER NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    prompted_step          INTEGER NOT NULL DEFAULT 0,
    created_at             TEXT NOT NULL,
    expires_at             TEXT NOT NULL,
    first_tap_at           TEXT,
    completed_at           TEXT,
    UNIQUE (youth_pseudonym, occurrence_key)
);
CREATE INDEX checkins_open ON checkins (youth_pseudonym, status);

-- One row per question message; message_id stays NULL until Telegram confirmed the send,
-- so after a crash the bot knows which prompts still have to go out.
CREATE TABLE prompts (
    checkin_id  INTEGER NOT NULL REFERENCES checkins (id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    message_id  INTEGER,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (checkin_id, step)
);

CREATE TABLE answers (
    checkin_id             INTEGER NOT NULL REFERENCES checkins (id) ON DELETE CASCADE,
    item                   TEXT NOT NULL,
    value                  TEXT NOT NULL,
    questionnaire_version  TEXT NOT NULL,
    answered_at            TEXT NOT NULL,
    changes                INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (checkin_id, item)
);

CREATE TABLE notes (
    checkin_id  INTEGER PRIMARY KEY REFERENCES checkins (id) ON DELETE CASCADE,
    text_enc    BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

-- A crisis signal waiting for the urgent therapist alert (delivered by the alerts work).
CREATE TABLE crisis_flags (
    id               INTEGER PRIMARY KEY,
    youth_pseudonym  TEXT NOT NULL REFERENCES youths (pseudonym) ON UPDATE CASCADE,
    checkin_id       INTEGER REFERENCES checkins (id) ON DELETE SET NULL,
    phrases          TEXT NOT NULL,
    text_enc         BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    alerted_at       TEXT
);
