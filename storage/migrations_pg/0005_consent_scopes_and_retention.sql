-- PostgreSQL twin of storage/migrations/0005_consent_scopes_and_retention.sql.
-- Consent decisions record a "no" as well as a "yes" (what was shown, and the answer),
-- requests to answer a newer consent text are delivered at least once, and the daily
-- retention run is recorded once per day.

ALTER TABLE consents ADD COLUMN answer TEXT NOT NULL DEFAULT 'yes'
    CHECK (answer IN ('yes', 'no'));
CREATE INDEX consents_by_pseudonym ON consents (pseudonym, scope, id);

CREATE TABLE consent_requests (
    youth_code  TEXT NOT NULL REFERENCES youths (code),
    version     TEXT NOT NULL,
    asked_at    TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (youth_code, version)
);

CREATE TABLE retention_runs (
    day     TEXT PRIMARY KEY,
    ran_at  TEXT NOT NULL,
    report  TEXT NOT NULL
);
