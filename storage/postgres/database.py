"""storage.sql.Database on PostgreSQL: psycopg 3 (async) over a psycopg_pool pool.

What makes PostgreSQL behave as the repositories expect from SQLite:

- the portable dialect's `?` placeholders become psycopg's `%s` (and a literal `%`
  becomes `%%`), translated once per statement text and cached;
- rows are readable by column name and by position (`PgRow`), like `sqlite3.Row`;
- a Python bool is sent as the integer 0/1 (booleans are 0/1 integers in the schema),
  and NUMERIC results (`SUM` of integers) come back as int, or float when fractional;
- class 23 errors (unique, foreign key, not null, check, and the append-only triggers)
  become `storage.sql.IntegrityViolation`, with PostgreSQL's primary message only: its
  DETAIL names the offending values, which may not be shown;
- `write()` serialises writers as SQLite's one writer does, with a transaction-level
  advisory lock taken first; `write(serial=False)` does not wait for it (claims with
  `FOR UPDATE SKIP LOCKED` run beside other writers);
- statements outside `write()` run in autocommit on a pooled connection.

One difference stays visible: after a failed statement PostgreSQL refuses the rest of its
transaction, where SQLite carries on. A repository lets an IntegrityViolation leave the
`write()` block (and turns it into AlreadyExists outside), as every one does today; one
that wants to go on after a refused statement needs its own savepoint.

The password in the URL never reaches a message: errors are rewritten and psycopg's
loggers filtered while a database is open (storage.postgres.urls).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.adapt import Dumper, Loader
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage.postgres.migrate import PgMigration, migrate
from storage.postgres.urls import redacted, scrub, secrets_of
from storage.sql import Dialect, IntegrityViolation, Row, Sql

# The advisory lock key every serial writer takes first (any constant both processes
# share; this one spells "vakbot.w" in ASCII).
WRITE_LOCK_KEY = 0x76616B626F742E77
CONNECT_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)
_LOGGERS = ("psycopg", "psycopg.pool")


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL could not be reached or refused us; the message names no password."""


class PgRow:
    """One result row, by column name or by position (as `sqlite3.Row`)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: str | int, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=True))!r})"


def _pg_row(cursor: AsyncCursor[Any]) -> RowMaker[PgRow]:
    index: dict[str, int] = {}
    for i, col in enumerate(cursor.description or ()):
        index.setdefault(col.name, i)    # the first of two equal names, as sqlite3.Row

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(index, values)

    return make


class _BoolAsInt(Dumper):
    """True/False go to integer columns as 1/0, as SQLite stores them."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """NUMERIC (what SUM over BIGINT gives) as int, or float when it has a fraction."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        try:
            return int(text)
        except ValueError:
            return float(text)


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?|%", re.S)


@lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """`?` -> `%s` outside literals, identifiers and comments; every `%` -> `%%`.

    psycopg scans the whole text for `%` placeholders, string literals included, so a
    literal percent sign is doubled wherever it stands; a `?` inside a literal stays.
    """

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        return "%s" if text == "?" else text.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


