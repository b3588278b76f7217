"""Webhook delivery as Telegram does it: each update POSTed to the bot, retried until 2xx.

Once the bot calls `setWebhook`, the fake stops answering `getUpdates` (409, as Telegram)
and pushes every queued update to the registered URL instead, with the secret header.
A test may put a load balancer in front (`backends`): the updates are then spread over
several bot URLs, one process each. A push that fails (connection refused or dropped,
a timeout, any status but 2xx) is retried with backoff on the next backend, so an update
whose process died mid-way goes to the other one. Like Telegram, the fake keeps one
chat's updates in order: the next update of a chat is pushed only after the previous
one was answered 2xx. Updates of different chats go in parallel.

The pure parts (which update may go now, where to, how long to wait) are plain
functions, table-tested in tests/test_two_processes_push.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"   # noqa: S105 - a header name
MAX_CONNECTIONS = 40          # Telegram's default `max_connections`
PUSH_TIMEOUT = 60.0           # seconds Telegram waits for the bot's answer
FIRST_RETRY = 0.05            # seconds; doubled per failure ...
LAST_RETRY = 1.0              # ... up to this


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its order is kept per chat); None: no chat."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        body = update.get(kind)
        if not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


def ready(queued: Iterable[dict[str, Any]], busy: set[int], in_flight: set[int]
          ) -> list[dict[str, Any]]:
    """The queued updates that may be pushed now, in update order: per chat the first
    one, and only while no update of that chat is on its way (`busy`); updates without
    a chat at once. `in_flight`: update ids already being pushed."""
    out: list[dict[str, Any]] = []
    taken = set(busy)
    for update in sorted(queued, key=lambda u: int(u["update_id"])):
        if update["update_id"] in in_flight:
            continue
        chat = chat_of(update)
        if chat is None:
            out.append(update)
        elif chat not in taken:
            taken.add(chat)
            out.append(update)
    return out


def backend_for(backends: Sequence[str], update_id: int, attempt: int) -> str:
    """Where attempt `attempt` (0, 1, ...) of an update goes: spread by update id, and
    each retry on the next backend, so a dead process's updates reach a live one."""
    return backends[(update_id + attempt) % len(backends)]


def retry_delay(failures: int) -> float:
    """Seconds before the next try after `failures` failed ones (1, 2, ...)."""
    return min(LAST_RETRY, FIRST_RETRY * (1 << min(max(failures - 1, 0), 16)))


def accepted(status: int) -> bool:
    """Telegram counts any 2xx as delivered; anything else is tried again."""
    return 200 <= status < 300


@dataclass(frozen=True)
class Push:
    """One POST of an update: where, when (time.monotonic()) and its answer (the HTTP
    status, or None when the connection failed or timed out)."""

    update_id: int
    url: str
    at: float
    status: int | None


@dataclass
class WebhookPusher:
    """Pushes `source()` updates to the webhook; `acknowledge(update_id)` on 2xx."""

    source: Callable[[], list[dict[str, Any]]]
    acknowledge: Callable[[int], None]
    url: str = ""
    secret: str | None = None
    backends: Sequence[str] = ()     # a load balancer: push here instead of `url`
    pushes: list[Push] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)   # answered 2xx, in order
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _busy: set[int] = field(default_factory=set)
    _in_flight: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    def register(self, url: str, secret: str | None) -> None:
        """setWebhook: start pushing (again) to `url`."""
        self.url, self.secret = url, secret
        if self._task is None or self._task.done():
            self._client = httpx.AsyncClient(
                timeout=PUSH_TIMEOUT, limits=httpx.Limits(max_connections=MAX_CONNECTIONS))
            self._task = asyncio.get_running_loop().create_task(self._run())
        self.wake()

    def unregister(self) -> None:
        """deleteWebhook: stop pushing; what is on its way still finishes."""
        self.url = ""
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def answered(self, update_id: int) -> list[int | None]:
        """Every answer the bot gave to pushes of this update, in order."""
        return [p.status for p in self.pushes if p.update_id == update_id]

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.active:
                continue
            for update in ready(self.source(), self._busy, set(self._in_flight)):
                chat = chat_of(update)
                if chat is not None:
                    self._busy.add(chat)
                update_id = int(update["update_id"])
                self._in_flight[update_id] = asyncio.get_running_loop().create_task(
                    self._deliver(update, chat))

    async def _deliver(self, update: dict[str, Any], chat: int | None) -> None:
        update_id, failures = int(update["update_id"]), 0
        try:
            while True:
                if self.active:
                    status = await self._post(update, backend_for(
                        self.backends or [self.url], update_id, failures))
                    if status is not None and accepted(status):
                        self.delivered.append(update)
                        self.acknowledge(update_id)
                        return
                failures += 1
                await asyncio.sleep(retry_delay(failures))   # pacing retries, as Telegram
        finally:
            self._in_flight.pop(update_id, None)
            if chat is not None:
                self._busy.discard(chat)
            self.wake()

    async def _post(self, update: dict[str, Any], url: str) -> int | None:
        assert self._client is not None
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        at = time.monotonic()
        try:
            response = await self._client.post(url, json=update, headers=headers)
        except httpx.HTTPError:
            status = None
        else:
            status = response.status_code
        self.pushes.append(Push(int(update["update_id"]), url, at, status))
        return status
