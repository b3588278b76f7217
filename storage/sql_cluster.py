"""Sharing the work between bot processes on one database (storage.ports.ClusterRepo).

In portable SQL over storage.sql.Database, so SQLite (one process) and PostgreSQL (two or
more behind a load balancer) run the same statements:

- Webhook updates are claimed by update id with an owner and a lease (`claim_update`)
  and marked done once handled (`finish_update`): a retried update is handled once,
  whichever process it reaches (table `webhook_updates`, migration 0016).
- Due outbox rows are claimed in a batch (`claim_due`): on PostgreSQL with
  `FOR UPDATE SKIP LOCKED`, so two processes dispatching at once take disjoint rows
  without waiting on each other; each row gets the claimer as owner and a lease, like
  storage.sql_schedule's single `claim`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from core.cluster import SENDING_LEASE, UPDATE_LEASE, UpdateClaim, UpdateState
from core.records import OutboxItem
from storage.sql import Dialect
from storage.sql_base import SqlQueries
from storage.sql_schedule import outbox_item
from storage.timefmt import iso

log = logging.getLogger(__name__)



# The batch claim. PostgreSQL locks the rows it picks and skips rows another process
# is claiming at this moment; SQLite has one writer (and no such clause), so its
# transaction alone makes the claim whole. Otherwise the same statement. The pick is a
# MATERIALIZED CTE, run once: as `id IN (subquery ... LIMIT)` PostgreSQL may run the
# subquery again per row and claim more than the limit.
CLAIM_DUE: dict[Dialect, str] = {
    "postgres":
        "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE state = 'pending'"
        " AND due_at <= ? ORDER BY due_at, id LIMIT ? FOR UPDATE SKIP LOCKED)"
        " UPDATE outbox SET state = 'sending', attempts = attempts + 1, owner = ?,"
        " lease_until = ? WHERE state = 'pending' AND id IN (SELECT id FROM due)"
        " RETURNING *",
    "sqlite":
        "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE state = 'pending'"
        " AND due_at <= ? ORDER BY due_at, id LIMIT ?)"
        " UPDATE outbox SET state = 'sending', attempts = attempts + 1, owner = ?,"
        " lease_until = ? WHERE state = 'pending' AND id IN (SELECT id FROM due)"
        " RETURNING *",
}


class ClusterRepository(SqlQueries):
    """storage.ports.ClusterRepo on any storage.sql.Database."""

    owner: str   # this process instance (storage.owners.process_owner)

    # -- webhook updates ---------------------------------------------------------------

    async def claim_update(self, update_id: int, now: datetime,
                           lease: timedelta = UPDATE_LEASE,
                           take_from: str | None = None) -> UpdateClaim:
        """Claim update `update_id` for this process until `now + lease`.

        CLAIMED when it was new, its lease ran out, or it was held by `take_from` (a
        holder known dead); DONE when any process handled it; BUSY (with the holder)
        otherwise. Our own live claim is BUSY too: the same update arriving twice at
        once (a retry after a timeout) is handled by the first arrival only.
        """
        async with self.db.write() as tx:
            changed = await tx.run(
                "INSERT INTO webhook_updates (update_id, owner, lease_until, claimed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (update_id) DO UPDATE SET"
                " owner = excluded.owner, lease_until = excluded.lease_until,"
                " claimed_at = excluded.claimed_at"
                " WHERE webhook_updates.done_at IS NULL"
                " AND (webhook_updates.lease_until <= ? OR webhook_updates.owner = ?)",
                (update_id, self.owner, iso(now + lease), iso(now), iso(now),
                 take_from if take_from is not None else ""))
            if changed:
                return UpdateClaim(UpdateState.CLAIMED, self.owner)
            row = await tx.one("SELECT owner, done_at FROM webhook_updates"
                               " WHERE update_id = ?", (update_id,))
        if row is None or row["done_at"] is not None:
            return UpdateClaim(UpdateState.DONE)
        return UpdateClaim(UpdateState.BUSY, row["owner"])

    async def finish_update(self, update_id: int, now: datetime) -> bool:
        """Mark our claimed update handled; False when our claim was lost meanwhile
        (its lease ran out and another process took it)."""
        async with self.db.write() as tx:
            changed = await tx.run(
                "UPDATE webhook_updates SET done_at = ?, owner = NULL, lease_until = NULL"
                " WHERE update_id = ? AND owner = ? AND done_at IS NULL",
                (iso(now), update_id, self.owner))
        return changed == 1

    async def forget_updates(self, before: datetime) -> int:
        """Drop done update ids handled before `before` (they cannot come again)."""
        async with self.db.write() as tx:
            return await tx.run("DELETE FROM webhook_updates WHERE done_at IS NOT NULL"
                                " AND done_at < ?", (iso(before),))

    async def handled_updates(self) -> dict[int, str]:
        """Every remembered update id and when it was handled ('' while claimed)."""
        rows = await self.db.all("SELECT update_id, done_at FROM webhook_updates")
        return {int(r["update_id"]): r["done_at"] or "" for r in rows}

    # -- due outbox rows ---------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int,
                        lease: timedelta = SENDING_LEASE) -> list[OutboxItem]:
        """Claim up to `limit` due pending rows for this process until `now + lease`,
        oldest due first: pending -> sending, one attempt more, owned by us. The items
        carry the attempts before this one (as `due_items` gives them).

        Rows another process is claiming at this moment are skipped, not waited for. A
        row that cannot be read (a malformed field) is marked failed with the reason,
        so it cannot stop the rows after it, tick after tick.
        """
        db = self.db
        async with db.write(serial=False) as tx:
            rows = await tx.all(CLAIM_DUE[db.dialect],
                                (iso(now), limit, self.owner, iso(now + lease)))
        items: list[OutboxItem] = []
        broken: list[tuple[str, str, int]] = []
        for r in rows:
            try:
                item = outbox_item(r)
                # As due_items gives them: the attempts before this one.
                items.append(replace(item, attempts=item.attempts - 1))
            except (ValueError, TypeError, KeyError) as exc:
                broken.append((f"unreadable row: {type(exc).__name__}: {exc}"[:300], iso(now),
                               r["id"]))
        if broken:
            log.error("marked %d unreadable outbox row(s) failed", len(broken))
            async with db.write() as tx:
                await tx.run_many("UPDATE outbox SET state = 'failed', last_error = ?,"
                                  " closed_at = ?, owner = NULL, lease_until = NULL"
                                  " WHERE id = ?", broken)
        # RETURNING gives no order; the claim order is the send order.
        return sorted(items, key=lambda i: (i.due_at, i.id))

    async def release_owners(self, owners: Collection[str]) -> int:
        """Rows in `sending` held by `owners` (processes known dead) go back to pending,
        for any live process to send; the number released."""
        released = 0
        async with self.db.write() as tx:
            for owner in owners:
                released += await tx.run(
                    "UPDATE outbox SET state = 'pending', owner = NULL, lease_until = NULL"
                    " WHERE state = 'sending' AND owner = ?", (owner,))
        return released

    async def still_claimed(self, item_id: int) -> bool:
        """The row is still ours to send: claimed by this process and not closed since
        (a group rating message closed it with its siblings, an erasure cancelled it)."""
        row = await self.db.one("SELECT 1 FROM outbox WHERE id = ? AND state = 'sending'"
                                " AND owner = ?", (item_id, self.owner))
        return row is not None

    async def put_back(self, item_id: int, at: datetime, reason: str) -> None:
        """A claimed row that is not to be sent yet (outside phone hours) goes back to
        pending, due at `at`, and its claim does not count as an attempt."""
        async with self.db.write() as tx:
            await tx.run(
                "UPDATE outbox SET state = 'pending', due_at = ?, last_error = ?,"
                " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,"
                " owner = NULL, lease_until = NULL"
                " WHERE id = ? AND state = 'sending' AND owner = ?",
                (iso(at), reason, item_id, self.owner))
