"""Claims shared by processes on one database (storage/sql_cluster.py), here two stores on
one SQLite file; the same statements run on PostgreSQL (tests/test_two_processes_pg.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.cluster import UpdateClaim, UpdateState
from core.delivery import Kind
from core.records import NewOutbox, OutboxState, Therapist
from storage.sqlite import SqliteStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    first = await SqliteStore.open(tmp_path / "two.sqlite3")
    second = await SqliteStore.open(tmp_path / "two.sqlite3")
    yield first, second
    await first.close()
    await second.close()


async def test_an_update_is_claimed_once_and_then_only_acknowledged(
        two: tuple[SqliteStore, SqliteStore]) -> None:
    first, second = two
    assert await first.claim_update(7, NOW, LEASE) == UpdateClaim(UpdateState.CLAIMED,
                                                                   first.owner)
    # the other process, and a second arrival at the holder itself, wait for it
    assert await second.claim_update(7, NOW, LEASE) == UpdateClaim(UpdateState.BUSY,
                                                                    first.owner)
    assert await first.claim_update(7, NOW, LEASE) == UpdateClaim(UpdateState.BUSY,
                                                                   first.owner)
    assert not await second.finish_update(7, NOW), "not its claim"
    assert await first.finish_update(7, NOW)
    for store in (first, second):
        assert await store.claim_update(7, NOW + timedelta(hours=1), LEASE) == UpdateClaim(
            UpdateState.DONE)
    assert await first.handled_updates() == {7: "2026-11-28T12:00:00.000000+00:00"}


async def test_a_dead_holder_is_taken_over_at_once_a_silent_one_after_its_lease(
        two: tuple[SqliteStore, SqliteStore]) -> None:
    first, second = two
    assert (await first.claim_update(8, NOW, LEASE)).state is UpdateState.CLAIMED
    assert (await second.claim_update(8, NOW, LEASE, take_from="someone else")).state is (
        UpdateState.BUSY)
    taken = await second.claim_update(8, NOW, LEASE, take_from=first.owner)
    assert taken == UpdateClaim(UpdateState.CLAIMED, second.owner)
    assert not await first.finish_update(8, NOW), "the first lost its claim"
    # a holder that cannot be told dead: its lease runs out, then anyone may
    assert (await first.claim_update(9, NOW, LEASE)).state is UpdateState.CLAIMED
    assert (await second.claim_update(9, NOW + LEASE - timedelta(seconds=1), LEASE)
            ).state is UpdateState.BUSY
    assert (await second.claim_update(9, NOW + LEASE, LEASE)).state is UpdateState.CLAIMED
    assert await second.finish_update(9, NOW + LEASE)
    assert await second.finish_update(8, NOW)


async def test_done_updates_are_forgotten_after_a_while(
        two: tuple[SqliteStore, SqliteStore]) -> None:
    first, _ = two
    for update_id, at in ((1, NOW), (2, NOW + timedelta(days=3))):
        await first.claim_update(update_id, at, LEASE)
        await first.finish_update(update_id, at)
    await first.claim_update(3, NOW, LEASE)            # still claimed: kept
    assert await first.forget_updates(NOW + timedelta(days=1)) == 1
    assert set(await first.handled_updates()) == {2, 3}


async def _rows(store: SqliteStore, count: int) -> None:
    await store.add_therapist(Therapist("T-02", "nl"), NOW)
    await store.add_outbox([
        NewOutbox(f"report:T-02:{n}", Kind.REPORT, f"k{n}", NOW + timedelta(seconds=n),
                  NOW, NOW + timedelta(hours=36), therapist_code="T-02")
        for n in range(count)], NOW)


async def test_due_rows_are_claimed_in_batches_by_one_process_each(
        two: tuple[SqliteStore, SqliteStore], tmp_path: Path) -> None:
    first, second = two
    await _rows(first, 5)
    later = NOW + timedelta(minutes=1)
    mine = await first.claim_due(later, 3, timedelta(minutes=10))
    theirs = await second.claim_due(later, 3, timedelta(minutes=10))
    assert [i.due_at for i in mine] == sorted(i.due_at for i in mine), "oldest first"
    assert len(mine) == 3 and len(theirs) == 2
    assert not {i.id for i in mine} & {i.id for i in theirs}
    assert all(i.state is OutboxState.SENDING and i.attempts == 0 for i in mine + theirs)
    assert await first.claim_due(later, 10) == []
    assert await first.sending_owners() == {first.owner, second.owner}
    # put back (outside phone hours): pending again, the claim not counted as an attempt
    await second.put_back(theirs[0].id, later + timedelta(hours=1), "waiting")
    await first.put_back(theirs[1].id, later, "not mine: ignored")
    with sqlite3.connect(tmp_path / "two.sqlite3") as conn:
        back = conn.execute("SELECT state, attempts, owner, last_error FROM outbox"
                            " WHERE id = ?", (theirs[0].id,)).fetchone()
        kept = conn.execute("SELECT state, owner FROM outbox WHERE id = ?",
                            (theirs[1].id,)).fetchone()
    assert back == ("pending", 0, None, "waiting")
    assert kept == ("sending", second.owner)
    assert await first.claim_due(later, 10) == []
    assert [i.id for i in await first.claim_due(later + timedelta(hours=1), 10)] == [
        theirs[0].id]


async def test_an_unreadable_due_row_is_failed_and_the_rest_claimed(
        two: tuple[SqliteStore, SqliteStore], tmp_path: Path) -> None:
    first, _ = two
    await _rows(first, 3)
    with sqlite3.connect(tmp_path / "two.sqlite3") as conn:
        conn.execute("UPDATE outbox SET expires_at = 'not a time'"
                     " WHERE dedupe_key = 'report:T-02:1'")
    claimed = await first.claim_due(NOW + timedelta(minutes=1), 10)
    assert len(claimed) == 2
    with sqlite3.connect(tmp_path / "two.sqlite3") as conn:
        state, owner, error = conn.execute(
            "SELECT state, owner, last_error FROM outbox WHERE expires_at = 'not a time'"
        ).fetchone()
    assert (state, owner) == ("failed", None) and error.startswith("unreadable row")
