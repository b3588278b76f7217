"""The SQLite adapter of storage.sql.Database: WAL, foreign keys, one writer, versioned
migrations, and the SQLite-only tools (WAL checkpoint, online backup).

This is the one module that imports aiosqlite: every repository talks to the database
through storage.sql, so the same queries run on PostgreSQL (storage/postgres/).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar, cast

import aiosqlite

from storage.private_files import UnsafeTarget, commit_temp, private_dir, same_file, temp_beside
from storage.sql import Dialect, IntegrityViolation, Row, Sql


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


BUSY_TIMEOUT_MS = 10000
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


def builtin_migrations() -> list[Migration]:
    """Return the migrations shipped in storage/migrations, in order."""
    found: list[Migration] = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        if m := _MIGRATION_FILE.fullmatch(entry.name):
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    # No gaps: a database records only its highest version, so a number skipped now and
    # filled later would never run on it.
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


class MigrationError(RuntimeError):
    """A migration failed; the database file was left at its previous version."""


T = TypeVar("T")


def _first(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        return cast(Row | None, cursor.fetchone())
    finally:
        cursor.close()


def _every(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return cast(list[Row], cursor.fetchall())
    finally:
        cursor.close()


def _changed(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


class SqliteSql:
    """storage.sql.Sql on one aiosqlite connection; sqlite3.IntegrityError becomes
    storage.sql.IntegrityViolation, so repositories never see the driver's errors.

    Each statement is one trip to aiosqlite's thread (execute, fetch and close there
    together), not two or three (execute, fetchone, close: one each). Every trip waits
    for its turn on that thread and then for the event loop; when 200 youths tap at once
    the write transactions queue behind one another, each held open across its trips,
    and the next questions waited for them: with one trip a statement, the 200-youth
    burst's p99 went from about 450 to 300 ms (bench/latency.py, issue 16).
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _on_thread(self, work: Callable[[sqlite3.Connection, str, Sequence[object]], T],
                         sql: str, params: Sequence[object]) -> T:
        """`work` on the connection's own thread, in one trip. aiosqlite has no public
        call for that; `_execute` is how its own `execute_fetchall` does it."""
        run = cast(Callable[..., Awaitable[T]], self.conn._execute)
        try:
            return await run(work, self.conn._conn, sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        return await self._on_thread(_first, sql, params)

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return await self._on_thread(_every, sql, params)

    async def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return await self._on_thread(_changed, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        try:
            await self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc


class _Transaction(SqliteSql):
    """The statements of one write transaction. `BEGIN IMMEDIATE` goes with the first of
    them, in the same trip to aiosqlite's thread: the transaction is held open for one
    trip fewer (SqliteSql says why trips count)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self.tried = self.begun = False

    async def roll_back(self) -> None:
        """Roll back if a transaction is open, checked on the connection's thread after
        every trip before it (a cancelled first trip may still begin one)."""
        def roll_back(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> None:
            if conn.in_transaction:
                conn.execute(sql).close()

        await super()._on_thread(roll_back, "ROLLBACK", ())

    async def _on_thread(self, work: Callable[[sqlite3.Connection, str, Sequence[object]], T],
                         sql: str, params: Sequence[object]) -> T:
        if self.begun:
            return await super()._on_thread(work, sql, params)
        self.tried = True

        def begin_then(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> T:
            conn.execute("BEGIN IMMEDIATE").close()
            self.begun = True   # read on the loop once this trip is back
            return work(conn, sql, params)

        return await super()._on_thread(begin_then, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        if not self.begun:
            self.tried = True
            await self.conn.execute("BEGIN IMMEDIATE")
            self.begun = True
        await super().run_many(sql, rows)


class SqliteDatabase(SqliteSql):
    """storage.sql.Database on one aiosqlite connection. Writes go through `write()`, one
    at a time.

    The lock is held only for the duration of a transaction, never across a Telegram
    call: callers read or write, release, and only then talk to the network.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path, migrations: Sequence[Migration] | None = None
    ) -> SqliteDatabase:
        private_dir(path.parent)
        # Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the
        # database file's mode, so they are private too, whatever the process umask.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA secure_delete = ON")
            db = cls(conn)
            await db.migrate(builtin_migrations() if migrations is None else migrations)
        except BaseException:
            await conn.close()
            raise
        return db

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply every migration newer than the file, each in its own transaction."""
        current = await self.schema_version()
        for mig in migrations:
            if mig.version <= current:
                continue
            async with self._write_lock:
                try:
                    await self.conn.executescript(
                        f"BEGIN IMMEDIATE;\n{mig.sql}\n;PRAGMA user_version = {mig.version};"
                    )
                    await self.conn.execute("COMMIT")
                except Exception as exc:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise MigrationError(
                        f"migration {mig.version:04d}_{mig.name} failed: {exc}"
                    ) from exc

    def write(self, *, serial: bool = True) -> AbstractAsyncContextManager[Sql]:
        """One write transaction; commit on success, roll back on any error.

        SQLite has one writer whatever `serial` says: every transaction takes the lock.
        """
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Sql]:
        async with self._write_lock:
            transaction = _Transaction(self.conn)
            try:
                yield transaction
            except BaseException:
                if transaction.tried:   # begun, or begins in a trip still on its way
                    await transaction.roll_back()
                raise
            if not transaction.begun:
                return   # nothing was read or written: nothing to commit
            try:
                await self.conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:   # a deferred foreign key
                await self.conn.execute("ROLLBACK")
                raise IntegrityViolation(str(exc)) from exc

    async def checkpoint_truncate(self) -> bool:
        """One `wal_checkpoint(TRUNCATE)` without waiting; True when it completed.

        With the usual busy timeout a reader would block every statement of the bot for
        10 s per attempt; here a busy WAL is answered at once and the caller retries.
        """
        async with self._write_lock:
            await self.conn.execute("PRAGMA busy_timeout = 0")
            try:
                async with self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    row = await cur.fetchone()
            finally:
                await self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return row is not None and row[0] == 0

    async def backup(self, target: Path) -> None:
        """Copy the live database with SQLite's online backup API, all or nothing.

        The copy goes to a 0600 temporary file beside the target, is fsynced and renamed
        over it: an older backup of the same name stays whole until the new one is. A
        target that is the live database or one of its -wal/-shm/-journal files is refused
        (the old code unlinked it first).
        """
        async with self.conn.execute("PRAGMA database_list") as cursor:
            live = next(Path(row[2]) for row in await cursor.fetchall() if row[1] == "main")
        for suffix in ("", "-wal", "-shm", "-journal"):
            own = live.with_name(live.name + suffix)
            if same_file(target, own):
                what = f"its {suffix[1:]} file" if suffix else "itself"
                raise UnsafeTarget(f"{target} is the live database ({what}: {own}); "
                                   "choose another file")
        with temp_beside(target) as temp:
            async with aiosqlite.connect(temp) as dest:
                await self.conn.backup(dest)
            commit_temp(temp, target)

    async def close(self) -> None:
        await self.conn.close()
