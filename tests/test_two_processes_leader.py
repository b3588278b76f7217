"""One leader for the periodic work on PostgreSQL, taken over when it dies; and the
cluster claims (updates, due rows) on PostgreSQL with two processes' stores at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from core.cluster import UpdateState
from core.delivery import Kind
from core.records import NewOutbox, Therapist
from scheduler.leader import SoleProcess
from storage.postgres.leader import AdvisoryLeadership
from storage.postgres.store import PostgresStore
from tests.support import DEADLINE

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def test_sqlite_has_one_process_and_it_always_leads() -> None:
    sole = SoleProcess()
    assert not sole.shared
    assert await sole.lead() and await sole.lead()
    await sole.close()


async def test_one_leader_and_a_takeover_when_it_stops_or_dies(pg_url: str) -> None:
    first, second = AdvisoryLeadership(pg_url), AdvisoryLeadership(pg_url)
    store = await PostgresStore.open(pg_url)
    try:
        assert first.shared
        assert await first.lead()
        assert not await second.lead(), "one leader"
        assert await first.lead(), "and it stays leader"
        await first.close()                       # a stop: the lock goes with the session
        assert await second.lead(), "taken over at the next tick"
        assert not await first.lead()
        # The leader dies (its session ends as when the process is killed): the other
        # takes over; the old one finds it lost the lead.
        await store.db.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE application_name = 'vakbot-leader' AND pid IN"
                           " (SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                           " AND granted)")
        assert await _eventually(first.lead), "the other takes over"
        assert not await second.lead(), "the old leader lost its lead with its session"
        assert not await second.lead()
    finally:
        await first.close()
        await second.close()
        await store.close()


async def test_two_asks_at_once_leave_one_connection_holding_the_lock(pg_url: str) -> None:
    """The tick and the urgent-alert job may ask at the same moment (a fresh or lost
    connection): one session takes the lock, no orphaned session holds or frees it."""
    first, second = AdvisoryLeadership(pg_url), AdvisoryLeadership(pg_url)
    store = await PostgresStore.open(pg_url)
    try:
        assert await asyncio.gather(*(first.lead() for _ in range(4))) == [True] * 4
        sessions = await store.db.one(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name ="
            " 'vakbot-leader'")
        assert sessions is not None and sessions["n"] == 1, "one connection, no orphan"
        assert not await second.lead()
        assert await first.lead(), "the lock is on the connection it keeps asking on"
    finally:
        await first.close()
        await second.close()
        await store.close()


async def test_an_urgent_alert_announced_by_one_process_is_heard_by_the_others(
        pg_url: str) -> None:
    """The process that stored an urgent alert tells the others; the leader, hearing it,
    sends at once rather than at its next tick (bot/wiring.py wires both ends)."""
    storing, leader = AdvisoryLeadership(pg_url), AdvisoryLeadership(pg_url)
    heard = asyncio.Event()
    try:
        await leader.hear_urgent(heard.set)
        store = await PostgresStore.open(pg_url)

        async def listening() -> bool:   # LISTEN does not look back: announce after it
            return await store.db.one(
                "SELECT 1 FROM pg_stat_activity WHERE application_name ="
                " 'vakbot-listener' AND query LIKE 'LISTEN%'") is not None
        try:
            assert await _eventually(listening), "the listener is in"
        finally:
            await store.close()
        await storing.announce_urgent()
        await asyncio.wait_for(heard.wait(), DEADLINE)
    finally:
        await storing.close()
        await leader.close()
    await storing.announce_urgent()   # after close: nobody listens any more, no error
    await storing.close()


async def _eventually(lead: Callable[[], Awaitable[bool]]) -> bool:
    """The server ends a terminated session asynchronously: ask tick after tick, until
    the lead is taken or the deadline passes."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if await lead():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_updates_and_due_rows_are_claimed_once_across_processes(pg_url: str) -> None:
    first, second = await PostgresStore.open(pg_url), await PostgresStore.open(pg_url)
    try:
        claims = await asyncio.gather(*(store.claim_update(41, NOW)
                                        for store in (first, second, first, second)))
        assert sorted(c.state.value for c in claims) == ["busy", "busy", "busy", "claimed"]
        winner = first if any(c.owner == first.owner and c.state is UpdateState.CLAIMED
                              for c in claims) else second
        assert await winner.finish_update(41, NOW)
        assert (await first.claim_update(41, NOW)).state is UpdateState.DONE

        await first.add_therapist(Therapist("T-02", "nl"), NOW)
        await first.add_outbox([
            NewOutbox(f"report:T-02:{n}", Kind.REPORT, f"k{n}", NOW, NOW,
                      NOW + timedelta(hours=36), therapist_code="T-02") for n in range(60)],
            NOW)
        later = NOW + timedelta(minutes=1)
        batches = await asyncio.gather(*(store.claim_due(later, 7) for _ in range(6)
                                         for store in (first, second)))
        assert all(len(batch) <= 7 for batch in batches), "never more than the limit"
        ids = [item.id for batch in batches for item in batch]
        assert len(ids) == len(set(ids)), "no row claimed twice"
        rest = await first.claim_due(later, 100)
        assert len(ids) + len(rest) == 60
    finally:
        await first.close()
        await second.close()
