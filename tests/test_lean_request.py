"""bot.lean_request, the bot's own HTTP client to Telegram: through PTB's Bot against the
fake Bot API, and against a bare server for what the fake never does (chunked bodies,
closing connections, not answering)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import Bot
from telegram.error import BadRequest, TimedOut

from bot.lean_request import LeanRequest
from faketelegram import FakeTelegram, Fault

CHATS = range(700000400, 700000412)
Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


async def test_messages_errors_and_uploads_through_ptb() -> None:
    async with FakeTelegram() as fake:
        fake.latency = 0.1
        request = LeanRequest(2)
        async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
            sent = await asyncio.gather(*(bot.send_message(chat, "Hoi 👋 & tot = zo")
                                          for chat in CHATS))
            assert [m.chat.id for m in sent] == list(CHATS)
            assert all(fake.messages(chat)[0].text == "Hoi 👋 & tot = zo" for chat in CHATS)
            fake.faults.append(Fault("sendMessage", 400, "Bad Request: chat not found"))
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(CHATS[0], "again")
            photo = await bot.send_photo(CHATS[0], b"\x89PNG fake", caption="week")
            assert photo.caption == "week"
            assert fake.messages(CHATS[0])[-1].photo == b"\x89PNG fake"


async def _serve(reply: Reply) -> AsyncIterator[tuple[str, list[int]]]:
    """A bare server: `reply` answers each request; returns whether to keep the
    connection. Yields the base URL and a list counting the connections made."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while await reader.readline():
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                if not await reply(reader, writer):
                    break
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/botTOKEN/getMe", connections


OK = json.dumps({"ok": True, "result": True}).encode()


async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    half = len(OK) // 2
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + f"{half:x}\r\n".encode() + OK[:half] + b"\r\n"
                 + f"{len(OK) - half:x};ext=1\r\n".encode() + OK[half:] + b"\r\n0\r\n\r\n")
    await writer.drain()
    return True


async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "
                 + str(len(OK)).encode() + b"\r\n\r\n" + OK)
    await writer.drain()
    return False


async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """An HTTP/1.0-style answer: no length, the body ends when the server closes."""
    writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + OK)
    await writer.drain()
    return False


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    await asyncio.Event().wait()
    return False


@pytest.fixture
async def request_() -> AsyncIterator[LeanRequest]:
    request = LeanRequest(4, read_timeout=0.3)
    await request.initialize()
    yield request
    await request.shutdown()


async def test_a_chunked_answer_is_read_whole_and_the_connection_kept(
        request_: LeanRequest) -> None:
    async for url, connections in _serve(chunked):
        for _ in range(3):
            assert await request_.do_request(url, "POST") == (200, OK)
        assert len(connections) == 1


async def test_a_connection_the_server_closes_is_not_used_again(
        request_: LeanRequest) -> None:
    async for url, connections in _serve(closing):
        for _ in range(3):
            assert await request_.do_request(url, "POST") == (200, OK)
        assert len(connections) == 3


async def test_no_answer_is_a_timeout_and_the_next_request_gets_a_new_connection(
        request_: LeanRequest) -> None:
    async for url, connections in _serve(silent):
        with pytest.raises(TimedOut):
            await request_.do_request(url, "POST")
        with pytest.raises(TimedOut):
            await request_.do_request(url, "POST")
        assert len(connections) == 2


async def test_a_body_without_length_is_read_to_the_close_and_not_reused(
        request_: LeanRequest) -> None:
    async for url, connections in _serve(until_close):
        for _ in range(2):
            assert await request_.do_request(url, "POST") == (200, OK)
        assert len(connections) == 2


async def test_an_idle_connection_past_its_expiry_is_not_used_again() -> None:
    """A connection idle for long may have been dropped by a NAT without a word: a new
    one is opened rather than a request written into it (which would only time out)."""
    request = LeanRequest(4, read_timeout=0.3, idle_expiry=0.0)
    await request.initialize()
    try:
        async for url, connections in _serve(chunked):
            for _ in range(3):
                assert await request.do_request(url, "POST") == (200, OK)
            assert len(connections) == 3
    finally:
        await request.shutdown()
