"""The storage contract, cluster part: webhook updates claimed by id and marked done, due
rows claimed in batches, put back, released from a dead process (storage.ports.ClusterRepo).
Every backend; two processes on one database where the backend has them."""

from __future__ import annotations

from datetime import timedelta

from core.cluster import UpdateClaim, UpdateState
from core.delivery import Kind
from core.records import NewOutbox, OutboxState
from storage.ports import Store
from tests.contract_support import NOW, therapist
from tests.storage_backends import StoreContract

LEASE = timedelta(minutes=2)
LATER = NOW + timedelta(minutes=1)


async def report_rows(store: Store, count: int) -> None:
    await therapist(store)
    await store.add_outbox([
        NewOutbox(f"report:T-02:{n}", Kind.REPORT, f"k{n}", NOW + timedelta(seconds=n),
                  NOW, NOW + timedelta(hours=36), therapist_code="T-02")
        for n in range(count)], NOW)


class TestCluster(StoreContract):
    async def test_an_update_is_claimed_once_handled_once_then_forgotten(
            self, store: Store) -> None:
        assert await store.claim_update(7, NOW, LEASE) == UpdateClaim(UpdateState.CLAIMED,
                                                                       store.owner)
        assert await store.claim_update(7, NOW, LEASE) == UpdateClaim(UpdateState.BUSY,
                                                                       store.owner)
        assert await store.handled_updates() == {7: ""}, "claimed, not yet done"
        assert await store.finish_update(7, NOW)
        assert not await store.finish_update(7, NOW), "done once"
        assert await store.claim_update(7, NOW + timedelta(hours=1), LEASE) == UpdateClaim(
            UpdateState.DONE)
        # a silent holder's claim runs out with its lease; a dead one is taken from at once
        await store.claim_update(8, NOW, LEASE)
        assert (await store.claim_update(8, NOW + LEASE, LEASE)).state is UpdateState.CLAIMED
        assert (await store.claim_update(9, NOW, LEASE, take_from=store.owner)).state is (
            UpdateState.CLAIMED)
        await store.finish_update(8, NOW + LEASE)
        assert await store.forget_updates(NOW + timedelta(minutes=1)) == 1   # only 7
        assert set(await store.handled_updates()) == {8, 9}

    async def test_due_rows_are_claimed_in_batches_oldest_first(self, store: Store) -> None:
        await report_rows(store, 5)
        first = await store.claim_due(LATER, 3, timedelta(minutes=10))
        assert [i.occurrence_key for i in first] == ["k0", "k1", "k2"]
        assert all(i.state is OutboxState.SENDING and i.attempts == 0 for i in first)
        rest = await store.claim_due(LATER, 10)
        assert len(rest) == 2 and await store.claim_due(LATER, 10) == []
        assert await store.sending_owners() == {store.owner}
        assert await store.still_claimed(first[0].id)
        await store.finish(first[1].id, OutboxState.SENT, LATER, "in the group message")
        assert not await store.still_claimed(first[1].id), "closed since the claim"
        # outside phone hours: back to pending, due later, the claim not an attempt
        await store.put_back(rest[0].id, LATER + timedelta(hours=1), "waiting")
        assert await store.claim_due(LATER, 10) == []
        again = await store.claim_due(LATER + timedelta(hours=1), 10)
        assert [(i.id, i.attempts) for i in again] == [(rest[0].id, 0)]

    async def test_rows_of_a_dead_owner_go_back_to_pending(self, store: Store) -> None:
        await report_rows(store, 2)
        held = await store.claim_due(LATER, 10)
        assert await store.release_owners({"someone-else"}) == 0
        assert await store.release_owners({store.owner}) == len(held) == 2
        assert not await store.still_claimed(held[0].id)
        assert len(await store.claim_due(LATER, 10)) == 2

    async def test_two_processes_claim_disjoint_rows_and_updates(
            self, store: Store, other: Store) -> None:
        await report_rows(store, 5)
        mine = await store.claim_due(LATER, 3)
        theirs = await other.claim_due(LATER, 3)
        assert len(mine) == 3 and len(theirs) == 2
        assert not {i.id for i in mine} & {i.id for i in theirs}
        assert not await other.still_claimed(mine[0].id)
        await store.put_back(theirs[0].id, LATER, "not mine: ignored")
        assert await other.still_claimed(theirs[0].id)
        assert (await store.claim_update(5, NOW, LEASE)).state is UpdateState.CLAIMED
        assert await other.claim_update(5, NOW, LEASE) == UpdateClaim(UpdateState.BUSY,
                                                                       store.owner)
        assert not await other.finish_update(5, NOW), "not its claim"
