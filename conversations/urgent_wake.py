"""Starts urgent-alert delivery the moment an urgent alert is stored.

Why: the periodic tick (every `schedule.tick_seconds`, 30 s by default) also delivers
urgent alerts, but a youth who wrote a crisis text should not wait for it. The crisis
path raises this signal after it stored an alert; the wiring registers what "at once"
means (a one-off job of the delivery engine, serialised with the tick's own delivery).
Without a listener (tests that drive the engine on a virtual clock) raising does
nothing and the next tick delivers, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class UrgentWake:
    """Listeners called, each on its own, when an urgent alert was stored."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], object]] = []

    def listen(self, listener: Callable[[], object]) -> None:
        self._listeners.append(listener)

    def raised(self) -> None:
        """An urgent alert is in the database: deliver it now, not at the next tick."""
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # the tick still delivers it; say why it was not at once
                log.exception("could not start urgent-alert delivery at once; the next "
                              "tick delivers it")
