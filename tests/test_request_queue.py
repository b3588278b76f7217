"""Requests beyond the free connections wait in bot.request's queue, not in httpx's pool:
a burst larger than the pool still delivers every message, each once."""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.request import QueuedHTTPXRequest
from faketelegram import FakeTelegram

CHATS = range(700000400, 700000412)


async def burst(fake: FakeTelegram, request: HTTPXRequest) -> list[object]:
    """One message to each of 12 chats at once over 2 connections, each taking 0.4 s at
    Telegram: the last ones wait about 2 s for a connection (the pool timeout is 1 s)."""
    fake.latency = 0.4
    async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
        return await asyncio.gather(*(bot.send_message(chat, "Hoi") for chat in CHATS),
                                    return_exceptions=True)


async def test_a_burst_beyond_the_pool_waits_for_connections_and_loses_nothing() -> None:
    async with FakeTelegram() as fake:
        results = await burst(fake, QueuedHTTPXRequest(2))
        assert not [r for r in results if isinstance(r, BaseException)]
        assert all(len(fake.messages(chat)) == 1 for chat in CHATS)
