"""Group commit: write transactions that queue up at once share one COMMIT.

Why: SQLite has one writer, and with `synchronous = FULL` every COMMIT waits for an
fsync (about 4 ms on the 2-core CI machine's disk). When 200 youths tap at the same
moment, each tap's few commits queue behind each other: the last youth's answer is
stored some 2.4 s after the first, whatever else the bot does. The disk, not the CPU,
sets the pace, and it could write many transactions in one sync.

How: a writer that finishes while others are already waiting hands its still-open
transaction to the next one instead of committing; the last in line (or the one that
fills the group) commits for all. Each writer's statements run inside a savepoint of
their own, so one whose block raises rolls back only its own part, exactly as if it had
been alone. `write()` returns only after the COMMIT that holds the writer's statements:
whatever a caller confirms after its write is durable, as before. A writer alone (no
one waiting) commits at once, so nothing waits for company.

If the COMMIT itself fails (a full disk, a deferred constraint), every writer of the
group gets that error: none of their statements were stored, and each caller's own
error path runs, as it would for its own failed COMMIT.

It needs only the adapter's own transaction (`transaction`, which begins, commits, and
rolls back on an exception) and a way to run one statement in it (`statement`), so it
sits in front of any backend's `write()`; SAVEPOINT / RELEASE / ROLLBACK TO run alike on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")

# Writers per COMMIT at most: bounds how long the first of a long queue waits for the
# sync that stores it (each writer's block takes a millisecond or two).
MOST_PER_COMMIT = 32


@dataclass
class _Group(Generic[C]):
    """One open transaction and the writers it holds."""

    opened: AbstractAsyncContextManager[C]
    conn: C
    done: asyncio.Future[None]
    members: int = 0
    broken: BaseException | None = None  # a savepoint statement failed: roll back all

    def savepoint(self) -> str:
        return f"group_writer_{self.members}"


class GroupCommit(Generic[C]):
    """`write()` like the backend's, with queued writers sharing one COMMIT."""

    def __init__(self, transaction: Callable[[], AbstractAsyncContextManager[C]],
                 statement: Callable[[C, str], Awaitable[object]],
                 most_per_commit: int = MOST_PER_COMMIT) -> None:
        self._transaction, self._statement = transaction, statement
        self._most = most_per_commit
        self._turn = asyncio.Lock()   # one writer's block at a time, as before
        self._queued = 0              # writers waiting for their turn
        self._group: _Group[C] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.commits = 0              # COMMITs made (tests, benchmarks)
        self.writes = 0               # writers committed

    @asynccontextmanager
    async def write(self) -> AsyncIterator[C]:
        """One writer's block in the current group; returns after its COMMIT."""
        self._queued += 1
        try:
            await self._turn.acquire()
        finally:
            self._queued -= 1
        try:
            group = await self._join()
        except BaseException:
            self._turn.release()
            raise
        try:
            name = group.savepoint()
            await self._run(group, f"SAVEPOINT {name}")
            try:
                yield group.conn
            except BaseException:
                await self._run(group, f"ROLLBACK TO SAVEPOINT {name}")
                await self._run(group, f"RELEASE SAVEPOINT {name}")
                raise
            await self._run(group, f"RELEASE SAVEPOINT {name}")
        finally:
            self._leave(group)
        await asyncio.shield(group.done)

    async def _run(self, group: _Group[C], sql: str) -> None:
        try:
            await self._statement(group.conn, sql)
        except BaseException as exc:
            group.broken = group.broken or exc
            raise

    async def _join(self) -> _Group[C]:
        """The open group, or a new transaction when there is none."""
        if self._group is None:
            opened = self._transaction()
            conn = await opened.__aenter__()
            self._group = _Group(opened, conn, asyncio.get_running_loop().create_future())
        self._group.members += 1
        return self._group

    def _leave(self, group: _Group[C]) -> None:
        """Hand the open transaction to the next writer, or commit it for all."""
        if group.broken is None and self._queued and group.members < self._most:
            self._turn.release()
            return
        self._group = None
        # The COMMIT runs in a task of its own: a cancelled writer must not leave the
        # others of its group waiting for a sync nobody finishes. It keeps the turn.
        task = asyncio.ensure_future(self._close(group))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, group: _Group[C]) -> None:
        try:
            if group.broken is not None:
                error = group.broken
                await group.opened.__aexit__(type(error), error, error.__traceback__)
                raise error
            await group.opened.__aexit__(None, None, None)
        except BaseException as exc:
            group.done.set_exception(exc)
        else:
            self.commits += 1
            self.writes += group.members
            group.done.set_result(None)
        finally:
            self._turn.release()
