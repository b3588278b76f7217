"""The leader among bot processes on one PostgreSQL database: a session advisory lock.

`pg_try_advisory_lock` on a connection of its own (not the pool's: a pooled connection
goes back to the pool, the lock would go with it). The lock lives as long as that
session: when the leader process dies, however it dies, its connection drops, the
server ends the session and the lock is free; another process takes it at its next
tick. While leading, each tick checks that the session is still there; a lost
connection is lost leadership (the lock went with it), and the next tick tries again.
Implements scheduler.leader.Leadership (core.cluster.advisory_key names the lock).

Urgent alerts: the process that stored one announces it (`pg_notify` on the channel
`URGENT_CHANNEL`), and every process listens on a connection of its own; the leader,
hearing it, delivers at once instead of at its next tick. A notice lost (a listener
reconnecting) costs only that wait: the next tick delivers it anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from core.cluster import advisory_key
from storage.postgres.urls import redacted, scrub, secrets_of

log = logging.getLogger(__name__)

LOCK_NAME = "vakbot-tick"
URGENT_CHANNEL = "vakbot_urgent"
RELISTEN_S = 1.0
CONNECT_TIMEOUT_S = 5
# A leader cut off by the network (no FIN, no RST) is noticed by the server within
# about idle + count * interval seconds; then its session and the lock are gone.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
             "keepalives_count": 3}


class AdvisoryLeadership:
    """Leads while holding the session advisory lock `LOCK_NAME` on `url`'s database."""

    shared = True

    def __init__(self, url: str, name: str = LOCK_NAME) -> None:
        self._url = url
        self._key = advisory_key(name)
        self._secrets = secrets_of(url)
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._held = False
        # One question at a time: the tick and the urgent-alert job both ask. Two asks at
        # once could each open a connection, and the one left over would hold (or lose)
        # the lock unseen: two leaders, or none.
        self._asking = asyncio.Lock()
        self._listening: asyncio.Task[None] | None = None

    async def lead(self) -> bool:
        async with self._asking:
            return await self._lead_once()

    async def _lead_once(self) -> bool:
        try:
            return await self._lead()
        except psycopg.Error as exc:
            reason = scrub(str(exc).strip().splitlines()[0] if str(exc).strip()
                           else type(exc).__name__, self._secrets)
            log.warning("the lead (PostgreSQL at %s) is lost or cannot be taken: %s",
                        redacted(self._url), reason)
            await self._drop()
            return False

    async def _lead(self) -> bool:
        if self._conn is None or self._conn.closed or self._conn.broken:
            await self._drop()
            self._conn = await self._connect()
        if self._held:
            # Our session still there means our lock still there.
            await self._conn.execute("SELECT 1")
            return True
        cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
        row = await cursor.fetchone()
        self._held = bool(row and row[0])
        return self._held

    async def _drop(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            try:
                await conn.close()
            except psycopg.Error:
                log.debug("closing a broken leader connection failed")

    async def close(self) -> None:
        """Give up the lead at stop: unlocked before the session closes (whose end the
        server handles in the background), so another process can take it at once."""
        if self._listening is not None:
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
            self._listening = None
        async with self._asking:
            await self._give_up()

    async def announce_urgent(self) -> None:
        """NOTIFY every listening process (after our own commit: autocommit)."""
        async with self._asking:
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    await self._drop()
                    self._conn = await self._connect()
                await self._conn.execute("SELECT pg_notify(%s, '')", (URGENT_CHANNEL,))
            except psycopg.Error as exc:
                log.warning("could not announce an urgent alert (the next tick sends it): "
                            "%s", scrub(type(exc).__name__, self._secrets))

    async def hear_urgent(self, heard: Callable[[], object]) -> None:
        """Listen on a connection of our own, in the background, until close()."""
        if self._listening is None:
            self._listening = asyncio.create_task(self._listen(heard),
                                                  name="urgent-notices")

    async def _listen(self, heard: Callable[[], object]) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo("vakbot-listener"), autocommit=True)
                try:
                    await conn.execute(f"LISTEN {URGENT_CHANNEL}")
                    async for _ in conn.notifies():
                        heard()
                finally:
                    await conn.close()
            except psycopg.Error as exc:
                log.warning("listening for urgent alerts failed (%s); again in %.0f s",
                            scrub(type(exc).__name__, self._secrets), RELISTEN_S)
                await asyncio.sleep(RELISTEN_S)

    def _conninfo(self, application: str) -> str:
        return psycopg.conninfo.make_conninfo(
            self._url, connect_timeout=CONNECT_TIMEOUT_S, application_name=application,
            **KEEPALIVE)

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(self._conninfo("vakbot-leader"),
                                                     autocommit=True)

    async def _give_up(self) -> None:
        if self._held and self._conn is not None and not self._conn.closed:
            try:
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            except psycopg.Error:
                log.debug("unlocking the lead failed; the session's end frees it")
        await self._drop()
