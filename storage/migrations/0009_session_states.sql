-- Sessions that did not take place, as the youth ("Ik had geen therapie") or the
-- therapist ("ging niet door") said. Keyed like the outbox (youth code + occurrence), so
-- the one state rule in core/analytics.occurrence_state can read it for every view.
CREATE TABLE sessions_not_held (
    youth_code      TEXT NOT NULL REFERENCES youths (code),
    occurrence_key  TEXT NOT NULL,
    marked_by       TEXT NOT NULL CHECK (marked_by IN ('youth', 'therapist')),
    marked_at       TEXT NOT NULL,
    PRIMARY KEY (youth_code, occurrence_key)
);
