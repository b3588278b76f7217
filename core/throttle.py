"""Inbound limits, decided before any database work: per-user bursts and strangers.

Pure rules on an explicit clock (seconds, e.g. time.monotonic()), kept in memory: a
flood from one account costs a dictionary lookup per message, never a database write,
and never delays anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    HANDLE = "handle"        # handle the update
    DROP = "drop"            # over the limit: ignore it silently
    SLOW_DOWN = "slow_down"  # over the limit: ignore it, but say so (at most once a minute)


@dataclass(frozen=True)
class InboundLimits:
    burst: int = 8                    # updates a person may send at once
    per_second: float = 1.0           # refill after the burst
    slow_down_every: float = 60.0     # at most one "slow down" reply per this many seconds
    stranger_every: float = 300.0     # at most one reply to an unknown sender per this many
    forget_after: float = 900.0       # idle entries are forgotten after this long
    max_tracked: int = 10_000         # tidy up once this many people are tracked


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned_at: float | None = None


@dataclass
class InboundGate:
    """Token bucket per user id, and a time-to-live map of strangers already answered."""

    limits: InboundLimits = field(default_factory=InboundLimits)
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _strangers: dict[int, float] = field(default_factory=dict)

    def admit(self, user_id: int, now: float) -> Verdict:
        """One update from `user_id` at `now`: handle it, drop it, or drop it and say so."""
        lim = self.limits
        self._tidy(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(lim.burst), now)
        bucket.tokens = min(float(lim.burst), bucket.tokens + (now - bucket.at) * lim.per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.HANDLE
        answered_stranger = self._strangers.get(user_id)
        if answered_stranger is not None and now - answered_stranger < lim.stranger_every:
            return Verdict.DROP  # a stranger gets one reply per few minutes, of any kind
        if bucket.warned_at is None or now - bucket.warned_at >= lim.slow_down_every:
            bucket.warned_at = now
            return Verdict.SLOW_DOWN
        return Verdict.DROP

    def answer_stranger(self, user_id: int, now: float) -> bool:
        """True if an unknown sender may get the usual pointer now (then not again soon)."""
        last = self._strangers.get(user_id)
        if last is not None and now - last < self.limits.stranger_every:
            return False
        self._strangers[user_id] = now
        return True

    @property
    def tracked(self) -> int:
        """How many people the gate remembers (its memory stays bounded)."""
        return len(self._buckets) + len(self._strangers)

    def _tidy(self, now: float) -> None:
        lim = self.limits
        if len(self._buckets) > lim.max_tracked:
            self._buckets = {k: b for k, b in self._buckets.items()
                             if now - b.at < lim.forget_after}
        if len(self._strangers) > lim.max_tracked:
            self._strangers = {k: t for k, t in self._strangers.items()
                               if now - t < lim.stranger_every}
