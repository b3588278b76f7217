"""Telegram's flood limits: 25 messages a second overall, about one a second per chat.

Every request that puts something in a chat (send, edit, copy, forward, delete, answer a
tap) passes ONE overall limiter on the Bot the Application owns. It is a sliding window
over whole requests, not a leaky bucket: PTB's AIORateLimiter lets a full bucket out at
once and refills it while those are still in flight, so 25 + 13 messages could leave in
half a second. Here a request may start only while fewer than 25 requests are in flight
or finished within the last second, so however the network delays them, no 1 s window at
Telegram's end ever sees more than 25.

Private chats also get their own limiter for new messages: a small burst, then one a
second. Edits (the confirmation of a tap) are not new messages and are not held back.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 25
CHAT_BURST = 3
_LIMITED = ("send", "copy", "forward")
_OVERALL = ("send", "copy", "forward", "edit", "delete", "answer")


class SlidingWindow:
    """At most `limit` requests in flight or finished within the last `period` seconds.

    A request counts from the moment it starts until `period` after it ends, so its
    arrival at the far side, wherever it falls in between, is always covered.
    """

    def __init__(self, limit: int, period: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.period, self._clock = limit, period, clock
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._changed = asyncio.Event()

    def _wait_time(self) -> float | None:
        """0 when a request may start now; else how long to wait (None: until one ends)."""
        now = self._clock()
        while self._finished and self._finished[0] <= now - self.period:
            self._finished.popleft()
        if self._in_flight + len(self._finished) < self.limit:
            return 0.0
        if self._finished:
            return self._finished[0] + self.period - now
        return None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        while (wait := self._wait_time()) != 0.0:
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(self._clock())
            self._changed.set()


class ChatRateLimiter(AIORateLimiter):
    def __init__(self, max_retries: int = 3, chat_burst: int = CHAT_BURST,
                 overall_per_second: int = OVERALL_PER_SECOND) -> None:
        # The parent's own overall bucket is off (0): the sliding window replaces it.
        super().__init__(overall_max_rate=0, overall_time_period=0, max_retries=max_retries)
        self._chats: dict[int, AsyncLimiter] = {}
        self._burst = chat_burst
        self.overall = SlidingWindow(overall_per_second, 1.0)

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > 4096:  # forget idle chats
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        return self._chats.setdefault(chat_id, AsyncLimiter(self._burst, self._burst))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if not endpoint.lower().startswith(_OVERALL):  # getUpdates, getMe, ...
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and endpoint.startswith(_LIMITED):
            async with self._chat_limiter(chat_id), self.overall.slot():
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                     rate_limit_args)
        async with self.overall.slot():
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
