"""Check-in answers per second through the full stack, beside raw single-row commits.

Full stack: the fake Telegram delivers taps over HTTP long polling to the real PTB
Application, which stores each answer (one transaction, synchronous=FULL), edits the
message, answers the button and sends the next question. Baseline: single-row INSERT
commits on the same kind of SQLite connection (same PRAGMAs), nothing else.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.inbound import environment, storage_environment
from bot.offline import OfflineBot, offline_bot
from conversations import usecases
from conversations.enrolment import enroll_therapist, enroll_youth
from conversations.telegram_io import send_prompt
from core.records import NewYouth
from storage.database import Migration, SqliteDatabase

LABELS = ("Goed", "Gewoon", "Heel goed", "Slecht", "Iets leuks")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


async def _until(condition: Callable[[], bool], limit: float = 60.0) -> None:
    """Wait for what the next step needs: the limiter may hold replies back for a while,
    so a quiet moment on the wire does not mean this youth was answered."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not answer")
        await asyncio.sleep(0.005)


async def _prepare(bot: OfflineBot, youths: int) -> None:
    services, now = bot.services, bot.services.clock()
    await enroll_therapist(services.store, "T-01", "nl", now)
    for n in range(youths):
        code, user = f"J-{n:04d}", bot.fake.user(800000000 + n)
        invite = await enroll_youth(services.store, NewYouth(code, "T-01", 2008, "nl", False,
                                                             None), now, services.invite_ttl)
        user.send(f"/start {invite.token}")
        await _until(lambda: any("Ik doe mee" in " ".join(m.button_labels())
                                 for m in user.inbox))  # noqa: B023 - awaited at once
        query = user.tap(user.last, "Ik doe mee")
        await _until(lambda: query in bot.fake.answered and any(  # noqa: B023
            "Ja, dat mag" in " ".join(m.button_labels()) for m in user.inbox))  # noqa: B023
        outgoing = await usecases.start_checkin(services, code, "bench", "music")
        assert outgoing is not None
        await send_prompt(services, bot.app.bot, outgoing.chat_id, outgoing.prompt)


async def full_stack(youths: int = 40, *, rate_limited: bool = True,
                     storage_url: str | None = None) -> Rate:
    """Every youth answers five questions; each round taps all youths at once.

    `storage_url`: a PostgreSQL database to run on (`storage.url`) instead of SQLite."""
    with (environment(storage_environment(storage_url)),
          tempfile.TemporaryDirectory() as tmp):
        async with offline_bot(Path(tmp), rate_limited=rate_limited) as bot:
            await _prepare(bot, youths)
            users = [bot.fake.user(800000000 + n) for n in range(youths)]
            started = time.perf_counter()
            for label in LABELS:
                before = [len(u.inbox) for u in users]
                queries = [u.tap(u.last, label) for u in users]
                # done when every tap is confirmed and every next question has arrived
                while not (all(q in bot.fake.answered for q in queries)
                           and all(len(u.inbox) > n for u, n in zip(users, before, strict=True))):
                    await asyncio.sleep(0.001)
            elapsed = time.perf_counter() - started
    return Rate(youths * len(LABELS), elapsed)


async def raw_commits(count: int = 200) -> Rate:
    """Single-row INSERT commits, one transaction each, on the same connection setup."""
    with tempfile.TemporaryDirectory() as tmp:
        table = Migration(1, "bench", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        db = await SqliteDatabase.open(Path(tmp) / "raw.sqlite3", [table])
        started = time.perf_counter()
        for n in range(count):
            async with db.write() as conn:
                await conn.run("INSERT INTO t (v) VALUES (?)", (f"answer-{n}",))
        elapsed = time.perf_counter() - started
        await db.close()
    return Rate(count, elapsed)
