-- The clinical loop (issue 13): the session a check-in is about, so its first message can
-- name it ("je muziektherapie van vanochtend"); and when an alert was discussed with the
-- youth ("Besproken"), next to when it was seen.
ALTER TABLE checkins ADD COLUMN session_end TEXT;
ALTER TABLE alerts ADD COLUMN discussed_at TEXT;
ALTER TABLE alerts ADD COLUMN discussed_by TEXT;
