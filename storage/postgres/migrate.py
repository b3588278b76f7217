"""PostgreSQL's schema migrations: storage/migrations_pg, one per SQLite migration.

Each file has the same number and name as its SQLite twin in storage/migrations and
translates it (a test keeps the two folders in step). Where SQLite keeps its version in
`PRAGMA user_version`, PostgreSQL keeps a `schema_version` table with one row per
migration applied. Each migration runs in its own transaction together with its row, so
a failed one leaves the database at its previous version. Two processes starting at once
do not both migrate: the runner holds a session-level advisory lock while it reads the
version and applies what is missing; the second process waits, then finds nothing to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from psycopg import AsyncConnection

# Not the writers' lock (storage.postgres.database): "vakbot.m".
MIGRATE_LOCK_KEY = 0x76616B626F742E6D
FOLDER = "migrations_pg"
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class PgMigration:
    version: int
    name: str
    sql: str


class MigrationError(RuntimeError):
    """A migration failed; the database was left at its previous version."""


def builtin_pg_migrations() -> list[PgMigration]:
    """The migrations shipped in storage/migrations_pg, in order, without gaps."""
    found: list[PgMigration] = []
    for entry in resources.files("storage").joinpath(FOLDER).iterdir():
        if m := _MIGRATION_FILE.fullmatch(entry.name):
            found.append(PgMigration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    if [mig.version for mig in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


async def schema_version(conn: AsyncConnection[Any]) -> int:
    """The newest migration applied, 0 for an empty database."""
    cur = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    exists = await cur.fetchone()
    if not exists or not exists[0]:
        return 0
    cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: AsyncConnection[Any],
                  migrations: Sequence[PgMigration] | None = None) -> int:
    """Apply every migration newer than the database; the version reached.

    `conn` is in autocommit; each migration gets its own transaction.
    """
    wanted = builtin_pg_migrations() if migrations is None else list(migrations)
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = await schema_version(conn)
        for mig in wanted:
            if mig.version <= current:
                continue
            try:
                async with conn.transaction():
                    # No parameters: psycopg sends the file as one simple query, so it
                    # may hold several statements and plpgsql bodies.
                    await conn.execute(mig.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_version (version, name, applied_at) "
                        "VALUES (%s, %s, %s)",
                        (mig.version, mig.name,
                         datetime.now(UTC).isoformat(timespec="seconds")))
            except Exception as exc:
                raise MigrationError(
                    f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc
            current = mig.version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))
