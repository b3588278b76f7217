"""Privacy by design: what a leaked database file, a log line or a webhook caller gets."""

from __future__ import annotations

import json
import logging
import sqlite3

import httpx

from bot.httpserver import HttpServer
from bot.logsafe import RedactingFormatter
from bot.webhook import SECRET_HEADER, make_handler
from core.identity import pseudonym
from tests.support import Harness

USERS = [700000123, 812345678, 5123456789]


def id_encodings(value: int) -> list[bytes]:
    """The forms an integer could take in a file: text, and SQLite's big-endian ints."""
    forms = [str(value).encode()]
    for size in (4, 6, 8):
        if value < 2 ** (8 * size - 1):
            forms.append(value.to_bytes(size, "big"))
    return forms


async def test_database_file_holds_no_telegram_ids_names_or_free_text(bot: Harness) -> None:
    for n, user_id in enumerate(USERS):
        youth = bot.fake.user(user_id)
        code = f"J-{n + 1:03d}"
        await bot.enrol(youth, code)
        await bot.checkin(code, discipline="drama")
        for label in ("Goed", "Goed", "Goed", "Goed", "Iets leuks"):
            youth.tap(youth.last, label)
            await bot.fake.settle()
        youth.send(f"Mijn naam is Sanne-{n} en ik wil dood")
        await bot.fake.settle()
    with sqlite3.connect(bot.database) as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone() == (15,)
    raw = bot.database.read_bytes()
    wal = bot.database.with_name(bot.database.name + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    for user_id in USERS:
        for form in id_encodings(user_id):
            assert form not in raw, f"Telegram id {user_id} found as {form!r}"
    assert b"Sanne" not in raw and b"Youth" not in raw and b"dood" not in raw
    key = bot.secrets.pseudonym_key.get_secret_value().encode()
    assert pseudonym(key, USERS[0]).encode() in raw
    assert pseudonym(b"guessed-key" * 4, USERS[0]).encode() not in raw


def test_log_lines_never_hold_the_token_or_an_id() -> None:
    token = "5550001:AAH-real-looking-token-abcdefghijklmnopqrstu"
    formatter = RedactingFormatter([token], "%(asctime)s %(message)s")
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1,
                               "HTTP Request: POST https://api.telegram.org/bot%s/getMe chat %d",
                               (token, 700000123), None)
    line = formatter.format(record)
    assert token not in line and "AAH-real" not in line and "700000123" not in line
    assert "getMe" in line


async def test_webhook_rejects_a_wrong_secret_before_parsing(bot: Harness) -> None:
    secret = "s3cret-token_for-webhook"
    server = HttpServer(make_handler(bot.app, "/telegram", secret))
    await server.start()
    url = f"http://127.0.0.1:{server.port}/telegram"
    youth = bot.fake.user(USERS[0])
    update = {"update_id": 99, "message": {
        "message_id": 1, "date": 0, "text": "hoi",
        "chat": {"id": youth.id, "type": "private"},
        "from": {"id": youth.id, "is_bot": False, "first_name": "Y"}}}
    try:
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, content=b"{not json")
            wrong = await client.post(url, content=b"{not json",
                                      headers={SECRET_HEADER: secret[:-1] + "X"})
            garbage = await client.post(url, content=b"{not json",
                                        headers={SECRET_HEADER: secret})
            good = await client.post(url, content=json.dumps(update).encode(),
                                     headers={SECRET_HEADER: secret})
            elsewhere = await client.post(url + "x", headers={SECRET_HEADER: secret})
    finally:
        await server.stop()
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert (garbage.status_code, good.status_code, elsewhere.status_code) == (400, 200, 404)
    await bot.fake.settle()
    assert youth.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
