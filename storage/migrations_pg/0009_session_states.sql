-- PostgreSQL twin of storage/migrations/0009_session_states.sql: sessions that did not
-- take place, as the youth or the therapist said. Keyed like the outbox.
CREATE TABLE sessions_not_held (
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    occurrence_key  TEXT NOT NULL,
    marked_by       TEXT NOT NULL CHECK (marked_by IN ('youth', 'therapist')),
    marked_at       TEXT NOT NULL,
    PRIMARY KEY (youth_code, occurrence_key)
);
