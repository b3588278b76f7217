"""Claims shared by processes on one database (storage/sql_cluster.py): two stores on one
database, on SQLite and on PostgreSQL (the same statements; only the row locks differ)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.cluster import UpdateClaim, UpdateState
from core.delivery import Kind
from core.records import NewOutbox, OutboxState, Therapist
from storage.owners import dead_owners
from storage.sql_store import SqlStore
from storage.sqlite import SqliteStore
from tests.pg_backend import open_postgres
from tests.test_two_processes_webhook import dead_pid

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _sqlite(folder: Path) -> SqlStore:
    return await SqliteStore.open(folder / "two.sqlite3")


OPENERS: dict[str, Callable[[Path], Awaitable[SqlStore]]] = {
    "sqlite": _sqlite, "postgres": open_postgres}


@pytest.fixture(params=sorted(OPENERS))
async def two(request: pytest.FixtureRequest,
              tmp_path: Path) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """Two processes' stores on one database (the same folder: the same database)."""
    first = await OPENERS[request.param](tmp_path)
    second = await OPENERS[request.param](tmp_path)
    yield first, second
    await first.close()
    await second.close()


async def test_an_update_is_claimed_once_and_then_only_acknowledged(
        two: tuple[SqlStore, SqlStore]) -> None:
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
        two: tuple[SqlStore, SqlStore]) -> None:
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
        two: tuple[SqlStore, SqlStore]) -> None:
    first, _ = two
    for update_id, at in ((1, NOW), (2, NOW + timedelta(days=3))):
        await first.claim_update(update_id, at, LEASE)
        await first.finish_update(update_id, at)
    await first.claim_update(3, NOW, LEASE)            # still claimed: kept
    assert await first.forget_updates(NOW + timedelta(days=1)) == 1
    assert set(await first.handled_updates()) == {2, 3}


async def _rows(store: SqlStore, count: int) -> None:
    await store.add_therapist(Therapist("T-02", "nl"), NOW)
    await store.add_outbox([
        NewOutbox(f"report:T-02:{n}", Kind.REPORT, f"k{n}", NOW + timedelta(seconds=n),
                  NOW, NOW + timedelta(hours=36), therapist_code="T-02")
        for n in range(count)], NOW)


async def test_due_rows_are_claimed_in_batches_by_one_process_each(
        two: tuple[SqlStore, SqlStore]) -> None:
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
    assert await first.still_claimed(mine[0].id) and not await second.still_claimed(mine[0].id)
    await second.finish(mine[1].id, OutboxState.SENT, later, "in the group message")
    assert not await first.still_claimed(mine[1].id), "closed since the claim"
    # put back (outside phone hours): pending again, the claim not counted as an attempt
    await second.put_back(theirs[0].id, later + timedelta(hours=1), "waiting")
    await first.put_back(theirs[1].id, later, "not mine: ignored")
    back = await first.db.one("SELECT state, attempts, owner, last_error FROM outbox"
                              " WHERE id = ?", (theirs[0].id,))
    kept = await first.db.one("SELECT state, owner FROM outbox WHERE id = ?",
                              (theirs[1].id,))
    assert back is not None and kept is not None
    assert [back[n] for n in range(4)] == ["pending", 0, None, "waiting"]
    assert [kept[0], kept[1]] == ["sending", second.owner]
    assert await first.claim_due(later, 10) == []
    assert [i.id for i in await first.claim_due(later + timedelta(hours=1), 10)] == [
        theirs[0].id]


async def test_an_unreadable_due_row_is_failed_and_the_rest_claimed(
        two: tuple[SqlStore, SqlStore]) -> None:
    first, _ = two
    await _rows(first, 3)
    async with first.db.write() as tx:
        await tx.run("UPDATE outbox SET expires_at = 'not a time'"
                     " WHERE dedupe_key = 'report:T-02:1'")
    claimed = await first.claim_due(NOW + timedelta(minutes=1), 10)
    assert len(claimed) == 2
    row = await first.db.one("SELECT state, owner, last_error FROM outbox"
                             " WHERE expires_at = 'not a time'")
    assert row is not None
    assert (row["state"], row["owner"]) == ("failed", None)
    assert row["last_error"].startswith("unreadable row")


async def test_rows_of_a_dead_process_are_released_by_a_live_one(
        two: tuple[SqlStore, SqlStore]) -> None:
    first, second = two
    await _rows(first, 4)
    host = first.owner.rsplit(":", 2)[0]
    second.owner = f"{host}:{dead_pid()}:dd"    # killed meanwhile
    held = await second.claim_due(NOW + timedelta(minutes=1), 3)
    mine = await first.claim_due(NOW + timedelta(minutes=1), 1)
    dead = dead_owners(await first.sending_owners(), first.owner)
    assert dead == {second.owner}
    assert await first.release_owners(dead) == len(held) == 3
    assert await first.still_claimed(mine[0].id), "its own rows stay"
    again = await first.claim_due(NOW + timedelta(minutes=1), 10)
    assert sorted(i.id for i in again) == sorted(i.id for i in held)

