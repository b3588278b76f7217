-- PostgreSQL twin of storage/migrations/0012_console.sql: the web console's single-use
-- sign-in links and server-side sessions, by SHA-256 digest only.
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
