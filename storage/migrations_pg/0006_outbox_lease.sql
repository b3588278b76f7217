-- PostgreSQL twin of storage/migrations/0006_outbox_lease.sql.
-- A row in `sending` belongs to the process that claimed it, for a limited time.
-- Start-up releases only its own rows and those whose lease has run out, so a second
-- process on the same database never releases rows the first is still sending.

ALTER TABLE outbox ADD COLUMN owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
