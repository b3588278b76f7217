"""Planning and dispatch benchmarks for the delivery engine.

Planning: 10,000 youths with a weekly session each, planned four weeks ahead into a real
SQLite outbox (time and peak traced memory): every check-in of the four weeks, and what
follows the sessions of the next two days (scheduler.planner.FOLLOW_UP_AHEAD).
Dispatch: due check-ins sent by the real engine through PTB with its rate limiter to the
fake Telegram, beside Telegram's cap of 30 messages a second.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.inbound import environment, storage_environment
from bot.application import engine_of_app
from bot.offline import join_directly, offline_bot
from bot.rules import default_timing, delivery_rules
from core.records import NewSeries, NewYouth, Therapist
from core.schedule import Timing
from scheduler.planner import DeliveryRules, plan
from storage.sqlite import SqliteStore

TELEGRAM_CAP = 30.0
MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TIMING_ARGS = (timedelta(minutes=15), timedelta(hours=3), timedelta(hours=24))


@dataclass(frozen=True)
class PlanResult:
    youths: int
    rows: int
    seconds: float          # the first pass: every series planned
    peak_mib: float
    again_ms: float         # the next pass, 10 minutes later, nothing edited
    raw_insert_s: float     # the same rows, plain batched INSERTs into an empty outbox
    longest_hold_ms: float  # the longest the event loop waited during the first pass
    longest_cpu_ms: float   # of which CPU time of the loop's own thread


class LoopWatch:
    """The longest gap between wake-ups of a coroutine asking for 1 ms sleeps: how long
    something else held the event loop (a measure, not asyncio's debug detector).

    `longest` is wall time, which on a loaded machine includes the OS running other
    processes; `longest_cpu` is the CPU time the loop's own thread used in that gap: the
    part that was our code holding the loop."""

    def __init__(self) -> None:
        self.longest = self.longest_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0.001)
            now, cpu = time.perf_counter(), time.thread_time()
            self.longest = max(self.longest, now - last - 0.001)
            self.longest_cpu = max(self.longest_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _raw_insert(path: Path, rows: list[tuple[object, ...]], columns: list[str]) -> float:
    """The floor for storing a plan: the same rows, batched INSERTs, nothing else."""
    store = await SqliteStore.open(path)
    sql = (f"INSERT INTO outbox ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    started = time.perf_counter()
    for first in range(0, len(rows), 3200):
        async with store.db.write() as conn:
            await conn.run_many(sql, rows[first:first + 3200])
    seconds = time.perf_counter() - started
    await store.close()
    return seconds


async def planning(youths: int = 10_000) -> PlanResult:
    timing = Timing(*TIMING_ARGS)
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "plan.sqlite3")
        await store.add_therapist(Therapist("T-01", "nl"), MONDAY)
        for n in range(youths):
            code = f"J-{n:05d}"
            await store.add_youth(NewYouth(code, "T-01", 2008, "nl", False, None), MONDAY)
            await store.add_series(NewSeries(
                "T-01", (code,), "music", frozenset({n % 5}),
                clock_time(9 + n % 8, 0), timedelta(hours=1), "Europe/Amsterdam",
                date(2026, 11, 23), None, timing), MONDAY)
        rules = DeliveryRules("Europe/Amsterdam", clock_time(21, 30), clock_time(8, 0),
                              timedelta(days=28))
        await store.backup(Path(tmp) / "copy.sqlite3")
        await store.backup(Path(tmp) / "raw.sqlite3")
        gc.freeze()  # as the bot does once started (bot/wiring.py)
        with LoopWatch() as watch:
            started = time.perf_counter()
            rows = await plan(store, MONDAY, rules)
            seconds = time.perf_counter() - started
        started = time.perf_counter()
        await plan(store, MONDAY + timedelta(minutes=10), rules)
        again = time.perf_counter() - started
        outbox = await store.db.all("SELECT * FROM outbox")
        columns = [c for c in outbox[0].keys() if c != "id"] if outbox else []  # noqa: SIM118
        planned: list[tuple[object, ...]] = [tuple(r[c] for c in columns) for r in outbox]
        await store.close()
        raw = await _raw_insert(Path(tmp) / "raw.sqlite3", planned, columns)
        # Memory on an identical copy: tracing would slow the timed run several-fold.
        copy = await SqliteStore.open(Path(tmp) / "copy.sqlite3")
        tracemalloc.start()
        await plan(copy, MONDAY, rules)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        await copy.close()
    return PlanResult(youths, rows, seconds, peak / 2**20, again * 1000, raw,
                      watch.longest * 1000, watch.longest_cpu * 1000)


@dataclass(frozen=True)
class DispatchResult:
    messages: int
    seconds: float
    peak_one_second: int = 0  # most sends arriving at the fake Telegram in any 1 s window

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


async def dispatch(count: int = 200, *, rate_limited: bool = True,
                   storage_url: str | None = None) -> DispatchResult:
    """`count` joined youths with a group session that just ended; one tick sends all.

    `storage_url`: a PostgreSQL database to run on (`storage.url`) instead of SQLite."""
    with (environment(storage_environment(storage_url)),
          tempfile.TemporaryDirectory() as tmp):
        async with offline_bot(Path(tmp), tick=False, rate_limited=rate_limited) as bot:
            services, now = bot.services, bot.services.clock()
            store = services.store
            await store.add_therapist(Therapist("T-01", "nl"), now)
            codes = []
            for n in range(count):
                code = f"J-{n:04d}"
                codes.append(code)
                await join_directly(services, code, "T-01", 900000000 + n, now)
            start = now - timedelta(minutes=80)
            local = start.astimezone(ZoneInfo("Europe/Amsterdam"))
            await store.add_series(NewSeries(
                "T-01", tuple(codes), "music", frozenset({local.weekday()}),
                local.time().replace(second=0, microsecond=0), timedelta(hours=1),
                "Europe/Amsterdam", local.date(), local.date(),
                default_timing(bot.settings)), now)
            engine = engine_of_app(bot.app)
            engine.rules = DeliveryRules(delivery_rules(bot.settings).timezone,
                                         clock_time(0), clock_time(0), timedelta(days=1))
            await engine.replan()
            started = time.perf_counter()
            report = await engine.tick(bot.channel)
            seconds = time.perf_counter() - started
            peak = bot.fake.most_in_one_second()
    return DispatchResult(report.sent, seconds, peak)
