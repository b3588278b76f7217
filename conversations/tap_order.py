"""The next question first: when many youths tap at once, the answers to their taps (the
toast) and the edits of the tapped messages wait until every tap has its next question
on the way.

Why: a tap makes three requests, and what a youth waits for is the next question. When
200 taps arrive together (a group session ends) the bot is CPU-bound, and the toasts and
edits of the first taps took the CPU, the connections and the limiter's slots the next
questions of the last taps needed: those arrived after all 600 requests instead of
after 200 (issue 16, bench/latency.py). A toast or edit is held only while another
tap is still on its way to its next question, and never longer than `MAX_HOLD`: the
spinner on a button never turns long, and a lone tap's toast is not held at all.

The update processor (bot.updates) says when a tap arrives; conversations.telegram_io
says when its next question has gone (or nothing will), and holds the toast and edit.
"""

from __future__ import annotations

import asyncio

MAX_HOLD = 1.0  # seconds a toast or edit may wait for other taps' next questions


class TapOrder:
    """The taps on their way to their next question, and the toasts waiting for them."""

    def __init__(self, max_hold: float = MAX_HOLD) -> None:
        self.max_hold = max_hold
        self._on_the_way: set[str] = set()
        self._waiting: list[asyncio.Future[bool]] = []  # True: woken by `asked`

    def arrived(self, tap: str) -> None:
        """Tap `tap` (its callback query id) is being handled."""
        self._on_the_way.add(tap)

    def asked(self, tap: str) -> None:
        """Tap `tap` has its next question sent, or will send none (again: no effect)."""
        self._on_the_way.discard(tap)
        if len(self._on_the_way) <= 1 and self._waiting:   # some waiter may be free now
            waiting, self._waiting = self._waiting, []
            for future in waiting:
                if not future.done():
                    future.set_result(True)

    @property
    def on_the_way(self) -> int:
        return len(self._on_the_way)

    def others_on_the_way(self, tap: str) -> bool:
        return bool(self._on_the_way) and self._on_the_way != {tap}

    async def after_the_questions(self, tap: str) -> None:
        """Return once no tap but `tap` is on its way to its next question, or after
        `max_hold` at most."""
        if not self.others_on_the_way(tap):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_hold
        while self.others_on_the_way(tap) and (left := deadline - loop.time()) > 0:
            future: asyncio.Future[bool] = loop.create_future()
            self._waiting.append(future)
            timer = loop.call_later(left, _time_up, future)
            try:
                await future
            finally:
                timer.cancel()
                # Timed out, or woken: `asked` may have emptied the list in the same turn
                # of the loop as the timer fired, so it may be gone already.
                if future in self._waiting:
                    self._waiting.remove(future)


def _time_up(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)
