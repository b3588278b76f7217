-- PostgreSQL twin of storage/migrations/0010_clinical_loop.sql: the session a check-in
-- is about, when an alert was discussed, and a new outbox kind, 'talk'.
ALTER TABLE checkins ADD COLUMN session_end TEXT;
ALTER TABLE alerts ADD COLUMN discussed_at TEXT;
ALTER TABLE alerts ADD COLUMN discussed_by TEXT;

-- SQLite rebuilds the outbox to add the value to its CHECK; PostgreSQL replaces it.
ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('checkin', 'reminder', 'rating',
                                                     'report', 'alert', 'escalation',
                                                     'talk'));
