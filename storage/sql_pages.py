"""Queries only the console needs: alerts of every kind for the alerts page, and every
phone window for the schedule page."""

from __future__ import annotations

import logging
from datetime import datetime, time

from core.delivery import Window
from core.records import Alert, PhoneWindow
from storage.sql_base import SqlQueries, equal_or_any
from storage.sql_therapist import alert_from_row
from storage.timefmt import iso

log = logging.getLogger(__name__)


class PagesRepository(SqlQueries):

    async def alerts_since(self, since: datetime,
                           therapist_code: str | None = None) -> list[Alert]:
        """Alerts of every kind created since `since` (one therapist's, or all), newest
        first; unacknowledged ones are never left out, however old."""
        whose, params = equal_or_any("therapist_code", therapist_code)
        return [alert_from_row(r) for r in await self._all(
            "SELECT * FROM alerts WHERE (created_at >= ? OR acked_at IS NULL)"  # noqa: S608
            f" AND {whose} ORDER BY created_at DESC, id DESC", (iso(since), *params))]

    async def all_windows(self) -> list[PhoneWindow]:
        """Every phone window, units first; an unreadable one is logged and left out."""
        out = []
        for r in await self._all("SELECT * FROM phone_windows ORDER BY scope DESC,"
                                 " scope_code, start_time"):
            try:
                days = frozenset(int(d) for d in r["weekdays"].split(",") if d)
                out.append(PhoneWindow(r["scope"], r["scope_code"], Window(
                    days, time.fromisoformat(r["start_time"]),
                    time.fromisoformat(r["end_time"]))))
            except (ValueError, TypeError, AttributeError):
                log.error("ignored an unreadable phone window %s", r["id"])
        return out
