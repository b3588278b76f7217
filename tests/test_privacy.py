"""Privacy by design: what a leaked database file or a log line gets (the webhook caller:
tests/test_webhook.py)."""

from __future__ import annotations

import logging
import sqlite3

from bot.logsafe import RedactingFormatter
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
