"""The twin's outbox: the state machine of due messages, claims and leases
(storage.ports.OutboxRepo).

Mirrors storage/sqlite_schedule.py's outbox section. A row goes pending -> sending (a
claim: owned by this process until its lease runs out) -> sent/failed/blocked/expired,
or back to pending (retry, release); cancelled and expired close it for good.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.analytics import SessionPoint
from core.cluster import SENDING_LEASE
from core.compliance import Compliance, summarise
from core.records import OutboxItem, OutboxState, PlannedRow, SessionRecord
from storage.memory.rows import outbox_item, standing
from storage.memory.schedule import upsert_planned_rows
from storage.memory.tables import MemoryBase
from storage.timefmt import iso, parse_iso

log = logging.getLogger(__name__)


class MemoryOutboxRepository(MemoryBase):
    owner: str  # this process instance, set by MemoryStore

    if TYPE_CHECKING:  # provided by the therapist repository (storage/memory/therapist.py)
        async def session_records(self, therapist_code: str | None,
                                  until: datetime) -> list[SessionRecord]: ...

    async def upsert_planned(self, rows: list[PlannedRow], now: datetime) -> int:
        """Insert planned messages once; revive ones cancelled only because of a pause."""
        return upsert_planned_rows(self.tables, rows, now)

    async def cancel_pending(self, occurrence_prefix: str, reason: str, now: datetime) -> int:
        """Cancel the pending rows of an occurrence and of every key under it ('key:...')."""
        return self.tables.update(
            "outbox", {"state": "cancelled", "last_error": reason, "closed_at": iso(now)},
            lambda r: r["occurrence_key"] == occurrence_prefix
            or r["occurrence_key"].startswith(occurrence_prefix + ":"), state="pending")

    async def due_items(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Due pending rows, oldest due first. A row that cannot be read is marked failed
        with the reason, so it cannot stop the rows after it, tick after tick."""
        stamp = iso(now)
        due = sorted(self.tables.scan("outbox", lambda r: r["due_at"] <= stamp,
                                      state="pending"),
                     key=lambda r: (r["due_at"], r["id"]))
        due = due if limit < 0 else due[:limit]   # SQL: a negative LIMIT is no limit
        items: list[OutboxItem] = []
        broken = 0
        for r in due:
            try:
                items.append(outbox_item(r))
            except (ValueError, TypeError, KeyError) as exc:
                r.update(state="failed", closed_at=stamp,
                         last_error=f"unreadable row: {type(exc).__name__}: {exc}"[:300])
                broken += 1
        if broken:
            log.error("marked %d unreadable outbox row(s) failed", broken)
        return items

    async def claim(self, item_id: int, now: datetime, lease: timedelta = SENDING_LEASE) -> bool:
        """Move pending -> sending, owned by this process until `now + lease`; False if
        someone else took it or it changed."""
        row = self.tables.rows["outbox"].get(item_id)
        if row is None or row["state"] != "pending":
            return False
        row.update(state="sending", attempts=row["attempts"] + 1, owner=self.owner,
                   lease_until=iso(now + lease))
        return True

    async def finish(
        self, item_id: int, state: OutboxState, now: datetime, error: str | None = None
    ) -> None:
        """Close the row in `state` (whatever state it was in, as the SQL does)."""
        row = self.tables.rows["outbox"].get(item_id)
        if row is None:
            return
        row.update(state=state.value, last_error=error, closed_at=iso(now))
        if state is OutboxState.SENT:
            row["sent_at"] = iso(now)

    async def retry_later(self, item_id: int, at: datetime, error: str, now: datetime) -> None:
        """Back to pending, due at `at`; the owner and lease stay as they were (SQL)."""
        self.tables.update("outbox", {"state": "pending", "due_at": iso(at),
                                      "last_error": error}, id=item_id)

    async def next_due(self) -> datetime | None:
        """When the next pending message falls due (for drivers of a virtual clock)."""
        due = min((r["due_at"] for r in self.tables.scan("outbox", state="pending")),
                  default=None)
        return parse_iso(due) if due else None

    async def release_sending(self, now: datetime | None = None,
                              dead_owners: Collection[str] = ()) -> int:
        """At start-up: messages caught mid-send go back to pending (at-least-once).

        Only rows this process claimed, rows without an owner, rows of `dead_owners`,
        and (given `now`) rows whose lease ran out: a live process's rows stay."""
        stamp = iso(now) if now else None
        dead = set(dead_owners)

        def releasable(r: dict[str, object]) -> bool:
            lease = r.get("lease_until")
            return (r.get("owner") is None or r.get("owner") == self.owner
                    or r.get("owner") in dead
                    or (stamp is not None and (lease is None or str(lease) <= stamp)))

        return self.tables.update("outbox", {"state": "pending", "owner": None,
                                             "lease_until": None}, releasable, state="sending")

    async def release_expired(self, now: datetime) -> int:
        """Rows whose lease ran out go back to pending, whoever claimed them."""
        stamp = iso(now)
        return self.tables.update(
            "outbox", {"state": "pending", "owner": None, "lease_until": None},
            lambda r: r.get("lease_until") is not None and r["lease_until"] <= stamp,
            state="sending")

    async def sending_owners(self) -> set[str]:
        """The processes that hold rows in `sending`."""
        return {r["owner"] for r in self.tables.scan(
            "outbox", lambda r: r.get("owner") is not None, state="sending")}

    async def expire_overdue(self, now: datetime) -> int:
        stamp = iso(now)
        expiring = list(self.tables.scan("outbox", lambda r: r["expires_at"] <= stamp,
                                         state="pending"))
        for r in expiring:
            r.update(state="expired", closed_at=stamp, last_error=(
                "not sent before expiry" if r["last_error"] is None else r["last_error"]))
        return len(expiring)

    async def mark_unreachable(self, youth_code: str, now: datetime) -> None:
        self.tables.update("youths", {"unreachable_at": iso(now)}, code=youth_code)

    async def compliance(self, now: datetime) -> list[Compliance]:
        """Per youth: sessions, prompts sent, answered, missed, a missed streak, and the
        sessions that do not count, from the same session records and state rule as the
        therapist's image (storage.sqlite_sessions.compliance)."""
        t = self.tables
        taking_part = standing(t, "participation")
        points: dict[str, list[SessionPoint]] = {}
        for rec in await self.session_records(None, now):
            points.setdefault(rec.youth_code, []).append(rec.point(now))
        out = []
        erased = {e["youth_code"] for e in t.scan("erasures")}
        for y in sorted(t.scan("youths"), key=lambda r: r["code"]):
            if y["code"] in erased:   # a tombstone: gone from every overview
                continue
            pseudonym = y.get("pseudonym")
            planned = {o["occurrence_key"] for o in t.scan("outbox", kind="checkin",
                                                           youth_code=y["code"])}
            sent = sum(1 for _ in t.scan("outbox", kind="checkin", youth_code=y["code"],
                                         state="sent"))
            unplanned = 0 if pseudonym is None else sum(
                1 for c in t.scan("checkins", youth_pseudonym=pseudonym)
                if c["occurrence_key"] not in planned)
            declined = pseudonym is None and t.first(
                "invite_declines", youth_code=y["code"]) is not None
            out.append(Compliance(
                y["code"], y["therapist_code"], pseudonym is not None, bool(y["paused"]),
                y.get("unreachable_at") is not None, sent=sent + unplanned,
                takes_part=pseudonym in taking_part, declined=declined,
                **summarise(points.get(y["code"], []))))
        return out
