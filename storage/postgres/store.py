"""The store on PostgreSQL: the dialect-neutral SqlStore over PostgresDatabase.

Nothing of the repositories changes: they speak storage.sql, and the adapter translates.
What SQLite adds beside the port (the WAL truncate after erasure, the online backup) has
no PostgreSQL counterpart here: an erased row is gone from every reader at commit, and
backups are the database server's business (pg_dump, base backups).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.audit_anchor import AuditAnchor
from storage.postgres.database import PostgresDatabase
from storage.postgres.migrate import PgMigration
from storage.sql_store import SqlStore


class PostgresStore(SqlStore):
    """Implements storage.ports.Store on one PostgreSQL database."""

    db: PostgresDatabase

    @classmethod
    async def open(cls, url: str, migrations: Sequence[PgMigration] | None = None,
                   audit_anchor: AuditAnchor | None = None, *, min_size: int = 1,
                   max_size: int = 10) -> PostgresStore:
        """Connect (the URL's password never shown), migrate, and combine the repositories."""
        db = await PostgresDatabase.open(url, migrations, min_size=min_size, max_size=max_size)
        return cls(db, audit_anchor)
