"""The twin does what the SQL schema does by itself: the planning triggers of migrations
0014/0015 and the foreign keys' cascades, checked against a real SQLite file.

After a full planning pass nothing is left to plan; then one edit through the port, and
the series it may have changed (and only those) are planned in full again.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import cast

import pytest

from core.delivery import Kind, Planned, Window
from core.kiosk import Channel
from core.records import (
    AlreadyExists,
    AnswerWrite,
    BindOutcome,
    ChannelChange,
    Consent,
    NewCheckin,
    NewSeries,
    NewYouth,
    OutboxState,
    PhoneWindow,
    PlannedRow,
    Therapist,
)
from core.schedule import Change, Timing
from scheduler.planner import DeliveryRules, Horizons, plan, rules_key
from storage.memory.store import MemoryStore
from storage.memory.tables import Tables
from storage.ports import Store
from storage.sql import IntegrityViolation
from storage.sqlite import SqliteStore

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
RULES = DeliveryRules("Europe/Amsterdam", time(22, 0), time(7, 0), timedelta(days=14))
CONSENT = Consent("participation", "participation-2", "0" * 64, "nl")
TIMING = Timing(timedelta(minutes=15), timedelta(hours=4), timedelta(hours=24))
MONDAY = date(2026, 12, 7)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = cast(Store, MemoryStore(owner="test"))  # cast: until memory-b's parts join
    else:
        opened = await SqliteStore.open(tmp_path / "twin.sqlite3")
    yield opened
    await opened.close()


async def two_series(store: Store) -> None:
    """Series 1 of J-1 (unit W-1), series 2 of J-2 (unit W-2); both planned in full."""
    await store.add_therapist(Therapist("T-1", "nl"), NOW)
    for code, unit in (("J-1", "W-1"), ("J-2", "W-2")):
        await store.add_youth(NewYouth(code, "T-1", 2008, "nl", False, None), NOW)
        await store.set_unit(code, unit)
        await store.add_series(NewSeries("T-1", (code,), "music", frozenset({0}), time(10),
                                         timedelta(hours=1), RULES.timezone, MONDAY, None,
                                         TIMING), NOW)
    await plan(store, NOW, RULES)
    assert await to_plan(store) == {}, "a full pass leaves nothing to plan"


async def to_plan(store: Store) -> dict[int, bool]:
    """The series the next pass must look at: id -> planned in full."""
    work = await store.plan_work(Horizons.of(NOW, RULES).near, rules_key(RULES))
    return {s.id: mark is None for s, mark in work.series}


def window(scope: str, code: str) -> PhoneWindow:
    return PhoneWindow(scope, code, Window(frozenset({0}), time(16), time(18)))


async def bind(store: Store) -> None:
    await store.add_invite("d", "youth", "J-1", NOW, NOW + timedelta(days=1))
    assert await store.bind_youth("d", "p1", b"sealed", CONSENT, NOW) is BindOutcome.BOUND


Edit = Callable[[Store], Awaitable[object]]
EDITS: list[tuple[str, Edit, dict[int, bool]]] = [
    ("pause", lambda s: s.set_series_paused(1, True), {1: True}),
    ("pause again (no change)", lambda s: s.set_series_paused(2, False), {}),
    ("cancel a session", lambda s: s.add_change(Change(1, MONDAY, True, None), NOW), {1: True}),
    ("own phone hours", lambda s: s.add_window(window("youth", "J-2")), {2: True}),
    ("the unit's phone hours", lambda s: s.add_window(window("unit", "W-1")), {1: True}),
    ("another unit's hours", lambda s: s.add_window(window("unit", "W-9")), {}),
    ("a new unit", lambda s: s.set_unit("J-2", "W-1"), {2: True}),
    ("the same unit", lambda s: s.set_unit("J-2", "W-2"), {}),
    ("a channel", lambda s: s.add_channel_change("J-1", ChannelChange(
        Channel.KIOSK, NOW, "coordinator:x", "")), {1: True}),
    ("Telegram linked", bind, {1: True}),
    ("a kiosk identity", lambda s: s.set_youth_pseudonym("J-2", "kiosk-2"), {2: True}),
    ("unreachable (no plan change)", lambda s: s.mark_unreachable("J-1", NOW), {}),
]


@pytest.mark.parametrize(("edit", "planned_again"), [(e, p) for _, e, p in EDITS],
                         ids=[name for name, _, _ in EDITS])
async def test_an_edit_marks_the_series_it_may_change(
        store: Store, edit: Edit, planned_again: dict[int, bool]) -> None:
    await two_series(store)
    await edit(store)
    assert await to_plan(store) == planned_again
    await plan(store, NOW, RULES)
    assert await to_plan(store) == {}, "planned once more, then nothing left"


async def test_a_moved_session_edit_is_planned_again_after_a_second_edit(store: Store) -> None:
    await two_series(store)
    await store.add_change(Change(1, MONDAY, True, None), NOW)
    await plan(store, NOW, RULES)
    await store.add_change(Change(1, MONDAY, False, datetime(2026, 12, 8, 14, 0)), NOW)
    assert await to_plan(store) == {1: True}, "an update of a change counts too"


async def test_a_new_pseudonym_carries_the_check_ins_along(store: Store) -> None:
    """checkins.youth_pseudonym REFERENCES youths (pseudonym) ON UPDATE CASCADE."""
    await two_series(store)
    await bind(store)
    checkin = await store.create_checkin(NewCheckin(
        "r" * 16, "p1", "s1:2026-12-07", "music", "alliance-2", False, NOW,
        NOW + timedelta(hours=24)))
    await store.add_crisis_flag("p1", checkin.id, ["x"], b"sealed", NOW)
    await store.add_invite("d2", "youth", "J-1", NOW, NOW + timedelta(days=1))
    if not hasattr(store, "unbind_youth"):
        pytest.skip("the memory twin has no unbind_youth yet (memory-b's part)")
    assert await store.unbind_youth("J-1", NOW)
    youth = await store.youth_by_code("J-1")
    assert youth is not None and youth.pseudonym not in (None, "p1")
    moved = await store.checkin_by_ref(checkin.ref)
    assert moved is not None and moved.youth_pseudonym == youth.pseudonym


@pytest.mark.parametrize("action", ["unknown therapist", "unknown youth", "twice the youth"])
async def test_a_series_breaking_a_key_is_refused_whole(store: Store, action: str) -> None:
    await two_series(store)
    therapist, youths = {"unknown therapist": ("T-9", ("J-1",)),
                         "unknown youth": ("T-1", ("J-1", "J-9")),
                         "twice the youth": ("T-1", ("J-1", "J-1"))}[action]
    with pytest.raises(Exception) as refused:
        await store.add_series(NewSeries(therapist, youths, "music", frozenset({1}), time(9),
                                         timedelta(hours=1), RULES.timezone, MONDAY, None,
                                         TIMING), NOW)
    assert type(refused.value).__name__ in ("IntegrityError", "IntegrityViolation")
    assert [s.id for s in await store.all_series()] == [1, 2], "nothing of it stored"


def test_deleting_a_checkin_cascades_as_the_schema_says() -> None:
    tables = Tables()
    checkin = tables.insert("checkins", {"youth_pseudonym": "p1"})
    code = tables.insert("kiosk_codes", {"checkin_id": checkin})
    tables.insert("kiosk_sessions", {"code_id": code})
    for child in ("prompts", "answers", "notes"):
        tables.insert(child, {"checkin_id": checkin})
    flag = tables.insert("crisis_flags", {"checkin_id": checkin})
    assert tables.delete("checkins", id=checkin) == 1
    for child in ("prompts", "answers", "notes", "kiosk_codes", "kiosk_sessions"):
        assert list(tables.scan(child)) == [], child
    assert tables.rows["crisis_flags"][flag]["checkin_id"] is None, "ON DELETE SET NULL"


def test_conflicts_and_missing_parents_are_refused() -> None:
    tables = Tables()
    tables.insert("youths", {"code": "J-1", "pseudonym": None})
    assert tables.conflict("youths", {"code": "J-2", "pseudonym": None}) is None, "NULLs differ"
    assert tables.conflict("youths", {"code": "J-1"}) is not None
    with pytest.raises(IntegrityViolation):
        tables.refuse_conflict("youths", {"code": "J-1"})
    with pytest.raises(IntegrityViolation):
        tables.require("therapists", code="T-1")
    tables.require("therapists", code=None)   # a NULL reference refers to nothing: allowed


# -- the outbox state machine: the twin and SQLite, operation by operation ------------------


@dataclass(frozen=True)
class Op:
    name: str
    at: datetime
    row: PlannedRow | None = None
    item: int = 0
    state: OutboxState = OutboxState.SENT
    span: timedelta = timedelta(0)
    text: str = ""


def random_operations(seed: int, count: int = 80) -> list[Op]:
    """A reproducible sequence of outbox operations over a handful of rows, by two
    processes ('a' and 'b') sharing the store."""
    rng = random.Random(seed)
    keys = [f"s1:2026-12-0{d}" for d in range(1, 5)]
    minute = timedelta(minutes=1)
    ops: list[Op] = []
    for _ in range(count):
        at = NOW + rng.randrange(0, 600) * minute
        name = rng.choice(["plan", "plan", "claim", "claim", "finish", "retry", "release",
                           "expired", "expire", "cancel", "due", "owners", "switch"])
        if name == "plan":
            key, kind = rng.choice(keys), rng.choice([Kind.CHECKIN, Kind.REMINDER])
            due = NOW + rng.randrange(0, 300) * minute
            planned = Planned(f"{kind.value}:{key}:J-1", kind, "J-1", key, due,
                              due + rng.randrange(10, 400) * minute, rng.random() < 0.2)
            ops.append(Op(name, at, row=PlannedRow(planned, 1, "music", due - minute)))
        else:
            ops.append(Op(name, at, item=rng.randrange(1, 9),
                          state=rng.choice(list(OutboxState)),
                          span=rng.randrange(1, 30) * minute,
                          text=rng.choice(["s1", "series paused", "a", "b", *keys])))
    return ops


async def apply(store: Store, op: Op) -> object:
    """One operation; what it returned (None for the ones that return nothing)."""
    match op.name:
        case "plan":
            assert op.row is not None
            return await store.upsert_planned([op.row], op.at)
        case "claim":
            return await store.claim(op.item, op.at, op.span)
        case "finish":
            await store.finish(op.item, op.state, op.at, "done")
            return None
        case "retry":
            await store.retry_later(op.item, op.at + op.span, "later", op.at)
            return None
        case "release":
            return await store.release_sending(op.at if op.item % 2 else None,
                                               {op.text} if op.text in "ab" else ())
        case "expired":
            return await store.release_expired(op.at)
        case "expire":
            return await store.expire_overdue(op.at)
        case "cancel":
            return await store.cancel_pending(op.text, "cancelled by test", op.at)
        case "due":
            return await store.due_items(op.at, op.item)
        case "switch":
            store.owner = "b" if store.owner == "a" else "a"
            return store.owner
    return await store.sending_owners()


@pytest.mark.parametrize("seed", range(12))
async def test_the_outbox_answers_as_sqlite_does(tmp_path: Path, seed: int) -> None:
    sqlite = await SqliteStore.open(tmp_path / "reference.sqlite3")
    twin = cast(Store, MemoryStore(owner="a"))
    sqlite.owner = "a"
    try:
        for store in (sqlite, twin):
            await store.add_therapist(Therapist("T-1", "nl"), NOW)
            await store.add_youth(NewYouth("J-1", "T-1", 2008, "nl", False, None), NOW)
            await store.add_series(NewSeries("T-1", ("J-1",), "music", frozenset({0}),
                                             time(10), timedelta(hours=1), RULES.timezone,
                                             MONDAY, None, TIMING), NOW)
        for n, op in enumerate(random_operations(seed)):
            expected, got = await apply(sqlite, op), await apply(twin, op)
            assert got == expected, f"operation {n}: {op}"
        end = NOW + timedelta(days=2)
        assert await twin.due_items(end, 100) == await sqlite.due_items(end, 100)
        assert await twin.next_due() == await sqlite.next_due()
    finally:
        await sqlite.close()


# -- check-ins and answers: the twin and SQLite, operation by operation ---------------------


def checkin_operations(seed: int, count: int = 150) -> list[tuple[str, datetime, int, int]]:
    """(operation, when, check-in number, step) in a reproducible order."""
    rng = random.Random(seed)
    names = ["create", "create", "answer", "answer", "walk", "note", "expire", "open",
             "sent", "unsent", "recent", "list"]
    return [(rng.choice(names), NOW + rng.randrange(0, 20 * 60) * timedelta(minutes=1),
             rng.randrange(1, 4), rng.randrange(0, 4)) for _ in range(count)]


async def apply_checkin(store: Store, name: str, at: datetime, number: int,
                        step: int) -> object:
    pseudonym = "p1" if number % 2 else "p2"
    match name:
        case "create":
            try:
                return await store.create_checkin(NewCheckin(
                    f"ref-{number}".ljust(16, "x"), pseudonym, f"s1:{number}", "music",
                    "alliance-2", False, at, at + timedelta(hours=number * 4)))
            except AlreadyExists:
                return "exists"
        case "answer":
            return await store.record_answer(AnswerWrite(
                number, step, f"item{step}", str(number + step), "alliance-2",
                (number + step) % 3 != 0,
                step == 3), at)
        case "walk":   # every step in order, as a youth answering at once
            return [await store.record_answer(AnswerWrite(
                number, n, f"item{n}", "3", "alliance-2", True, n == 3), at)
                for n in range(4)]
        case "note":
            return await store.store_note(number, step, b"sealed", at)
        case "expire":
            return await store.expire_due(at)
        case "open":
            return await store.open_checkin(pseudonym, at)
        case "sent":
            await store.prompt_sent(number, step, 100 + number, at)
            return await store.prompt_message_id(number, step)
        case "unsent":
            return await store.unsent_prompts(at, at)
        case "recent":
            return await store.recent_checkins(pseudonym, step)
    return await store.checkins_of(pseudonym)


@pytest.mark.parametrize("seed", range(8))
async def test_check_ins_answer_as_sqlite_does(tmp_path: Path, seed: int) -> None:
    sqlite = await SqliteStore.open(tmp_path / "reference.sqlite3")
    twin = cast(Store, MemoryStore(owner="a"))
    try:
        for store in (sqlite, twin):
            await store.add_therapist(Therapist("T-1", "nl"), NOW)
            for n, pseudonym in enumerate(("p1", "p2"), start=1):
                await store.add_youth(NewYouth(f"J-{n}", "T-1", 2008, "nl", False, None), NOW)
                await store.add_invite(f"d{n}", "youth", f"J-{n}", NOW, NOW + timedelta(1))
                await store.bind_youth(f"d{n}", pseudonym, b"sealed", CONSENT, NOW)
        for n, op in enumerate(checkin_operations(seed)):
            expected, got = await apply_checkin(sqlite, *op), await apply_checkin(twin, *op)
            assert got == expected, f"operation {n}: {op}"
    finally:
        await sqlite.close()
