"""Updates of different people at once; each person's own updates strictly in order.

Handled one at a time, a stranger's flood (each reply waiting for that chat's 1/s limit)
delayed every youth's tap behind it. PTB's concurrent updates remove that queue; the
per-person lock keeps what one person sends in the order they sent it (a tap, then a
note), which the conversation relies on. A lock is dropped as soon as nobody waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from conversations.tap_order import TapOrder

MAX_CONCURRENT = 256


def _person(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """`taps` is told of each tap from the moment its handler may run until it is done
    (the handler tells it sooner once the next question has gone): a tap queued behind
    the same person's previous update is not counted, as that update's toast would
    otherwise wait for it (conversations.tap_order)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT,
                 taps: TapOrder | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}  # per person: updates running or waiting
        self._taps = taps

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = _person(update)
        if person is None:
            await coroutine
            return
        # Taken before the first await, so the locks are queued in arrival order.
        lock = self._locks.setdefault(person, asyncio.Lock())
        self._waiting[person] = self._waiting.get(person, 0) + 1
        try:
            async with lock:
                await self._handled(update, coroutine)
        finally:
            self._waiting[person] -= 1
            if not self._waiting[person]:
                del self._waiting[person], self._locks[person]

    async def _handled(self, update: object, coroutine: Awaitable[Any]) -> None:
        query = update.callback_query if isinstance(update, Update) else None
        if query is None or self._taps is None:
            await coroutine
            return
        self._taps.arrived(query.id)
        try:
            await coroutine
        finally:
            self._taps.asked(query.id)

    def waiting(self, person: int) -> int:
        """How many of this person's updates are running or queued (tests, benchmarks)."""
        return self._waiting.get(person, 0)

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to tear down: the Application awaits the running updates itself."""
