"""Tap latency under load: what a youth feels, from a tap to the next question.

N youths (default 200) each answer a whole check-in at once: all tap their first answer
at the same moment, and each taps the next answer a moment (`think`) after its question
arrives. The figure per tap is the time from the fake Telegram receiving the tap (the
update is queued for the bot's long poll) to the fake receiving the next question (the
`sendMessage` request arriving: `FakeTelegram.received`). Telegram's per-chat pacing is
on (the bot's production limiter: a burst of 3 new messages per chat, then one a
second). Measured alone (a round before and a round after) and while a first planning
pass over 10,000 other youths runs in the bot's process.

The floor: the same youths against the same fake, answered by a bare client with no bot
work at all (long poll, answer the tap, send a message; the same per-chat pacing). The
quiet floor: the same with 5 youths, the round trip itself with no burst to queue
behind. What set the floor's p99 at 450 ms and more (py-spy, issue 16): not Telegram's
per-chat pacing (a youth gets one message per tap, a second or more apart, well inside
the burst of 3), not the youths' process (about a tenth of a core; the fake now tells it
of each arrival instead of it polling), not the fake's HTTP server: it was the floor's
own client, httpx, at about 2.5 ms of CPU a tap (a quarter of it httpcore's pool
bookkeeping) times the 200 taps that arrive together. With a bare client (`_Bare`,
0.08 ms a tap) the floor is what the fake and loopback give: about 6 / 35 / 40 ms for
the burst. The bot's CPU per tap is printed beside it.

What the bot's p99 is made of: the first taps of a round all arrive together (the later
ones are spread by the think time), so the p99 is the last of those 200 next questions,
and that is the bot's work for the whole burst. In November 2026, on a 2-core machine
(quick runs of 200 youths, 2000 taps; p99 figures vary by ±40 ms with the machine's
load), step by step:

- form-encoded requests, PTB objects for every send and reply: 3.4 ms CPU a tap, p99
  about 600 ms;
- requests as a JSON body (bot/lean_request.py): 3.1 ms, about 550 ms;
- text, edits and answers to taps as plain JSON, no PTB Message parsed from a reply
  (conversations/telegram_io.py, `TelegramBot.call`): 2.6 ms, about 430 ms;
- each SQL statement one trip to aiosqlite's thread, BEGIN with the first statement
  (storage/database.py), and the toasts and edits after the next questions
  (conversations/tap_order.py): 2.2 to 2.5 ms, about 280 to 330 ms.

From there the event loop is about two thirds busy during the burst, and the rest is
the database's one writer: the 200 answers are 200 write transactions one after the
other, each some six trips to aiosqlite's thread, and every trip waits for its turn on
the busy event loop (about 1 ms a transaction during the burst). Fewer trips per
answer, not less CPU, is what would lower it further.

The fake Telegram and the youths run in a process of their own, as Telegram and the
phones are not in the bot's process: their work would otherwise share the bot's core.
Tap and arrival times are both taken there (CLOCK_MONOTONIC, the same in both processes).
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter

from bench.answers import LABELS
from bench.inbound import environment
from bot.application import BotApp
from bot.config import Settings, load_settings
from bot.offline import join_directly, write_config
from bot.ratelimit import CHAT_BURST, ChatRateLimiter, SlidingWindow
from bot.rules import delivery_rules
from bot.wiring import build_application, open_services
from conversations import usecases
from conversations.services import Services
from conversations.telegram_io import TelegramBot, send_prompt
from core.records import Therapist
from faketelegram import FakeTelegram, FakeUser
from scheduler.planner import plan
from storage.sqlite import SqliteStore
from storage.timefmt import iso

PRODUCTION = {"VAKBOT_TELEGRAM__CHAT_BURST": str(CHAT_BURST),
              "VAKBOT_TELEGRAM__INBOUND_BURST": "8"}
CHAT_REFILL_S = 3.5   # a chat's pacing budget is full again after this long
FIRST_USER = 810000000
POOL = 16  # connections for the bot's requests (bot/wiring.py), and for the floor's


@dataclass(frozen=True)
class Percentiles:
    taps: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Percentiles:
        if len(seconds) < 2:
            return cls(len(seconds), *([seconds[0] * 1000] * 3 if seconds else [0.0] * 3))
        cuts = statistics.quantiles(seconds, n=100, method="inclusive")
        return cls(len(seconds), cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000)


@dataclass(frozen=True)
class LatencyResult:
    youths: int
    alone: Percentiles
    planning: Percentiles
    floor: Percentiles
    planned_youths: int
    planning_s: float
    quiet_floor: Percentiles    # the fake's round trip for a few youths: no burst at all
    bot_cpu_ms: float           # the bot process's CPU per counted tap (all its threads)
    floor_cpu_ms: float         # the floor's bare client's CPU per tap
    youth_side_share: float     # the youths' process: CPU seconds per wall second


class Arrivals:
    """Hands each chat the arrival time of its next `sendMessage` at the fake.

    Told by the fake itself once the message is in the chat (`FakeTelegram.on_handled`):
    nothing polls, and a phone taps its next answer `think` after the question arrived,
    not up to a polling interval later.
    """

    def __init__(self, fake: FakeTelegram) -> None:
        self._waiting: dict[int, asyncio.Future[float]] = {}
        fake.on_handled = self._handled

    def expect(self, chat: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[chat] = future
        return future

    def _handled(self, at: float, method: str, chat: int) -> None:
        if method in ("sendMessage", "sendPhoto") and chat in self._waiting:
            future = self._waiting.pop(chat)
            if not future.done():
                future.set_result(at)


async def _answer_checkin(user: FakeUser, arrivals: Arrivals, think: float,
                          taps: list[tuple[float, float]]) -> None:
    """Tap every answer of the open check-in; record (tap time, latency) per tap."""
    for label in LABELS:
        question = user.last
        arrived = arrivals.expect(user.id)
        tapped = time.monotonic()
        user.tap(question, label)
        at = await asyncio.wait_for(arrived, 300)
        taps.append((tapped, at - tapped))
        # the next question is in the chat (told after the send was carried out)
        assert user.last is not question
        await asyncio.sleep(think)


async def _round(fake: FakeTelegram, users: list[FakeUser], think: float,
                 during: Callable[[], Awaitable[object]] | None = None
                 ) -> tuple[list[tuple[float, float]], float, float]:
    """All youths answer at once. Returns the taps, and when `during` ran (start, end)."""
    arrivals = Arrivals(fake)
    taps: list[tuple[float, float]] = []
    span = [0.0, 0.0]

    async def background() -> None:
        assert during is not None
        span[0] = time.monotonic()
        await during()
        span[1] = time.monotonic()

    work = asyncio.create_task(background()) if during else None
    try:
        await asyncio.gather(*(_answer_checkin(u, arrivals, think, taps) for u in users))
        if work is not None:
            await work
    finally:
        fake.on_handled = None
    return taps, span[0], span[1]


# -- the youths' side: the fake Telegram and the people tapping, in a child process ------

async def _recv(conn: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def _youths(conn: Connection, think: float) -> None:
    async with FakeTelegram() as fake:
        conn.send((fake.base_url, fake.token))
        while (ask := await _recv(conn)) is not None:
            first, count = ask
            users = [fake.user(FIRST_USER + n) for n in range(first, first + count)]
            while not all(u.inbox and u.last.buttons for u in users):
                await asyncio.sleep(0.01)
            await asyncio.sleep(CHAT_REFILL_S)  # every chat's pacing budget full again
            conn.send("tapping")
            wall, cpu = time.monotonic(), time.process_time()
            taps, _, _ = await _round(fake, users, think)
            conn.send((taps, time.process_time() - cpu, time.monotonic() - wall))


def _youths_process(conn: Connection, think: float) -> None:
    asyncio.run(_youths(conn, think))


class YouthSide:
    """The child process with the fake Telegram and the youths."""

    def __init__(self, think: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_youths_process, args=(child, think),
                                        daemon=True)
        self.base_url = self.token = ""
        self.cpu_s = self.wall_s = 0.0  # the youths' process, over all rounds

    async def __aenter__(self) -> YouthSide:
        self._process.start()
        self.base_url, self.token = await _recv(self._conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._conn.send(None)
        await asyncio.get_running_loop().run_in_executor(None, self._process.join, 30)
        if self._process.is_alive():
            self._process.kill()

    async def round(self, first: int, count: int,
                    during: Callable[[], Coroutine[Any, Any, object]] | None = None
                    ) -> tuple[list[tuple[float, float]], float, float]:
        """Youths first..first+count answer their open check-in at once; `during` starts
        as they start tapping. Returns the taps and when `during` ran."""
        self._conn.send((first, count))
        assert await _recv(self._conn) == "tapping"
        work: asyncio.Task[None] | None = None
        span = [0.0, 0.0]

        async def timed() -> None:
            assert during is not None
            span[0] = time.monotonic()
            await during()
            span[1] = time.monotonic()

        if during is not None:
            work = asyncio.create_task(timed())
        taps, cpu, wall = await _recv(self._conn)
        self.cpu_s, self.wall_s = self.cpu_s + cpu, self.wall_s + wall
        if work is not None:
            await work
        return taps, span[0], span[1]


# -- the bot's side ----------------------------------------------------------------------

async def _open_checkins(services: Services, bot: TelegramBot, codes: list[str],
                         occurrence: str) -> None:
    async def one(code: str) -> None:
        outgoing = await usecases.start_checkin(services, code, occurrence, "music")
        assert outgoing is not None
        await send_prompt(services, bot, outgoing.chat_id, outgoing.prompt)

    await asyncio.gather(*(one(code) for code in codes))


async def _planning_youths(store: SqliteStore, count: int, now: datetime) -> None:
    """`count` other youths with a weekly series each, never planned yet."""
    await store.add_therapist(Therapist("T-PLAN", "nl"), now)
    stamp = iso(now)
    today = now.date().isoformat()
    async with store.db.write() as conn:
        await conn.run_many(
            "INSERT INTO youths (code, therapist_code, birth_year, language, simple_mode,"
            " created_at) VALUES (?, 'T-PLAN', 2008, 'nl', 0, ?)",
            [(f"P-{n:05d}", stamp) for n in range(count)])
        row = await conn.one("SELECT coalesce(max(id), 0) FROM series")
        first = int(row[0]) + 1 if row else 1
        await conn.run_many(
            "INSERT INTO series (id, therapist_code, discipline, weekdays, start_time,"
            " duration_minutes, timezone, first_date, send_after_minutes,"
            " remind_after_minutes, expire_after_minutes, created_at)"
            " VALUES (?, 'T-PLAN', 'music', ?, ?, 60, 'Europe/Amsterdam', ?, 15, 180, 1440, ?)",
            [(first + n, str(n % 5), f"{9 + n % 8:02d}:00", today, stamp)
             for n in range(count)])
        await conn.run_many(
            "INSERT INTO series_youths (series_id, youth_code) VALUES (?, ?)",
            [(first + n, f"P-{n:05d}") for n in range(count)])


@dataclass(frozen=True)
class BotRounds:
    alone: list[float]      # latencies of the rounds before and after the planning one
    during: list[float]     # latencies of taps made while planning ran
    planning_s: float
    cpu_ms_per_tap: float   # the bot process in the alone rounds (all its threads)
    youth_side_share: float  # CPU seconds per wall second of the youths' process


async def bot_rounds(youths: int, planned: int, think: float) -> BotRounds:
    """The real bot: a warm-up round, then rounds alone, during a first planning pass,
    and alone again."""
    with environment(PRODUCTION), tempfile.TemporaryDirectory() as tmp:
        async with YouthSide(think) as side:
            config = write_config(Path(tmp), side.base_url, side.token)
            settings, secrets = load_settings(config)
            # The opt-in lean HTTP client (telegram.http_client): half the CPU per request.
            settings.telegram.http_client = "lean"
            services = await open_services(settings, secrets)
            app = build_application(settings, secrets, services, tick=False)
            gc.freeze()  # as the bot does once started (bot/wiring.py)
            try:
                async with app:
                    assert app.updater is not None
                    await app.updater.start_polling(poll_interval=0.0, timeout=1)
                    await app.start()
                    try:
                        rounds = await _bot_rounds(app, services, settings, youths, planned,
                                                   side)
                        return BotRounds(*rounds, side.cpu_s / side.wall_s)
                    finally:
                        await app.updater.stop()
                        await app.stop()
            finally:
                await services.store.close()


async def _bot_rounds(app: BotApp, services: Services, settings: Settings, youths: int,
                      planned: int, side: YouthSide
                      ) -> tuple[list[float], list[float], float, float]:
    limiter = getattr(app.bot, "rate_limiter", None)
    assert isinstance(limiter, ChatRateLimiter)
    # Per-chat pacing only: the overall window (25/s) would make a round of 200 youths
    # x 3 requests a queue of 24 s by itself (see the report of issue 16).
    limiter.overall = SlidingWindow(1_000_000)
    now = services.clock()
    await services.store.add_therapist(Therapist("T-01", "nl"), now)
    codes = [f"J-{n:04d}" for n in range(4 * youths)]
    for n, code in enumerate(codes):
        await join_directly(services, code, "T-01", FIRST_USER + n, now)
    assert isinstance(services.store, SqliteStore)
    await _planning_youths(services.store, planned, now)

    cpu = [0.0]

    async def round_of(group: int, during: Callable[[], Coroutine[Any, Any, object]] | None
                       = None) -> tuple[list[tuple[float, float]], float, float]:
        await _open_checkins(services, app.bot, codes[group * youths:(group + 1) * youths],
                             f"bench-{group}")
        started = time.process_time()
        taps = await side.round(group * youths, youths, during)
        cpu[0] += time.process_time() - started
        return taps

    # A first round warms what a running bot has warm (connections, caches); not counted.
    # The alone figure takes the rounds just before and just after the planning round, so
    # a change in the machine's load during the run weighs on both sides alike.
    await round_of(0)
    cpu[0] = 0.0
    before, _, _ = await round_of(1)
    alone_cpu = cpu[0]
    rules = delivery_rules(settings)
    busy, start, end = await round_of(2, lambda: plan(services.store, services.clock(), rules))
    cpu[0] = alone_cpu
    after, _, _ = await round_of(3)
    during = [lat for at, lat in busy if start <= at <= end]
    alone = [lat for _, lat in before + after]
    return alone, during, end - start, cpu[0] * 1000 / len(alone)


class _Bare:
    """The least a client can do: JSON POSTs over kept-alive connections (asyncio streams),
    `size` at once. A request costs it about 0.05 ms of CPU, httpx about 1.2 ms."""

    def __init__(self, base: str, size: int) -> None:
        parts = urlsplit(base)
        self._host, self._port, self._path = parts.hostname or "", parts.port or 80, parts.path
        self._size = size
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
            asyncio.Queue()
        self._all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> _Bare:
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            self._all.append(writer)
            self._free.put_nowait((reader, writer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._all:
            writer.close()

    async def post(self, method: str, body: dict[str, Any]) -> Any:
        reader, writer = await self._free.get()
        try:
            payload = json.dumps(body).encode()
            writer.write(f"POST {self._path}/{method} HTTP/1.1\r\nHost: {self._host}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(payload)}"
                         "\r\n\r\n".encode() + payload)
            await writer.drain()
            await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return json.loads(await reader.readexactly(length))
        finally:
            self._free.put_nowait((reader, writer))


async def floor_round(youths: int, think: float) -> tuple[list[float], float]:
    """A bare client, no bot work: answer each tap and send one message, same pacing.
    Returns the latencies and the client's CPU milliseconds per tap.

    With a few youths (`QUIET`) this is the round trip itself; with all youths at once
    its p95/p99 add the queue of the burst at the fake and in this client, both as cheap
    as they can be (`_Bare`), so what is left is what Telegram and the network would give.
    """
    async with YouthSide(think) as side, _Bare(side.base_url + side.token, POOL) as client, \
            _Bare(side.base_url + side.token, 1) as poller_client:
        limits: dict[int, AsyncLimiter] = {}
        replies: set[asyncio.Task[None]] = set()

        async def send(chat: int) -> None:
            keyboard = {"inline_keyboard": [[{"text": label, "callback_data": label}
                                             for label in LABELS]]}
            limiter = limits.setdefault(chat, AsyncLimiter(CHAT_BURST, CHAT_BURST))
            async with limiter:
                await client.post("sendMessage", {"chat_id": chat, "text": "next",
                                                  "reply_markup": keyboard})

        async def reply(update: dict[str, Any]) -> None:
            query = update["callback_query"]
            await client.post("answerCallbackQuery", {"callback_query_id": query["id"]})
            await send(query["message"]["chat"]["id"])

        async def poll() -> None:
            offset = 0
            while True:
                response = await poller_client.post("getUpdates",
                                                    {"offset": offset, "timeout": 1})
                for update in response["result"]:
                    offset = update["update_id"] + 1
                    task = asyncio.create_task(reply(update))
                    replies.add(task)
                    task.add_done_callback(replies.discard)

        poller = asyncio.create_task(poll())
        try:
            await asyncio.gather(*(send(FIRST_USER + n) for n in range(youths)))
            started = time.process_time()
            taps, _, _ = await side.round(0, youths)
            cpu = time.process_time() - started
        finally:
            poller.cancel()
    return [lat for _, lat in taps], cpu * 1000 / len(taps)


QUIET = 5  # youths in the quiet floor: a round trip with no burst to queue behind


async def tap_latency(youths: int = 200, planned: int = 10_000,
                      think: float = 1.0) -> LatencyResult:
    quiet, _ = await floor_round(QUIET, think)
    floor, floor_cpu_ms = await floor_round(youths, think)
    bot = await bot_rounds(youths, planned, think)
    return LatencyResult(youths, Percentiles.of(bot.alone), Percentiles.of(bot.during),
                         Percentiles.of(floor), planned, bot.planning_s, Percentiles.of(quiet),
                         bot.cpu_ms_per_tap, floor_cpu_ms, bot.youth_side_share)


if __name__ == "__main__":
    print(asyncio.run(tap_latency()))