class _SecretFilter(logging.Filter):
    """Replaces the password in every record psycopg's loggers emit."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text, self.secrets)
        return True


def _integrity(exc: psycopg.IntegrityError, secrets: list[str]) -> IntegrityViolation:
    primary = exc.diag.message_primary or type(exc).__name__
    return IntegrityViolation(scrub(primary, secrets))


class _Statements:
    """The four statement kinds on one connection (pooled, or inside a transaction)."""

    def __init__(self, conn: AsyncConnection[PgRow], secrets: list[str]) -> None:
        self._conn = conn
        self._secrets = secrets

    async def _execute(self, sql: str, params: Sequence[object]) -> AsyncCursor[PgRow]:
        try:
            return await self._conn.execute(to_psycopg(sql), tuple(params))
        except psycopg.IntegrityError as exc:
            raise _integrity(exc, self._secrets) from None

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        cur = await self._execute(sql, params)
        return await cur.fetchone() if cur.description else None

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cur = await self._execute(sql, params)
        return list(await cur.fetchall()) if cur.description else []

    async def run(self, sql: str, params: Sequence[object] = ()) -> int:
        cur = await self._execute(sql, params)
        return max(cur.rowcount, 0)

    async def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        batch = [tuple(r) for r in rows]
        if not batch:
            return
        try:
            async with self._conn.cursor() as cur:
                await cur.executemany(to_psycopg(sql), batch)
        except psycopg.IntegrityError as exc:
            raise _integrity(exc, self._secrets) from None


class PostgresDatabase:
    """A psycopg connection pool speaking the portable dialect of storage.sql."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[PgRow]], url: str) -> None:
        self.pool = pool
        self.url = redacted(url)    # for messages: the password masked
        self._secrets = secrets_of(url)
        self._filter = _SecretFilter(self._secrets)
        self._writers = asyncio.Lock()
        for name in _LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    @classmethod
    async def open(cls, url: str, migrations: Sequence[PgMigration] | None = None, *,
                   min_size: int = 1, max_size: int = 10,
                   connect_s: float = CONNECT_TIMEOUT_S) -> PostgresDatabase:
        """Connect, migrate to the newest schema, and return the database.

        Raises DatabaseUnavailable (the password masked) when the server cannot be
        reached or refuses the login, and MigrationError when a migration fails.
        """
        secrets = secrets_of(url)
        pool: AsyncConnectionPool[AsyncConnection[PgRow]] = AsyncConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, timeout=connect_s,
            kwargs={"autocommit": True, "row_factory": _pg_row},
            configure=_configure, name="vakbot")
        db = cls(pool, url)
        try:
            await _check_reachable(url, secrets, connect_s)
            await pool.open(wait=True, timeout=connect_s)
            async with pool.connection() as conn:
                await migrate(conn, migrations)
                await _warn_unless_c_collation(conn, db.url)
        except PoolTimeout:
            await db.close()
            raise DatabaseUnavailable(f"PostgreSQL at {db.url}: no connection within "
                                      f"{connect_s:.0f} s") from None
        except BaseException:
            await db.close()
            raise
        return db

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[PgRow]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except PoolTimeout:
            raise DatabaseUnavailable(f"PostgreSQL at {self.url}: no free connection") from None

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        async with self._connection() as conn:
            return await _Statements(conn, self._secrets).one(sql, params)

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        async with self._connection() as conn:
            return await _Statements(conn, self._secrets).all(sql, params)

    async def run(self, sql: str, params: Sequence[object] = ()) -> int:
        async with self._connection() as conn:
            return await _Statements(conn, self._secrets).run(sql, params)

    async def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        async with self._connection() as conn:
            await _Statements(conn, self._secrets).run_many(sql, rows)

    @asynccontextmanager
    async def write(self, *, serial: bool = True) -> AsyncIterator[Sql]:
        """One transaction: committed when the block ends, rolled back on any exception.

        With `serial` (the default) it first takes the writers' advisory lock, held until
        the transaction ends, so writers run one at a time across every process on the
        database, as SQLite's single writer does.
        """
        if not serial:
            async with self._connection() as conn, conn.transaction():
                yield _Statements(conn, self._secrets)
            return
        # This process's writers queue here, holding no connection while they wait, so
        # the pool stays free for reads; only the one at the head waits for the other
        # processes' writers, on the advisory lock.
        async with self._writers, self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield _Statements(conn, self._secrets)

    async def close(self) -> None:
        try:
            await self.pool.close()
        finally:
            for name in _LOGGERS:
                logging.getLogger(name).removeFilter(self._filter)


async def _configure(conn: AsyncConnection[Any]) -> None:
    """Per connection: bools as integers, NUMERIC as plain numbers."""
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


async def _check_reachable(url: str, secrets: list[str], connect_s: float) -> None:
    """One direct connection first: the pool would only retry in the background and say
    "timeout"; this gives the person starting the bot PostgreSQL's own reason."""
    try:
        conn = await AsyncConnection.connect(url, connect_timeout=max(int(connect_s), 1))
    except psycopg.Error as exc:
        reason = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else
                       type(exc).__name__, secrets)
        raise DatabaseUnavailable(f"PostgreSQL at {redacted(url)}: {reason}") from None
    await conn.close()


async def _warn_unless_c_collation(conn: AsyncConnection[PgRow], url: str) -> None:
    """The repositories compare and sort text as SQLite does, byte by byte (storage.sql):
    only the C collation does that. Another one still works (every stored time has the
    same shape), but codes sort differently than on SQLite: said once, loudly."""
    cursor = await conn.execute(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()")
    row = await cursor.fetchone()
    collation = str(row[0]) if row else "?"
    if collation not in ("C", "POSIX"):
        log.warning("PostgreSQL at %s uses collation %s, not C: codes may sort differently "
                    "than on SQLite. Create the database with LC_COLLATE 'C' (CREATE "
                    "DATABASE ... TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C').",
                    url, collation)
