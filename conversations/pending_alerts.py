"""Urgent alerts that could not be stored yet: held in this process until they are.

Why: the crisis path must never end in a log line only. When storing a crisis flag fails
(database locked, disk full, a cipher that cannot seal), conversations.crisis tries once
more with the alert alone; if even that fails, the alert waits here and
scheduler.crisis_delivery stores it first thing on every tick, before it sends anything.
Held alerts carry no crisis text and no Telegram id: only what the alerts table holds
(the rule that fired stays sealed, or is left out when sealing failed).

A held alert lives only as long as the process: each failure is logged at ERROR so that
a restart in between is not silent either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.records import NewAlert
from storage.ports import Store

log = logging.getLogger(__name__)


@dataclass
class PendingAlerts:
    """Alerts waiting to be stored, oldest first, each with the moment it was raised."""

    held: list[tuple[NewAlert, datetime]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.held)

    async def store_or_hold(self, store: Store, alert: NewAlert, at: datetime) -> bool:
        """Store the alert now; when that fails, hold it for the next tick. True when
        it is in the database (or was already)."""
        try:
            await store.add_alert(alert, at)
        except Exception:
            self.held.append((alert, at))
            log.exception("URGENT ALERT NOT STORED for %s; held in memory and retried "
                          "every tick (%d waiting)", alert.youth_code, len(self.held))
            return False
        return True

    async def flush(self, store: Store) -> int:
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
        self.held = waiting
        return len(waiting)
