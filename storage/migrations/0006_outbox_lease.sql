-- A row in `sending` belongs to the process that claimed it, for a limited time.
-- Start-up releases only its own rows and those whose lease has run out, so a second
-- process on the same database (an accidental double start) never releases rows the
-- first is still sending: nothing is sent twice. Rows claimed before this migration have
-- no owner and count as expired.

ALTER TABLE outbox ADD COLUMN owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
