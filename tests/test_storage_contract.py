"""The storage contract, part one: enrolment, accounts and units; the coverage check;
and the few SQLite-only tests (migrations from a file, WAL, backup, process owners).

Every contract class derives from tests.storage_backends.StoreContract, so it runs on
each registered backend. The other parts are the tests/test_contract_*.py modules.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.delivery import Kind
from core.records import AlreadyExists, AnswerWrite, BindOutcome, NewYouth, Therapist, Unit
from storage.database import Migration, MigrationError, builtin_migrations
from storage.owners import dead_owners, process_owner
from storage.ports import Store
from tests.contract_coverage import (
    NOT_IN_CONTRACT,
    contract_classes,
    port_methods,
    store_calls,
)
from tests.contract_support import (
    CONSENT,
    DAY,
    NOW,
    bound_youth,
    new_alert,
    new_checkin,
    staff_row,
    therapist,
    weekly_series,
    youth,
)
from tests.storage_backends import BACKENDS, StoreContract, open_sqlite_file


class TestEnrolment(StoreContract):
    async def test_codes_are_unique(self, store: Store) -> None:
        await store.add_therapist(Therapist("T-02", "nl"), NOW)
        with pytest.raises(AlreadyExists):
            await store.add_therapist(Therapist("T-02", "en"), NOW)
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        with pytest.raises(AlreadyExists):
            await store.add_youth(NewYouth("J-1", "T-02", 2009, "nl", False, None), NOW)
        await store.add_unit("W-1", "nl", NOW)
        with pytest.raises(AlreadyExists):
            await store.add_unit("W-1", "en", NOW)
        assert await store.therapist("T-02") == Therapist("T-02", "nl"), "first one stands"

    async def test_people_read_back_as_enrolled(self, store: Store) -> None:
        for code, language in (("T-05", "en"), ("T-02", "nl")):
            await store.add_therapist(Therapist(code, language), NOW)  # type: ignore[arg-type]
        assert await store.therapist("T-05") == Therapist("T-05", "en")
        assert await store.therapist("T-99") is None
        assert await store.all_therapists() == [Therapist("T-02", "nl"), Therapist("T-05", "en")]
        await store.add_youth(NewYouth("J-2", "T-02", 2010, "en", True, date(2026, 1, 5)), NOW)
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        j2 = await store.youth_by_code("J-2")
        assert j2 is not None
        assert (j2.therapist_code, j2.birth_year, j2.language, j2.simple_mode,
                j2.guardian_consent_date, j2.pseudonym, j2.paused) == (
            "T-02", 2010, "en", True, date(2026, 1, 5), None, False)
        assert await store.youth_by_code("J-9") is None
        assert [y.code for y in await store.youths_of("T-02")] == ["J-1", "J-2"]
        assert await store.youths_of("T-05") == []
        assert await store.youth_by_pseudonym("p1") is None

    async def test_invite_binds_once(self, store: Store) -> None:
        await bound_youth(store)
        youth_ = await store.youth_by_pseudonym("p1")
        assert youth_ is not None and youth_.code == "J-014" and not youth_.paused
        assert await store.contact("p1") == b"sealed"
        invite = await store.invite("d-J-014")
        assert invite is not None
        assert (invite.role, invite.subject_code, invite.expires_at, invite.used_at) == (
            "youth", "J-014", NOW + 14 * DAY, NOW)
        assert await store.invite("nope") is None
        assert await store.bind_youth("d-J-014", "p2", b"x", CONSENT, NOW) is BindOutcome.USED
        assert await store.bind_youth("nope", "p2", b"x", CONSENT, NOW) is BindOutcome.UNKNOWN
        assert await store.contact("p2") is None
        assert await store.has_consent("p1", "participation"), "consent stored with the bind"

    async def test_an_account_is_one_youth(self, store: Store) -> None:
        await bound_youth(store)
        await youth(store, "J-015")
        await store.add_invite("d2", "youth", "J-015", NOW, NOW + DAY)
        assert await store.bind_youth("d2", "p1", b"x", CONSENT, NOW) is (
            BindOutcome.ALREADY_BOUND)
        other = await store.youth_by_code("J-015")
        assert other is not None and other.pseudonym is None
        invite = await store.invite("d2")
        assert invite is not None and invite.used_at is None, "nothing changed"

    async def test_one_live_account_per_code(self, store: Store) -> None:
        await youth(store)
        later = NOW + 14 * DAY
        assert await store.add_invite("d1", "youth", "J-014", NOW, later) == 0
        assert await store.add_invite("d2", "youth", "J-014", NOW, later) == 1
        assert await store.bind_youth("d1", "p0", b"x", CONSENT, NOW) is BindOutcome.USED
        assert await store.bind_youth("d2", "p1", b"s", CONSENT, NOW) is BindOutcome.BOUND
        # An invite stored next to the live account still cannot take it over.
        await store.add_invite("d3", "youth", "J-014", NOW, later)
        assert await store.bind_youth("d3", "p2", b"x", CONSENT, NOW) is BindOutcome.TAKEN
        assert await store.contact("p2") is None
        assert (await store.invite("d3")) is not None

    async def test_expired_invite_binds_nothing(self, store: Store) -> None:
        await youth(store, "J-1")
        await store.add_invite("d", "youth", "J-1", NOW - 20 * DAY, NOW)
        assert await store.bind_youth("d", "p", b"x", CONSENT, NOW) is BindOutcome.EXPIRED
        found = await store.youth_by_code("J-1")
        assert found is not None and found.pseudonym is None
        assert await store.contact("p") is None

    async def test_open_invites_until_when(self, store: Store) -> None:
        await youth(store, "J-1")
        await youth(store, "J-2")
        await store.add_invite("a", "youth", "J-1", NOW, NOW + DAY)
        await store.add_invite("b", "youth", "J-2", NOW - 3 * DAY, NOW - DAY)   # expired
        await store.add_invite("t", "therapist", "T-02", NOW, NOW + 2 * DAY)
        assert await store.open_invites(NOW) == {("youth", "J-1"): NOW + DAY,
                                                 ("therapist", "T-02"): NOW + 2 * DAY}
        assert await store.bind_therapist("t", "pt", b"s", NOW) is BindOutcome.BOUND
        assert await store.open_invites(NOW) == {("youth", "J-1"): NOW + DAY}
        assert await store.open_invites(NOW + DAY) == {}

    async def test_pause(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.set_paused("p1", True)
        assert not await store.set_paused("p1", True)
        paused = await store.youth_by_code("J-014")
        assert paused is not None and paused.paused
        assert await store.set_paused("p1", False)
        assert not await store.set_paused("nobody", True)

    async def test_unbinding_a_youth_keeps_their_history_for_the_next_account(
            self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        await store.record_answer(AnswerWrite(checkin.id, 0, "bond", "4", "alliance-1", True,
                                              False), NOW)
        await store.add_invite("open", "youth", "J-014", NOW, NOW + DAY)
        assert await store.unbind_youth("J-014", NOW)
        assert await store.youth_by_pseudonym("p1") is None
        assert await store.contact("p1") is None
        assert await store.consents_of("p1") == []
        assert await store.bind_youth("open", "p9", b"x", CONSENT, NOW) is BindOutcome.USED
        assert not await store.unbind_youth("J-404", NOW)
        await store.add_invite("new", "youth", "J-014", NOW, NOW + DAY)
        assert await store.bind_youth("new", "p9", b"n", CONSENT, NOW) is BindOutcome.BOUND
        assert [r.scope for r in await store.consents_of("p9")] == ["participation"] * 2
        found = await store.youth_by_pseudonym("p9")
        assert found is not None and found.code == "J-014"
        [record] = await store.checkins_of("p9")
        assert record.answers == {"bond": "4"}, "the check-in followed to the new account"
        assert (await store.checkin_by_ref("R" * 16)) is not None
        assert await store.checkins_of("p1") == []

    async def test_unbinding_twice_finds_nothing_linked(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.unbind_youth("J-014", NOW)
        assert not await store.unbind_youth("J-014", NOW), "nothing linked any more"

    async def test_unbind_staff_and_move_youths(self, store: Store) -> None:
        for code in ("T-02", "T-05"):
            await therapist(store, code)
        later = NOW + 14 * DAY
        assert await store.therapist_pseudonym("T-02") is None
        await store.add_invite("t1", "therapist", "T-02", NOW, later)
        assert await store.bind_therapist("t1", "pt", b"s", NOW) is BindOutcome.BOUND
        assert await store.therapist_pseudonym("T-02") == "pt"
        assert await store.therapist_by_pseudonym("pt") == Therapist("T-02", "nl")
        assert await store.contact("pt") == b"s"
        await store.add_invite("t2", "therapist", "T-02", NOW, later)
        assert await store.bind_therapist("t2", "pq", b"s", NOW) is BindOutcome.TAKEN
        assert await store.unbind_therapist("T-02", NOW)
        assert await store.therapist_by_pseudonym("pt") is None
        assert await store.therapist_pseudonym("T-02") != "pt"
        assert await store.contact("pt") is None
        assert not await store.unbind_therapist("T-02", NOW)
        assert await store.bind_therapist("t2", "pq", b"s", NOW) is BindOutcome.USED, "revoked"
        await store.add_invite("t3", "therapist", "T-02", NOW, later)
        assert await store.bind_therapist("t3", "pq", b"q", NOW) is BindOutcome.BOUND
        assert await store.therapist_by_pseudonym("pq") == Therapist("T-02", "nl")
        await store.add_youth(NewYouth("J-1", "T-02", 2008, "nl", False, None), NOW)
        assert await store.move_youths("T-02", "T-05", NOW) == ["J-1"]
        assert [y.code for y in await store.youths_of("T-05")] == ["J-1"]
        assert await store.youths_of("T-02") == []
        assert await store.move_youths("T-02", "T-05", NOW) == []

    async def test_a_caseload_moves_with_what_is_still_to_come(self, store: Store) -> None:
        await therapist(store, "T-05")
        await bound_youth(store, "J-1", "p1")
        series_id = await store.add_series(weekly_series("T-02", "J-1"), NOW)
        await store.add_alert(new_alert("OPEN" * 4, "J-1"), NOW)
        await store.add_alert(new_alert("SEEN" * 4, "J-1"), NOW)
        assert await store.ack_alert("SEEN" * 4, NOW)
        await store.add_outbox([
            staff_row("rating:future", Kind.RATING, NOW + DAY, youth_code="J-1",
                      ref="F" * 16),
            staff_row("rating:held", Kind.RATING, NOW - DAY, youth_code="J-1",
                      ref="H" * 16)], NOW)
        assert await store.move_youths("T-02", "T-05", NOW) == ["J-1"]
        [moved] = [s for s in await store.all_series() if s.id == series_id]
        assert moved.therapist_code == "T-05"
        open_alert, seen = (await store.alert_by_ref("OPEN" * 4), await store.alert_by_ref(
            "SEEN" * 4))
        assert open_alert is not None and open_alert.therapist_code == "T-05"
        assert seen is not None and seen.therapist_code == "T-02", "acknowledged: stays"
        future, held = await store.outbox_by_ref("F" * 16), await store.outbox_by_ref("H" * 16)
        assert future is not None and future.therapist_code == "T-05"
        assert held is not None and held.therapist_code == "T-02", "held: stays"

    async def test_one_youth_moves_alone_and_a_group_series_stays(self, store: Store) -> None:
        await therapist(store, "T-05")
        await youth(store, "J-1")
        await youth(store, "J-2")
        own = await store.add_series(weekly_series("T-02", "J-1"), NOW)
        group = await store.add_series(weekly_series("T-02", "J-1", "J-2"), NOW)
        await store.add_alert(new_alert("A" * 16, "J-1"), NOW)
        await store.add_alert(new_alert("B" * 16, "J-2"), NOW)
        assert await store.move_youth("J-1", "T-05", NOW)
        assert not await store.move_youth("J-1", "T-05", NOW), "already theirs"
        assert not await store.move_youth("J-404", "T-05", NOW)
        j1, j2 = await store.youth_by_code("J-1"), await store.youth_by_code("J-2")
        assert j1 is not None and j1.therapist_code == "T-05"
        assert j2 is not None and j2.therapist_code == "T-02"
        series = {s.id: s.therapist_code for s in await store.all_series()}
        assert series == {own: "T-05", group: "T-02"}
        a, b = await store.alert_by_ref("A" * 16), await store.alert_by_ref("B" * 16)
        assert a is not None and a.therapist_code == "T-05"
        assert b is not None and b.therapist_code == "T-02"

    async def test_units_and_their_contacts(self, store: Store) -> None:
        assert await store.all_units() == []
        await store.add_unit("W-2", "en", NOW)
        await store.add_unit("W-1", "nl", NOW)
        assert await store.unit("W-1") == Unit("W-1", "nl", None)
        assert await store.unit("W-9") is None
        assert await store.all_units() == [Unit("W-1", "nl", None), Unit("W-2", "en", None)]
        await store.add_invite("u1", "unit", "W-1", NOW, NOW + DAY)
        await store.add_invite("u2", "unit", "W-2", NOW, NOW + DAY)
        assert await store.bind_unit("u1", "pu", b"s", NOW) is BindOutcome.BOUND
        assert await store.bind_unit("u2", "pu", b"s", NOW) is BindOutcome.BOUND
        assert [u.code for u in await store.units_of_contact("pu")] == ["W-1", "W-2"]
        assert await store.unit("W-1") == Unit("W-1", "nl", "pu")
        assert await store.contact("pu") == b"s"
        assert await store.unbind_unit("W-1", NOW)
        assert not await store.unbind_unit("W-1", NOW)
        assert [u.code for u in await store.units_of_contact("pu")] == ["W-2"]
        assert await store.contact("pu") == b"s", "still W-2's phone"
        assert await store.unbind_unit("W-2", NOW)
        assert await store.units_of_contact("pu") == []
        assert await store.contact("pu") is None

    async def test_a_youths_unit(self, store: Store) -> None:
        await youth(store, "J-1")
        await youth(store, "J-2")
        assert await store.youth_unit("J-1") is None
        assert await store.set_unit("J-1", "W-1")
        assert not await store.set_unit("J-404", "W-1")
        assert await store.youth_unit("J-1") == "W-1"
        assert await store.youth_unit("J-404") is None
        assert await store.youth_units() == {"J-1": "W-1", "J-2": None}
        assert [y.code for y in await store.active_youths()] == ["J-1", "J-2"]
        assert await store.erase_youth("J-2", NOW)
        assert [y.code for y in await store.active_youths()] == ["J-1"]


class TestLeases(StoreContract):
    async def test_sending_rows_are_leased_to_their_owner(self, store: Store,
                                                          other: Store) -> None:
        """Claim, lease, release: a second process on the same database never releases
        the rows the first is sending; only its own, and those whose lease ran out."""
        first, second = store, other
        assert first.owner != second.owner
        await therapist(first)
        await first.add_outbox([staff_row("report:T-02:2026-W48", Kind.REPORT, NOW)], NOW)
        [item] = await first.due_items(NOW, 10)
        row = item.id
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


# -- coverage: every port method is called by some contract test -------------------------

CONTRACT_MODULES = [Path(__file__), *sorted(Path(__file__).parent.glob("test_contract_*.py")),
                    Path(__file__).parent / "storage_backends.py"]


def called_methods(path: Path) -> set[str]:
    """Port methods called inside the contract classes of one module: those run on every
    backend, the SQLite-only functions do not."""
    called: set[str] = set()
    for cls in contract_classes(path):
        called |= store_calls(cls)
    return called


def test_every_port_method_is_in_the_contract() -> None:
    methods = port_methods()
    assert len(methods) > 100, "the Store protocol was not read"
    assert len(CONTRACT_MODULES) > 3, "the contract modules were not found"
    called: set[str] = set()
    for module in CONTRACT_MODULES:
        called |= called_methods(module)
    missing = sorted(methods - called - NOT_IN_CONTRACT.keys())
    assert not missing, (f"{len(missing)} Store port method(s) no contract test calls: "
                         + ", ".join(missing))


def test_the_coverage_check_counts_only_calls_in_contract_classes(tmp_path: Path) -> None:
    module = tmp_path / "test_contract_sample.py"
    module.write_text(
        "class TestX(StoreContract):\n"
        "    async def test_a(self, store):\n"
        "        assert await store.youth_by_code('J-1') is None\n"
        "        await other.claim(1, NOW)\n"
        "        helper.contact('p')\n"
        "class Plain:\n"
        "    async def test_b(self, store):\n"
        "        await store.erase_youth('J-1', NOW)\n"
        "async def test_c(store):\n"
        "    await store.compliance(NOW)\n")
    assert called_methods(module) == {"youth_by_code", "claim"}


def test_every_backend_is_registered_by_name() -> None:
    assert "sqlite" in BACKENDS
    assert all(name == name.lower() and callable(opener) for name, opener in BACKENDS.items())


# -- SQLite only: the file, its journal and its processes -------------------------------

async def test_failed_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    opened = await open_sqlite_file(path)
    await opened.close()
    before = path.read_bytes()
    latest = builtin_migrations()[-1].version   # numbers may have gaps
    broken = [*builtin_migrations(), Migration(latest + 1, "broken",
              "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);")]
    with pytest.raises(MigrationError, match="broken"):
        await open_sqlite_file(path, broken)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (latest,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables
    assert path.read_bytes() == before


async def test_wal_foreign_keys_and_backup(tmp_path: Path) -> None:
    opened = await open_sqlite_file(tmp_path / "live.sqlite3")
    await bound_youth(opened)
    await opened.backup(tmp_path / "copy.sqlite3")
    await opened.close()
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


def test_dead_owners_are_only_those_proven_dead() -> None:
    me = process_owner()
    host, pid, _ = me.rsplit(":", 2)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    gone = f"{host}:{child.stdout.strip()}:abcd1234"        # that process has exited
    earlier_me = f"{host}:{pid}:00000000"                   # our pid, another instance
    elsewhere = f"other-host:{child.stdout.strip()}:abcd1234"
    parent = f"{host}:{os.getppid()}:abcd1234"              # alive
    # same hostname, another pid namespace (a container on the host's network)
    other_namespace = f"{host.split('~')[0]}~1:{child.stdout.strip()}:abcd1234"
    assert dead_owners([me, gone, earlier_me, elsewhere, parent, "garbage",
                        other_namespace], me) == {gone, earlier_me}
