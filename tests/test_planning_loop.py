"""Issue 16: planning is incremental, gives the same rows as planning everything every
pass, and never holds the event loop for long.

The loop test is not timed: it uses asyncio's own slow-callback detection (debug mode,
`loop.slow_callback_duration`, the "Executing ... took" warning). The bound here is
ten times the 50 ms design bound, because this suite runs on a loaded 2-core machine
in debug mode (which slows every step); `make bench` reports the real longest hold. A
planner that computed a whole pass in one step holds the loop for seconds at this size,
so the generous bound still catches it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest

from core.delivery import Window
from core.records import NewSeries, NewYouth, PhoneWindow, Therapist
from core.schedule import Change, Timing
from scheduler.planner import DeliveryRules, plan
from storage.sqlite import SqliteStore
from storage.timefmt import iso

MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
RULES = DeliveryRules("Europe/Amsterdam", clock_time(21, 30), clock_time(8, 0),
                      timedelta(days=28))
TIMING = Timing(timedelta(minutes=15), timedelta(hours=3), timedelta(hours=24))
DESIGN_BOUND_S = 0.050
TEST_BOUND_S = 10 * DESIGN_BOUND_S


async def _many_youths(store: SqliteStore, count: int) -> None:
    """`count` youths, each with a weekly series, written in one transaction (fast)."""
    await store.add_therapist(Therapist("T-01", "nl"), MONDAY)
    stamp = iso(MONDAY)
    async with store.db.write() as conn:
        await conn.run_many(
            "INSERT INTO youths (code, therapist_code, birth_year, language, simple_mode,"
            " created_at) VALUES (?, 'T-01', 2008, 'nl', 0, ?)",
            [(f"J-{n:05d}", stamp) for n in range(count)])
        await conn.run_many(
            "INSERT INTO series (id, therapist_code, discipline, weekdays, start_time,"
            " duration_minutes, timezone, first_date, send_after_minutes,"
            " remind_after_minutes, expire_after_minutes, created_at)"
            " VALUES (?, 'T-01', 'music', ?, ?, 60, 'Europe/Amsterdam', '2026-11-23', 15,"
            " 180, 1440, ?)",
            [(n + 1, str(n % 5), f"{9 + n % 8:02d}:00", stamp) for n in range(count)])
        await conn.run_many("INSERT INTO series_youths (series_id, youth_code) VALUES (?, ?)",
                               [(n + 1, f"J-{n:05d}") for n in range(count)])


def test_no_planning_step_holds_the_loop(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    def slow_steps() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.name == "asyncio" and r.getMessage().startswith("Executing")]

    async def main() -> int:
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = TEST_BOUND_S
        # The detector itself works: a step that blocks is reported.
        loop.call_soon(time.sleep, TEST_BOUND_S * 1.2)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert slow_steps(), "asyncio's slow-callback detection reported nothing"
        caplog.clear()
        store = await SqliteStore.open(tmp_path / "plan.sqlite3")
        try:
            await _many_youths(store, 5000)
            caplog.clear()  # only the planning counts
            first = await plan(store, MONDAY, RULES)
            again = await plan(store, MONDAY + timedelta(minutes=10), RULES)
        finally:
            await store.close()
        assert again < first
        return first

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        planned = asyncio.run(main(), debug=True)
    assert planned > 5000 * 4   # four weeks of weekly check-ins, and the first follow-ups
    assert slow_steps() == []


async def _clinic(store: SqliteStore) -> None:
    await store.add_therapist(Therapist("T-01", "nl"), MONDAY)
    for n in range(6):
        await store.add_youth(NewYouth(f"J-{n}", "T-01", 2008, "nl", False, None), MONDAY)
    await store.set_unit("J-0", "north")
    for n, days in enumerate(({0}, {1, 3}, {2}, {4}, {0, 2, 4})):
        await store.add_series(NewSeries(
            "T-01", (f"J-{n}",) if n < 4 else ("J-4", "J-5"), "music", frozenset(days),
            clock_time(10 + n, 0), timedelta(hours=1), "Europe/Amsterdam",
            date(2026, 11, 23), date(2027, 1, 15) if n == 2 else None, TIMING), MONDAY)


async def _edits(store: SqliteStore, step: int, now: datetime) -> None:
    """Coordinator edits between passes: each kind the planner must notice."""
    if step == 1:
        await store.add_change(Change(1, date(2026, 12, 7), True, None), now)
        await store.add_change(Change(2, date(2026, 12, 22), False,
                                      datetime(2026, 12, 19, 11, 0)), now)
    elif step == 2:
        await store.add_window(PhoneWindow("unit", "north", Window(
            frozenset(range(7)), clock_time(18, 0), clock_time(20, 0))))
        await store.set_series_paused(4, True)
    elif step == 3:
        await store.add_window(PhoneWindow("youth", "J-1", Window(
            frozenset({0, 1, 2}), clock_time(12, 0), clock_time(13, 0))))
        await store.set_series_paused(4, False)
        await store.add_change(Change(3, date(2027, 1, 20), False,
                                      datetime(2026, 12, 30, 9, 0)), now)


async def _outbox(store: SqliteStore) -> list[tuple[object, ...]]:
    return [tuple(r[k] for k in r.keys()) for r in await store.db.all(  # noqa: SIM118
        "SELECT dedupe_key, kind, youth_code, therapist_code, occurrence_key, session_end,"
        " due_at, expires_at, state, last_error FROM outbox ORDER BY dedupe_key")]


async def test_incremental_passes_give_the_rows_of_full_passes(tmp_path: Path) -> None:
    """Two databases see the same edits over five weeks of passes; one plans every series
    in full at every pass (as before issue 16), the other incrementally."""
    incremental = await SqliteStore.open(tmp_path / "incremental.sqlite3")
    full = await SqliteStore.open(tmp_path / "full.sqlite3")
    try:
        for store in (incremental, full):
            await _clinic(store)
        now = MONDAY
        for step in range(36):
            for store in (incremental, full):
                await _edits(store, step, now)
            async with full.db.write() as conn:
                await conn.run("DELETE FROM plan_marks")  # forget: plan everything
            await plan(full, now, RULES)
            await plan(incremental, now, RULES)
            now += timedelta(hours=23, minutes=10)
        rows = await _outbox(incremental)
        assert rows == await _outbox(full)
        assert len(rows) > 100
        # The next pass, ten minutes after the last: nothing new to plan.
        assert await plan(incremental, now - timedelta(hours=23), RULES) == 0
    finally:
        await incremental.close()
        await full.close()


async def _kinds(store: SqliteStore, occurrence: str) -> list[str]:
    return sorted(r["kind"] for r in await store.db.all(
        "SELECT kind FROM outbox WHERE occurrence_key = ?", (occurrence,)))


@pytest.mark.parametrize(("now", "kinds"), [
    # Monday 23 Nov 07:00 local: the session of 30 Nov (10:00 local) is a week ahead.
    (MONDAY, ["checkin"]),
    # Saturday 28 Nov 08:59 UTC: still more than two days before it.
    (datetime(2026, 11, 28, 8, 59, tzinfo=UTC), ["checkin"]),
    # Saturday 28 Nov 09:01 UTC: inside two days; the talk prompt is not due for 2 days.
    (datetime(2026, 11, 28, 9, 1, tzinfo=UTC), ["checkin", "rating", "reminder", "talk"]),
])
async def test_follow_ups_are_planned_two_days_before_their_session(
        tmp_path: Path, now: datetime, kinds: list[str]) -> None:
    """Check-ins are planned the whole horizon ahead; what follows a session (reminder,
    rating request, talk prompt) two days before it starts, by the pass then."""
    store = await SqliteStore.open(tmp_path / "plan.sqlite3")
    try:
        await _clinic(store)
        await plan(store, MONDAY, RULES)
        assert await _kinds(store, "s1:2026-11-23") == ["checkin", "rating", "reminder",
                                                        "talk"], "today's session: all"
        await plan(store, now, RULES)
        assert await _kinds(store, "s1:2026-11-30") == kinds
        assert await _kinds(store, "s1:2026-12-14") == ["checkin"]
    finally:
        await store.close()


async def test_after_an_outage_a_session_missed_still_gets_its_rating_request(
        tmp_path: Path) -> None:
    """Down from Monday to Thursday of the next week: the next pass plans what followed
    the sessions in between. The therapist's rating request is open for a week, so it is
    asked; the talk prompt before a session already held is not planned at all."""
    store = await SqliteStore.open(tmp_path / "plan.sqlite3")
    try:
        await _clinic(store)
        await plan(store, MONDAY, RULES)
        assert await _kinds(store, "s1:2026-11-30") == ["checkin"]
        await plan(store, MONDAY + timedelta(days=10), RULES)
        assert await _kinds(store, "s1:2026-11-30") == ["checkin", "rating", "reminder"]
        rating = await store.db.one(
            "SELECT state, expires_at FROM outbox WHERE dedupe_key = ?",
            ("rating:s1:2026-11-30:J-0",))
        assert rating is not None and rating["state"] == "pending"
        assert rating["expires_at"] > iso(MONDAY + timedelta(days=10))
    finally:
        await store.close()


@pytest.mark.parametrize("edit", ["a session cancelled", "another horizon"])
async def test_after_an_outage_a_full_plan_still_asks_the_open_rating_requests(
        tmp_path: Path, edit: str) -> None:
    """The same outage, but the first pass after it plans the series in full (it was
    edited during the outage, or the horizon changed): the ratings are still asked."""
    store = await SqliteStore.open(tmp_path / "plan.sqlite3")
    try:
        await _clinic(store)
        await plan(store, MONDAY, RULES)
        later, rules = MONDAY + timedelta(days=10), RULES
        if edit == "a session cancelled":
            await store.add_change(Change(1, date(2026, 12, 21), True, None), later)
        else:
            rules = DeliveryRules(RULES.timezone, RULES.quiet_start, RULES.quiet_end,
                                  timedelta(days=21))
        await plan(store, later, rules)
        assert await _kinds(store, "s1:2026-11-30") == ["checkin", "rating", "reminder"]
    finally:
        await store.close()


async def test_a_series_paused_through_an_outage_asks_no_ratings_for_the_pause(
        tmp_path: Path) -> None:
    """Paused, then resumed ten days later: the sessions in between were not held, so
    the therapist is not asked to rate them."""
    store = await SqliteStore.open(tmp_path / "plan.sqlite3")
    try:
        await _clinic(store)
        await plan(store, MONDAY, RULES)
        await store.set_series_paused(1, True)
        await plan(store, MONDAY + timedelta(minutes=10), RULES)
        later = MONDAY + timedelta(days=10)
        await store.set_series_paused(1, False)
        await plan(store, later, RULES)
        assert await _kinds(store, "s1:2026-11-30") == ["checkin"]
        rating = await store.db.one("SELECT 1 AS n FROM outbox WHERE dedupe_key = ?",
                                    ("rating:s1:2026-11-30:J-0",))
        assert rating is None
    finally:
        await store.close()
