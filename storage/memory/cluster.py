"""The twin of storage/sql_cluster.py: webhook updates claimed by id and marked done,
due outbox rows claimed in batches. One process, so the batch claim needs no locking
clause: a twin method that does not await is one atomic step."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from core.cluster import SENDING_LEASE, UPDATE_LEASE, UpdateClaim, UpdateState
from core.records import OutboxItem
from storage.memory.rows import outbox_item
from storage.memory.tables import MemoryBase
from storage.timefmt import iso


class MemoryClusterRepository(MemoryBase):
    owner: str

    # -- webhook updates ---------------------------------------------------------------

    async def claim_update(self, update_id: int, now: datetime,
                           lease: timedelta = UPDATE_LEASE,
                           take_from: str | None = None) -> UpdateClaim:
        row = self.tables.rows["webhook_updates"].get(update_id)
        if row is None:
            self.tables.insert("webhook_updates", {
                "id": update_id, "update_id": update_id, "owner": self.owner,
                "lease_until": iso(now + lease), "claimed_at": iso(now), "done_at": None})
            return UpdateClaim(UpdateState.CLAIMED, self.owner)
        if row["done_at"] is not None:
            return UpdateClaim(UpdateState.DONE)
        if (row["lease_until"] is not None and row["lease_until"] <= iso(now)) or (
                row["owner"] == (take_from if take_from is not None else "")):
            row.update(owner=self.owner, lease_until=iso(now + lease), claimed_at=iso(now))
            return UpdateClaim(UpdateState.CLAIMED, self.owner)
        return UpdateClaim(UpdateState.BUSY, row["owner"])

    async def finish_update(self, update_id: int, now: datetime) -> bool:
        row = self.tables.rows["webhook_updates"].get(update_id)
        if row is None or row["owner"] != self.owner or row["done_at"] is not None:
            return False
        row.update(done_at=iso(now), owner=None, lease_until=None)
        return True

    async def forget_updates(self, before: datetime) -> int:
        stamp = iso(before)
        return self.tables.delete("webhook_updates", lambda r: r["done_at"] is not None
                                  and r["done_at"] < stamp)

    async def handled_updates(self) -> dict[int, str]:
        return {int(r["update_id"]): r["done_at"] or ""
                for r in self.tables.scan("webhook_updates")}

    # -- due outbox rows ---------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int,
                        lease: timedelta = SENDING_LEASE) -> list[OutboxItem]:
        stamp = iso(now)
        due = sorted(self.tables.scan("outbox", lambda r: r["due_at"] <= stamp,
                                      state="pending"),
                     key=lambda r: (r["due_at"], r["id"]))
        due = due if limit < 0 else due[:limit]   # SQL: a negative LIMIT is no limit
        items: list[OutboxItem] = []
        for r in due:
            r.update(state="sending", attempts=r["attempts"] + 1, owner=self.owner,
                     lease_until=iso(now + lease))
            try:
                item = outbox_item(r)
                items.append(replace(item, attempts=item.attempts - 1))
            except (ValueError, TypeError, KeyError) as exc:
                r.update(state="failed", closed_at=stamp, owner=None, lease_until=None,
                         last_error=f"unreadable row: {type(exc).__name__}: {exc}"[:300])
        return items

    async def release_owners(self, owners: Collection[str]) -> int:
        released = 0
        for owner in owners:
            for r in self.tables.scan("outbox", state="sending", owner=owner):
                r.update(state="pending", owner=None, lease_until=None)
                released += 1
        return released

    async def still_claimed(self, item_id: int) -> bool:
        row = self.tables.rows["outbox"].get(item_id)
        return row is not None and row["state"] == "sending" and row["owner"] == self.owner

    async def put_back(self, item_id: int, at: datetime, reason: str) -> None:
        row = self.tables.rows["outbox"].get(item_id)
        if row is None or row["state"] != "sending" or row["owner"] != self.owner:
            return
        row.update(state="pending", due_at=iso(at), last_error=reason,
                   attempts=max(row["attempts"] - 1, 0), owner=None, lease_until=None)
