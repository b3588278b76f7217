"""Webhook mode: a route of the console app. The secret is checked before the body is
read; the body has a limit; uvicorn (h11) parses HTTP, chunked bodies included."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.console import webhook_of
from tests.support import DEADLINE, Harness, running_bot
from web.app import create_app
from web.context import WebContext
from web.routes_webhook import MAX_BODY, SECRET_HEADER
from web.server import ConsoleServer

SECRET = "s3cret-token_for-webhook"
YOUTH = 700000123


def update_for(user_id: int, update_id: int = 99) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "text": "hoi",
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Y"}}}


@asynccontextmanager
async def webhook_console(bot: Harness) -> AsyncIterator[int]:
    """The console app with the webhook route for `bot`, on a free port."""
    web = WebContext(webhook=webhook_of(bot.app, "/telegram", SECRET))
    server = ConsoleServer(create_app(bot.services, web), "127.0.0.1", 0)
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop()


async def raw_exchange(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send `head` (and `body`) on a fresh connection; return the response's first line
    and headers, read as soon as they come (the rest of a large body is never sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        # The server may answer and close before the whole body is sent: that is the point.
        with contextlib.suppress(ConnectionError):
            writer.write(head + body)
            await writer.drain()

    sending = asyncio.create_task(send())
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    finally:
        writer.close()
        await sending


def post_head(content_length: str | None, secret: str = SECRET, chunked: bool = False) -> bytes:
    lines = ["POST /telegram HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"{SECRET_HEADER}: {secret}"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


async def test_the_secret_is_checked_before_parsing_and_a_good_update_is_handled(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, webhook_console(bot) as port:
        url = f"http://127.0.0.1:{port}/telegram"
        youth = bot.fake.user(YOUTH)
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, content=b"{not json")
            wrong = await client.post(url, content=b"{not json",
                                      headers={SECRET_HEADER: SECRET[:-1] + "X"})
            garbage = await client.post(url, content=b"{not json",
                                        headers={SECRET_HEADER: SECRET})
            not_an_update = await client.post(url, content=b"[1, 2]",
                                              headers={SECRET_HEADER: SECRET})
            good = await client.post(url, content=json.dumps(update_for(YOUTH)).encode(),
                                     headers={SECRET_HEADER: SECRET})
            elsewhere = await client.post(url + "x", headers={SECRET_HEADER: SECRET})
            get = await client.get(url, headers={SECRET_HEADER: SECRET})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert (garbage.status_code, not_an_update.status_code, good.status_code) == (
            400, 400, 200)
        assert elsewhere.status_code != 200 and get.status_code == 405
        await bot.fake.settle()
        assert youth.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
        assert len(youth.inbox) == 1   # only the good update was handled


async def test_a_wrong_secret_with_a_huge_body_is_refused_without_reading_it(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, webhook_console(bot) as port:
        # 100 MiB announced, not one byte sent: the answer comes anyway.
        response = await raw_exchange(port, post_head(str(100 * 1024 * 1024), "wrong" * 4))
        assert status_of(response) == 403
        # Also with the right secret: a declared body over the limit is refused at once.
        response = await raw_exchange(port, post_head(str(MAX_BODY + 1)))
        assert status_of(response) == 413


async def test_a_chunked_body_is_read_and_one_over_the_limit_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, webhook_console(bot) as port:
        youth = bot.fake.user(YOUTH)
        body = json.dumps(update_for(YOUTH)).encode()
        response = await raw_exchange(port, post_head(None, chunked=True), chunked(body, 7))
        assert status_of(response) == 200
        await bot.fake.settle()
        assert youth.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
        huge = b'{"x": "' + b"a" * (MAX_BODY + 10) + b'"}'
        response = await raw_exchange(port, post_head(None, chunked=True),
                                      chunked(huge, 64 * 1024))
        assert status_of(response) == 413
        assert len(youth.inbox) == 1


async def test_a_negative_or_invalid_content_length_is_a_bad_request(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, webhook_console(bot) as port:
        for value in ("-1", "abc", "12, 13", "1e3"):
            response = await raw_exchange(port, post_head(value), b"{}")
            assert status_of(response) == 400, value
        # the server is still there for the next honest request
        async with httpx.AsyncClient() as client:
            good = await client.post(f"http://127.0.0.1:{port}/telegram",
                                     content=json.dumps(update_for(YOUTH)).encode(),
                                     headers={SECRET_HEADER: SECRET})
        assert good.status_code == 200


async def test_with_the_console_switched_off_only_the_webhook_and_health_answer(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        web = WebContext(webhook=webhook_of(bot.app, "/telegram", SECRET))
        server = ConsoleServer(create_app(bot.services, web, console=False), "127.0.0.1", 0)
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                health = await client.get("/health")
                people = await client.get("/people")
                signin = await client.get("/signin")
                hook = await client.post("/telegram",
                                         content=json.dumps(update_for(YOUTH)).encode(),
                                         headers={SECRET_HEADER: SECRET})
        finally:
            await server.stop()
        assert (health.status_code, people.status_code, signin.status_code) == (200, 404, 404)
        assert hook.status_code == 200
