"""The store on one SQLite file: SqlStore over SqliteDatabase, plus what only SQLite has.

The repositories are dialect-neutral (storage/sql_store.py); this adds opening the file
with its migrations, the WAL truncate after erasure and retention, and the online backup
(a SQLite-only tool, not part of the Store port: `bot.admin.backup` reaches it here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storage.audit_anchor import AuditAnchor
from storage.database import Migration, SqliteDatabase
from storage.sql_store import SqlStore


class SqliteStore(SqlStore):
    """Implements storage.ports.Store on one SQLite file."""

    db: SqliteDatabase

    def __init__(self, db: SqliteDatabase, audit_anchor: AuditAnchor | None = None) -> None:
        super().__init__(db, audit_anchor, checkpoint=db.checkpoint_truncate)

    @classmethod
    async def open(
        cls, path: Path, migrations: Sequence[Migration] | None = None,
        audit_anchor: AuditAnchor | None = None,
    ) -> SqliteStore:
        return cls(await SqliteDatabase.open(path, migrations), audit_anchor)

    async def backup(self, target: Path) -> None:
        """Copy the live file with SQLite's online backup (SqliteDatabase.backup)."""
        await self.db.backup(target)
