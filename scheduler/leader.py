"""Which process runs the periodic work that must run once.

Several bot processes may share one PostgreSQL database behind a load balancer. Every
one of them handles webhook updates and sends due messages (each row claimed by one,
storage/sql_cluster.py), but planning, reports, the alert scan, urgent-alert escalation,
resending unconfirmed questions and retention must run in one process at a time: the
leader. The engine asks `lead()` at every tick; the answer may change between ticks
(the leader died, and another process took over at its next tick).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Leadership(Protocol):
    """Whether this process leads now. `shared`: other processes may run beside this
    one (then work a lone process does at start-up for a crash is left to the leader)."""

    shared: bool

    async def lead(self) -> bool:
        """True when this process holds the lead for this tick (takes it when free)."""
        ...

    async def close(self) -> None:
        """Give up the lead (at stop): another process takes it at its next tick."""
        ...

    async def announce_urgent(self) -> None:
        """Tell every process that an urgent alert was just stored (the leader sends it
        at once instead of at its next tick)."""
        ...

    async def hear_urgent(self, heard: Callable[[], object]) -> None:
        """Call `heard` whenever any process announces an urgent alert, until close()."""
        ...


class SoleProcess:
    """SQLite: one process per database (bot.runlock refuses a second), always leader."""

    shared = False

    async def lead(self) -> bool:
        return True

    async def close(self) -> None:
        """Nothing is held."""

    async def announce_urgent(self) -> None:
        """The one process heard it already (conversations.urgent_wake)."""

    async def hear_urgent(self, heard: Callable[[], object]) -> None:
        """Nobody else announces."""
