"""What only the console's pages read, in the twin (storage.ports.PagesRepo), mirroring
storage/sqlite_pages.py: alerts of every kind, and every phone window."""

from __future__ import annotations

import logging
from datetime import datetime, time

from core.delivery import Window
from core.records import Alert, PhoneWindow
from storage.memory.rows import alert_from_row, parse_days
from storage.memory.tables import MemoryBase
from storage.timefmt import iso

log = logging.getLogger(__name__)


class MemoryPagesRepository(MemoryBase):

    async def alerts_since(self, since: datetime,
                           therapist_code: str | None = None) -> list[Alert]:
        """Alerts of every kind created since `since` (one therapist's, or all), newest
        first; unacknowledged ones are never left out, however old."""
        start = iso(since)
        rows = self.tables.scan("alerts", lambda r: (
            (r["created_at"] >= start or r.get("acked_at") is None)
            and (therapist_code is None or r["therapist_code"] == therapist_code)))
        return [alert_from_row(r) for r in sorted(
            rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]

    async def all_windows(self) -> list[PhoneWindow]:
        """Every phone window, units first; an unreadable one is logged and left out."""
        # SQL: ORDER BY scope, scope_code, start_time ('unit' sorts before 'youth').
        rows = sorted(self.tables.scan("phone_windows"),
                      key=lambda r: (r["scope"], r["scope_code"], r["start_time"]))
        out = []
        for r in rows:
            try:
                out.append(PhoneWindow(r["scope"], r["scope_code"], Window(
                    parse_days(r["weekdays"]), time.fromisoformat(r["start_time"]),
                    time.fromisoformat(r["end_time"]))))
            except (ValueError, TypeError, AttributeError):
                log.error("ignored an unreadable phone window %s", r["id"])
        return out
