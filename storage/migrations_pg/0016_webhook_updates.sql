-- Webhook updates handled once across processes (storage/sql_cluster.py). Behind a load
-- balancer Telegram's retry of an update may reach another process than the first try:
-- a process claims the update id (owner, lease) before handling it and marks it done
-- after, so a retry of a handled update is answered without handling it again, and one
-- whose process died mid-way is taken over. Update ids are Telegram's counter, not a
-- person's id; done ones are forgotten after two days (Telegram keeps them one).

CREATE TABLE webhook_updates (
    update_id BIGINT PRIMARY KEY,
    owner TEXT,
    lease_until TEXT,
    claimed_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX webhook_updates_done ON webhook_updates (done_at);
