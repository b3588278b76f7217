"""Urgent alerts that could not be stored yet: held in this process until they are.

Why: the crisis path must never end in a log line only. When storing a crisis flag fails
(database locked, disk full, a cipher that cannot seal), conversations.crisis tries once
more with the alert alone; if even that fails, the alert waits here and
scheduler.crisis_delivery stores it first thing on every tick, before it sends anything.
Held alerts carry no crisis text and no Telegram id: only what the alerts table holds
(the rule that fired stays sealed, or is left out when sealing failed).

Held alerts are also written to a journal outside the database (storage.held_alerts,
a file beside it) whenever the list changes, and read back at start-up: a restart
during the failure does not lose them. Each failure is logged at ERROR as well, and a
journal that cannot be written says so at ERROR too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.records import NewAlert
from storage.ports import TherapistRepo

log = logging.getLogger(__name__)


class HeldJournal(Protocol):
    """Where held alerts outlive the process (storage.held_alerts.HeldAlertsFile)."""

    def save(self, held: Sequence[tuple[NewAlert, datetime]]) -> None: ...

    def load(self) -> list[tuple[NewAlert, datetime]]: ...


@dataclass
class PendingAlerts:
    """Alerts waiting to be stored, oldest first, each with the moment it was raised."""

    held: list[tuple[NewAlert, datetime]] = field(default_factory=list)
    journal: HeldJournal | None = None

    @classmethod
    def restore(cls, journal: HeldJournal) -> PendingAlerts:
        """The alerts held when the process last stopped; stored by the first delivery."""
        held = journal.load()
        if held:
            log.error("%d URGENT ALERT(S) HELD BEFORE THE LAST STOP; storing and delivering "
                      "them now", len(held))
        return cls(held, journal)

    def _keep(self) -> None:
        if self.journal is None:
            return
        try:
            self.journal.save(self.held)
        except Exception:
            log.exception("URGENT ALERTS HELD IN MEMORY ONLY (%d): the journal beside the "
                          "database could not be written; a restart now would lose them",
                          len(self.held))

    def __len__(self) -> int:
        return len(self.held)

    async def store_or_hold(self, store: TherapistRepo, alert: NewAlert, at: datetime) -> bool:
        """Store the alert now; when that fails, hold it for the next tick. True when
        it is in the database (or was already)."""
        try:
            await store.add_alert(alert, at)
        except Exception:
            self.held.append((alert, at))
            self._keep()
            log.exception("URGENT ALERT NOT STORED for %s; held in memory and retried "
                          "every tick (%d waiting)", alert.youth_code, len(self.held))
            return False
        return True

    async def flush(self, store: TherapistRepo) -> int:
        """Store every held alert that the database takes now; keep the rest, loudly.
        Returns how many are still waiting. A stored alert is created at the moment it
        was raised, so its escalation is not delayed by the failure."""
        waiting: list[tuple[NewAlert, datetime]] = []
        for alert, at in self.held:
            try:
                await store.add_alert(alert, at)   # False: stored already (same dedupe key)
            except Exception as error:
                waiting.append((alert, at))
                log.error("URGENT ALERT STILL NOT STORED for %s (raised %s): %s; "
                          "retrying next tick", alert.youth_code, at.isoformat(),
                          type(error).__name__)
            else:
                log.warning("held urgent alert for %s stored; delivering it now",
                            alert.youth_code)
        changed = len(waiting) != len(self.held)
        self.held = waiting
        if changed:
            self._keep()
        return len(waiting)
