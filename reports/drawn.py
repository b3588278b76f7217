"""Images drawn lately, by what went into them: the same week is not drawn twice.

Why: a therapist opening the console's caseload page, or asking /report twice, would
otherwise wait ~0.6 s for matplotlib each time although nothing changed. The key is a
digest of everything the drawing depends on (the panels with their points and flags,
the label, language, zone and the youths not sharing), so any new answer, alert or
erasure makes a new key: a stale image is never served. Entries are few (32) and live
10 minutes, so an erased youth's old image does not linger in memory either.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from reports.trend import Rendered

SIZE = 32
LIFETIME_S = 600.0


@dataclass
class CacheInfo:
    hits: int = 0
    misses: int = 0


class DrawnImages:
    """A small LRU of rendered images with a lifetime, keyed by their inputs."""

    def __init__(self, size: int = SIZE, lifetime_s: float = LIFETIME_S,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._size, self._lifetime, self._now = size, lifetime_s, now
        self._entries: OrderedDict[str, tuple[float, list[Rendered]]] = OrderedDict()
        self.info = CacheInfo()

    @staticmethod
    def key(*inputs: object) -> str:
        return hashlib.sha256(repr(inputs).encode()).hexdigest()

    def get(self, key: str) -> list[Rendered] | None:
        entry = self._entries.get(key)
        if entry is None or self._now() - entry[0] > self._lifetime:
            self._entries.pop(key, None)
            self.info.misses += 1
            return None
        self._entries.move_to_end(key)
        self.info.hits += 1
        return entry[1]

    def put(self, key: str, images: list[Rendered]) -> None:
        self._entries[key] = (self._now(), images)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


DRAWN = DrawnImages()
