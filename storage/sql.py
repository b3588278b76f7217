"""The one small interface every repository talks to, whatever the database.

Repositories write one dialect of SQL that SQLite (3.40) and PostgreSQL (15) both run,
and reach the database only through `Database`; the SQLite and PostgreSQL adapters
implement it. That keeps each business query in one place, so the two backends cannot
drift apart. The portable dialect, by convention (checked by the storage contract, which
runs every repository on both):

- `?` placeholders only (the PostgreSQL adapter rewrites them), and no `%` outside
  string literals;
- `INSERT ... ON CONFLICT DO NOTHING` / `ON CONFLICT (cols) DO UPDATE SET x = excluded.x`,
  never `INSERT OR IGNORE` / `OR REPLACE`;
- new ids through `RETURNING id`, never `lastrowid`; rows named by explicit `id`
  columns, never `rowid`;
- timestamps as ISO-8601 UTC text (storage.timefmt), compared as text: both backends
  order them byte-wise (PostgreSQL runs with the C collation);
- booleans as 0/1 integers; no SQL date functions, no `json_each`, no two-argument
  `MAX(a, b)` (use CASE), `LIKE` only on values whose case cannot differ.

Dialect-specific work (online backup, WAL checkpoints, advisory locks) is not part of
this interface: it lives in the adapter that has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


class IntegrityViolation(Exception):
    """A unique, foreign-key, not-null or check constraint refused the statement.

    Both adapters raise this instead of their driver's own error, so a repository can
    turn it into `core.records.AlreadyExists` without knowing the backend.
    """


class Row(Protocol):
    """One result row, readable by column name or by position."""

    def __getitem__(self, key: str | int, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Sql(Protocol):
    """Statements on one connection: the database itself, or an open transaction."""

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of the result, or None."""
        ...

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of the result."""
        ...

    async def run(self, sql: str, params: Sequence[object] = ()) -> int:
        """Execute one statement; the number of rows it changed."""
        ...

    async def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Execute one statement once per parameter row."""
        ...


class Database(Sql, Protocol):
    """A connection (pool) with serialised write transactions.

    `write()` gives one transaction; it commits when the block ends and rolls back on
    any exception. Writers are serialised (SQLite has one writer; the PostgreSQL adapter
    takes a transaction-level advisory lock), so a repository may read-then-write inside
    one `write()` as if it were alone. Work that must not wait for other writers (claiming
    due rows with `FOR UPDATE SKIP LOCKED`) uses `write(serial=False)`.
    Statements outside `write()` run on their own: in autocommit on a pooled connection
    (PostgreSQL), or on the one connection (SQLite, where a read may then see another
    coroutine's open write, as it always has).
    """

    dialect: Dialect

    def write(self, *, serial: bool = True) -> AbstractAsyncContextManager[Sql]: ...

    async def close(self) -> None: ...
