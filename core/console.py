"""Rules of the web console's sign-in, as pure functions: when a session still holds,
and how many sign-in attempts a window allows."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

LINK_LIFETIME = timedelta(minutes=5)


class SessionState(StrEnum):
    LIVE = "live"
    IDLE = "idle"          # no request for longer than the idle timeout
    EXPIRED = "expired"    # older than the absolute lifetime
    ENDED = "ended"        # signed out


def session_state(created_at: datetime, last_seen: datetime, ended_at: datetime | None,
                  now: datetime, idle: timedelta, lifetime: timedelta) -> SessionState:
    """Whether a session still signs its holder in; signed out beats every other reason."""
    if ended_at is not None:
        return SessionState.ENDED
    if now - created_at >= lifetime:
        return SessionState.EXPIRED
    if now - last_seen >= idle:
        return SessionState.IDLE
    return SessionState.LIVE


@dataclass
class SlidingWindow:
    """At most `limit` events in any `window`; `allow` records the event when it fits."""

    limit: int
    window: timedelta = timedelta(minutes=1)
    _times: deque[datetime] = field(default_factory=deque)

    def allow(self, now: datetime) -> bool:
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


@dataclass
class SignInLimiter:
    """Sign-in attempts per client address and for everyone together. Addresses that
    went quiet are forgotten, so a flood of addresses cannot grow the table for ever."""

    per_address: int
    overall: int
    window: timedelta = timedelta(minutes=1)
    _by_address: dict[str, SlidingWindow] = field(default_factory=dict)
    _all: SlidingWindow | None = None

    def allow(self, address: str, now: datetime) -> bool:
        if self._all is None:
            self._all = SlidingWindow(self.overall, self.window)
        if len(self._by_address) > 10_000:
            self._by_address.clear()
        mine = self._by_address.setdefault(address, SlidingWindow(self.per_address,
                                                                   self.window))
        if not mine.allow(now):
            return False
        return self._all.allow(now)
