"""The storage contract: one test class, run against every backend (SQLite for now)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.delivery import Kind
from core.flow import Status
from core.records import (
    AlreadyExists,
    AnswerWrite,
    BindOutcome,
    Consent,
    NewCheckin,
    NewOutbox,
    NewYouth,
    Therapist,
)
from core.retention import DataKind
from storage.database import Migration, MigrationError, builtin_migrations
from storage.owners import dead_owners, process_owner
from storage.ports import Store
from storage.sqlite import SqliteStore
from tests.pg_backend import open_postgres

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONSENT = Consent("participation", "participation-2", "0" * 64, "nl")
Opener = Callable[[Path], Awaitable[Store]]


async def _open_sqlite(directory: Path) -> Store:
    return await SqliteStore.open(directory / "contract.sqlite3")


BACKENDS: dict[str, Opener] = {"sqlite": _open_sqlite, "postgres": open_postgres}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = await BACKENDS[request.param](tmp_path)
    yield opened
    await opened.close()


async def bound_youth(store: Store, code: str = "J-014", pseudonym: str = "p1") -> None:
    if await store.therapist("T-02") is None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
    await store.add_youth(NewYouth(code, "T-02", 2008, "nl", False, None), NOW)
    await store.add_invite(f"d-{code}", "youth", code, NOW, NOW + timedelta(days=14))
    assert await store.bind_youth(f"d-{code}", pseudonym, b"sealed", CONSENT, NOW) == (
        BindOutcome.BOUND)


def new_checkin(ref: str = "R" * 16, occurrence: str = "s1",
                pseudonym: str = "p1") -> NewCheckin:
    return NewCheckin(ref, pseudonym, occurrence, "music", "alliance-1", False, NOW,
                      NOW + timedelta(hours=24))


class TestStoreContract:
    async def test_codes_are_unique(self, store: Store) -> None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
        with pytest.raises(AlreadyExists):
            await store.add_therapist(Therapist("T-02", "en"), NOW)
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        with pytest.raises(AlreadyExists):
            await store.add_youth(NewYouth("J-1", "T-02", 2009, "nl", False, None), NOW)

    async def test_invite_binds_once(self, store: Store) -> None:
        await bound_youth(store)
        youth = await store.youth_by_pseudonym("p1")
        assert youth is not None and youth.code == "J-014" and not youth.paused
        assert await store.contact("p1") == b"sealed"
        assert await store.bind_youth("d-J-014", "p2", b"x", CONSENT, NOW) is BindOutcome.USED
        assert await store.bind_youth("nope", "p2", b"x", CONSENT, NOW) is BindOutcome.UNKNOWN
        assert await store.contact("p2") is None

    async def test_one_live_account_per_code(self, store: Store) -> None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
        await store.add_youth(NewYouth("J-014", "T-02", 2008, "nl", False, None), NOW)
        later = NOW + timedelta(days=14)
        assert await store.add_invite("d1", "youth", "J-014", NOW, later) == 0
        assert await store.add_invite("d2", "youth", "J-014", NOW, later) == 1
        assert await store.bind_youth("d1", "p0", b"x", CONSENT, NOW) is BindOutcome.USED
        assert await store.bind_youth("d2", "p1", b"s", CONSENT, NOW) is BindOutcome.BOUND
        # An invite stored next to the live account still cannot take it over.
        await store.add_invite("d3", "youth", "J-014", NOW, later)
        assert await store.bind_youth("d3", "p2", b"x", CONSENT, NOW) is BindOutcome.TAKEN
        assert await store.contact("p2") is None
        assert (await store.invite("d3")) is not None

    async def test_unbind_staff_and_move_youths(self, store: Store) -> None:
        for code in ("T-02", "T-05"):
            await store.add_therapist(Therapist(code, "nl"), NOW)
        later = NOW + timedelta(days=14)
        await store.add_invite("t1", "therapist", "T-02", NOW, later)
        assert await store.bind_therapist("t1", "pt", b"s", NOW) is BindOutcome.BOUND
        await store.add_invite("t2", "therapist", "T-02", NOW, later)
        assert await store.bind_therapist("t2", "pq", b"s", NOW) is BindOutcome.TAKEN
        assert await store.unbind_therapist("T-02", NOW)
        assert await store.therapist_by_pseudonym("pt") is None
        assert await store.contact("pt") is None
        assert not await store.unbind_therapist("T-02", NOW)
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        assert await store.move_youths("T-02", "T-05", NOW) == ["J-1"]
        assert [y.code for y in await store.youths_of("T-05")] == ["J-1"]
        await store.add_unit("W-1", "nl", NOW)
        await store.add_invite("u1", "unit", "W-1", NOW, later)
        assert await store.bind_unit("u1", "pu", b"s", NOW) is BindOutcome.BOUND
        assert await store.unbind_unit("W-1", NOW)
        assert await store.units_of_contact("pu") == []

    async def test_expired_invite_binds_nothing(self, store: Store) -> None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        await store.add_invite("d", "youth", "J-1", NOW - timedelta(days=20), NOW)
        assert await store.bind_youth("d", "p", b"x", CONSENT, NOW) is BindOutcome.EXPIRED
        youth = await store.youth_by_code("J-1")
        assert youth is not None and youth.pseudonym is None

    async def test_checkin_answers_advance_once(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert checkin.status is Status.OPEN and checkin.prompted_step == 0
        with pytest.raises(AlreadyExists):
            await store.create_checkin(new_checkin(ref="S" * 16))
        write = AnswerWrite(checkin.id, 0, "bond", "4", "alliance-1", True, False)
        first = await store.record_answer(write, NOW)
        again = await store.record_answer(write, NOW)
        assert (first.advanced, again.advanced) == (True, False)
        reloaded = await store.checkin_by_ref(checkin.ref)
        assert reloaded is not None
        assert reloaded.prompted_step == 1 and reloaded.answers == {"bond": "4"}

    async def test_unsent_prompts_until_recorded(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert [p.step for p in await store.unsent_prompts(NOW, NOW)] == [0]
        assert await store.unsent_prompts(NOW, NOW - timedelta(seconds=1)) == []
        await store.prompt_sent(checkin.id, 0, 42, NOW)
        assert await store.unsent_prompts(NOW, NOW) == []
        assert await store.prompt_message_id(checkin.id, 0) == 42

    async def test_consent_decisions_are_rows_and_the_newest_counts(self, store: Store) -> None:
        await bound_youth(store)
        sharing = Consent("sharing", "sharing-1", "1" * 64, "nl")
        await store.set_consent("p1", sharing, True, NOW)
        assert await store.codes_with_consent("sharing") == {"J-014"}
        await store.set_consent("p1", sharing, False, NOW + timedelta(minutes=1))
        assert not await store.has_consent("p1", "sharing")
        assert await store.codes_with_consent("sharing") == frozenset()
        assert await store.has_consent("p1", "participation")
        assert [(r.scope, r.agreed, r.withdrawn) for r in await store.consents_of("p1")] == [
            ("participation", True, False), ("sharing", True, True), ("sharing", False, False)]

    async def test_buttons_belong_to_one_message(self, store: Store) -> None:
        await store.bind_buttons("nonce-01", 7, NOW)
        assert await store.buttons_on("nonce-01", 7)
        assert not await store.buttons_on("nonce-01", 8)
        assert not await store.buttons_on("unknown1", 7)
        await store.bind_buttons("nonce-02", None, NOW)      # timed out: id unknown
        assert await store.buttons_on("nonce-02", 9)         # the first tap binds it
        assert not await store.buttons_on("nonce-02", 10)
        await store.bind_buttons("nonce-01", 8, NOW)         # a known binding never moves
        assert await store.buttons_on("nonce-01", 7)

    async def test_a_not_now_at_the_invite_is_kept_by_code(self, store: Store) -> None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
        await store.add_youth(NewYouth("J-015", "T-02", 2008, "nl", False, None), NOW)
        await store.record_invite_decline("J-015", CONSENT, NOW)
        assert await store.codes_declined_at_invite() == frozenset({"J-015"})
        await bound_youth(store, "J-016")
        await store.record_invite_decline("J-016", CONSENT, NOW)  # joined anyway: not shown
        assert await store.codes_declined_at_invite() == frozenset({"J-015"})

    async def test_consent_request_is_due_until_sent(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.consent_request_due("J-014", "participation-3", NOW)
        assert await store.consent_request_due("J-014", "participation-3", NOW), "not sent"
        await store.consent_request_sent("J-014", "participation-3", NOW)
        assert not await store.consent_request_due("J-014", "participation-3", NOW)
        assert await store.consent_request_due("J-014", "participation-4", NOW)

    async def test_purge_by_kind_and_one_run_a_day(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert await store.store_note(checkin.id, 0, b"enc", NOW)
        later = NOW + timedelta(days=2)
        assert await store.purge(DataKind.NOTES, later, dry_run=True) == 1
        assert await store.purge(DataKind.NOTES, NOW) == 0
        assert await store.purge(DataKind.NOTES, later) == 1
        assert await store.purge(DataKind.NOTES, later) == 0
        assert await store.checkin_by_ref(checkin.ref) is not None, "only the note went"
        assert await store.purge(DataKind.INVITES, later) == 1       # the used invite
        assert await store.purge(DataKind.SESSIONS, later) == 1
        assert await store.checkin_by_ref(checkin.ref) is None
        assert await store.last_retention_day() is None
        assert await store.record_retention_run(NOW.date(), "x", NOW)
        assert not await store.record_retention_run(NOW.date(), "x", NOW)
        assert await store.last_retention_day() == NOW.date()

    async def test_expiry_stops_writes(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        late = NOW + timedelta(hours=24)
        write = AnswerWrite(checkin.id, 0, "bond", "4", "alliance-1", True, False)
        assert not (await store.record_answer(write, late)).stored
        assert await store.expire_due(late) == 1
        assert await store.open_checkin("p1", NOW) is None

    async def test_note_completes_once(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert not await store.store_note(checkin.id, 5, b"enc", NOW)  # not asked yet
        for step, item in enumerate(["bond", "goal", "task", "medium", "event"]):
            await store.record_answer(
                AnswerWrite(checkin.id, step, item, "3", "alliance-1", True, False), NOW)
        assert await store.store_note(checkin.id, 5, b"enc", NOW)
        assert not await store.store_note(checkin.id, 5, b"enc2", NOW)
        done = await store.checkin_by_ref(checkin.ref)
        assert done is not None and done.status is Status.COMPLETE

    async def test_pause(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.set_paused("p1", True)
        assert not await store.set_paused("p1", True)
        assert await store.unsent_prompts(NOW, NOW) == []


async def test_failed_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    store = await SqliteStore.open(path)
    await store.close()
    before = path.read_bytes()
    latest = builtin_migrations()[-1].version   # numbers may have gaps
    broken = [*builtin_migrations(), Migration(latest + 1, "broken",
              "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);")]
    with pytest.raises(MigrationError, match="broken"):
        await SqliteStore.open(path, broken)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (latest,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables
    assert path.read_bytes() == before


async def test_wal_foreign_keys_and_backup(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "live.sqlite3")
    await bound_youth(store)
    await store.backup(tmp_path / "copy.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "live.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with sqlite3.connect(tmp_path / "copy.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT code FROM youths").fetchall() == [("J-014",)]
    with pytest.raises(sqlite3.IntegrityError):
        conn = sqlite3.connect(tmp_path / "live.sqlite3")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("INSERT INTO youths (code, therapist_code, birth_year, language,"
                     " created_at) VALUES ('J-9', 'T-99', 2008, 'nl', 'x')")


async def _pending_row(store: Store) -> int:
    await store.add_therapist(Therapist("T-02", "nl"), NOW)
    await store.add_outbox([NewOutbox("report:T-02:2026-W48", Kind.REPORT, "k", NOW, NOW,
                                      NOW + timedelta(hours=36), therapist_code="T-02")], NOW)
    [item] = await store.due_items(NOW, 10)
    return item.id


async def test_sending_rows_are_leased_to_their_owner(tmp_path: Path) -> None:
    """Claim, lease, release: a second process on the same file never releases the rows
    the first is sending; only its own, and those whose lease ran out."""
    path = tmp_path / "two.sqlite3"
    first = await SqliteStore.open(path)
    second = await SqliteStore.open(path)
    try:
        row = await _pending_row(first)
        assert await first.claim(row, NOW, timedelta(minutes=10))
        assert not await second.claim(row, NOW), "claimed once"
        assert await second.release_sending(NOW + timedelta(minutes=9)) == 0, "not its row"
        assert await second.release_sending() == 0
        assert await second.due_items(NOW + timedelta(minutes=9), 10) == []
        assert await first.release_sending(NOW) == 1, "its own rows, whenever"
        assert await second.claim(row, NOW, timedelta(minutes=10))
        assert await first.sending_owners() == {second.owner}
        assert await first.release_sending(NOW + timedelta(minutes=9)) == 0
        assert await first.release_expired(NOW + timedelta(minutes=9)) == 0
        assert await first.release_sending(NOW + timedelta(minutes=10)) == 1, "lease ran out"
        assert [i.id for i in await first.due_items(NOW, 10)] == [row]
        assert await second.claim(row, NOW, timedelta(minutes=10))
        assert await first.release_expired(NOW + timedelta(minutes=10)) == 1, "every tick"
        assert await second.claim(row, NOW, timedelta(minutes=10))
        assert await first.release_sending(NOW, dead_owners={second.owner}) == 1, "died"
        assert await first.sending_owners() == set()
    finally:
        await first.close()
        await second.close()


def test_dead_owners_are_only_those_proven_dead() -> None:
    me = process_owner()
    host, pid, _ = me.rsplit(":", 2)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    gone = f"{host}:{child.stdout.strip()}:abcd1234"        # that process has exited
    earlier_me = f"{host}:{pid}:00000000"                   # our pid, another instance
    elsewhere = f"other-host:{child.stdout.strip()}:abcd1234"
    parent = f"{host}:{os.getppid()}:abcd1234"              # alive
    assert dead_owners([me, gone, earlier_me, elsewhere, parent, "garbage"], me) == {
        gone, earlier_me}


async def test_kiosk_codes_devices_and_channel_history(store: Store) -> None:
    """The kiosk's part of the contract: history in order, a digest clash refused, a code
    used once, wrong tries counted on the tablet and on the unit's live codes only."""
    from core.kiosk import Channel  # noqa: PLC0415 - the kiosk block of this contract
    from core.records import ChannelChange, NewKioskCode  # noqa: PLC0415

    await bound_youth(store)
    await store.add_youth(NewYouth("J-103", "T-02", 2013, "nl", False, None), NOW)
    assert await store.set_youth_pseudonym("J-103", "kiosk-abc")
    assert not await store.set_youth_pseudonym("J-103", "kiosk-def"), "kept once given"
    for n, channel in enumerate((Channel.KIOSK, Channel.BOTH)):
        await store.add_channel_change("J-103", ChannelChange(
            channel, NOW + timedelta(minutes=n), "coordinator:x", ""))
    assert [c.channel for c in await store.channel_history("J-103")] == [Channel.KIOSK,
                                                                         Channel.BOTH]
    checkin = await store.create_checkin(NewCheckin(
        "r" * 16, "kiosk-abc", "s1", None, "alliance-2", False, NOW, NOW + timedelta(hours=2)))
    assert await store.checkin_by_id(checkin.id) == checkin

    def code(digest: str, unit: str | None = "W-1") -> NewKioskCode:
        return NewKioskCode(digest, b"sealed", checkin.id, "J-103", "T-02", unit, NOW,
                            NOW + timedelta(minutes=30))

    first = await store.add_kiosk_code(code("d1"))
    assert first is not None
    assert await store.add_kiosk_code(code("d1")) is None, "a live code with that digest"
    device = await store.add_kiosk_device("t1", "W-1", "room", "coordinator:x", NOW)
    other_unit = await store.add_kiosk_device("t2", "W-2", "", "coordinator:x", NOW)
    assert (await store.kiosk_device("t1")) is not None
    assert await store.kiosk_code_by_digest("d1", "W-2") is None, "another unit's code"
    await store.kiosk_wrong_try(other_unit, 1, False, "W-2", NOW)
    await store.kiosk_wrong_try(device, 5, True, "W-1", NOW)
    found = await store.kiosk_code_by_digest("d1", "W-1")
    assert found is not None and found.state.failures == 1
    locked = await store.kiosk_device("t1")
    assert locked is not None and locked.state.failures == 5 and locked.state.locked_at
    assert await store.open_kiosk_session("s1", first, device, NOW)
    assert not await store.open_kiosk_session("s2", first, device, NOW), "once"
    unlocked = await store.kiosk_device("t1")
    assert unlocked is not None and unlocked.state.failures == 0, "a right code resets"
    session = await store.kiosk_session("s1")
    assert session is not None and session.code.code_enc is None, "sealed copy dropped"
    await store.touch_kiosk_session("s1", NOW + timedelta(seconds=30), crisis=True)
    await store.end_kiosk_session("s1", NOW + timedelta(seconds=40))
    ended = await store.kiosk_session("s1")
    assert ended is not None and ended.ended and ended.crisis
    assert await store.live_kiosk_codes(None, NOW) == []
    assert await store.erase_youth("J-103", NOW)
    assert await store.channel_history("J-103") == []
    assert await store.kiosk_session("s1") is None, "erased with the youth's check-ins"
    assert await store.kiosk_codes_of_checkin(checkin.id) == []
