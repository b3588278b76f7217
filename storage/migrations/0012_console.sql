-- The web console: single-use sign-in links and server-side sessions. Only SHA-256
-- digests of the link tokens and session ids are kept, so a copy of the database signs
-- nobody in. The actor is the audit actor (role and a short pseudonym or a name given on
-- the server), never a Telegram id.
CREATE TABLE console_links (
    token_digest    TEXT PRIMARY KEY,
    actor           TEXT NOT NULL,
    roles           TEXT NOT NULL,          -- comma-separated: coordinator,therapist,...
    therapist_code  TEXT,
    unit            TEXT,
    language        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

CREATE TABLE console_sessions (
    id_digest       TEXT PRIMARY KEY,
    actor           TEXT NOT NULL,
    roles           TEXT NOT NULL,
    therapist_code  TEXT,
    unit            TEXT,
    language        TEXT NOT NULL,
    csrf            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    ended_at        TEXT
);
CREATE INDEX console_sessions_by_actor ON console_sessions (actor);
