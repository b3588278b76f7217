"""Retention periods per kind of data, and when the daily run is due.

The periods come from the institution's record-keeping rules (configuration); None keeps
that kind of data. The storage layer removes what lies before each cutoff; this module
only decides the cutoffs, so the rules are testable without a database or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class DataKind(StrEnum):
    SESSIONS = "sessions"            # check-ins, answers, notes with them, session ratings
    NOTES = "notes"                  # free text and crisis texts, before the session goes
    ALERTS = "alerts"                # alerts to therapists and their escalations
    DELIVERY_LOG = "delivery_log"    # records of weekly reports and other sent messages
    INVITES = "invites"              # used and expired invite links


# A session must outlive the planner's look-back (send delay + expiry + duration, about
# two days) or the planner would plan a removed session again; a month is a safe floor.
MINIMUM_DAYS = {DataKind.SESSIONS: 30, DataKind.NOTES: 1, DataKind.ALERTS: 7,
                DataKind.DELIVERY_LOG: 7, DataKind.INVITES: 1}


@dataclass(frozen=True)
class RetentionPolicy:
    days: dict[DataKind, int]        # kinds without an entry are kept

    def cutoffs(self, now: datetime) -> dict[DataKind, datetime]:
        """Data of a kind from before its cutoff is due for removal."""
        return {kind: now - timedelta(days=n) for kind, n in self.days.items()}


def run_due(now: datetime, timezone: str, at: time, last_day: date | None) -> date | None:
    """Return the local day to run for, or None when today's run is done or not yet due."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.time() < at or last_day == local.date():
        return None
    return local.date()


@dataclass(frozen=True)
class RetentionReport:
    day: date
    removed: dict[DataKind, int]

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def summary(self) -> str:
        """One line, for the log and the audit trail (counts only, never codes)."""
        parts = [f"{kind.value}={n}" for kind, n in self.removed.items()]
        return f"{self.day.isoformat()}: " + (", ".join(parts) if parts else "nothing to do")
