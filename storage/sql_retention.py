"""The retention periods on storage.sql: old records of one kind removed by age."""

from __future__ import annotations

from datetime import date, datetime

from core.retention import DataKind
from storage.sql_base import SqlQueries
from storage.timefmt import iso

_CLOSED = "state NOT IN ('pending', 'sending')"

# Per kind, the statements that remove its records older than the cutoff (the one
# parameter). Answers, prompts and notes go with their check-in (ON DELETE CASCADE).
_PURGES: dict[DataKind, tuple[tuple[str, str], ...]] = {
    DataKind.SESSIONS: (
        ("checkins", "created_at < ?"),
        ("therapist_ratings", "rated_at < ?"),
        ("outbox", f"kind IN ('checkin', 'reminder', 'rating') AND session_end < ? AND {_CLOSED}"),
    ),
    DataKind.NOTES: (
        ("notes", "created_at < ?"),
        # Crisis texts go by age like any note, alerted or not: the alert itself (and
        # who was reached) is kept under `alerts`.
        ("crisis_flags", "created_at < ?"),
    ),
    DataKind.ALERTS: (
        ("alerts", "created_at < ?"),
        ("outbox", f"kind IN ('alert', 'escalation') AND due_at < ? AND {_CLOSED}"),
    ),
    DataKind.DELIVERY_LOG: (
        ("outbox", f"kind = 'report' AND due_at < ? AND {_CLOSED}"),
    ),
    DataKind.INVITES: (
        ("invites", "coalesce(used_at, expires_at) < ?"),
    ),
}


class RetentionRepository(SqlQueries):
    wal_truncate_pending: bool

    async def truncate_wal(self, attempts: int = 5, first_wait: float = 0.05) -> bool:
        raise NotImplementedError  # provided by PrivacyRepository
    async def purge(self, kind: DataKind, before: datetime, *, dry_run: bool = False) -> int:
        """Remove (or, dry, count) the records of one kind from before the cutoff.

        secure_delete zeroes freed pages; the WAL is truncated afterwards, as for erasure.
        """
        removed = 0
        if dry_run:
            for table, where in _PURGES[kind]:
                row = await self._one(f"SELECT count(*) FROM {table} WHERE {where}",  # noqa: S608
                                      (iso(before),))
                removed += row[0] if row else 0
            return removed
        async with self.db.write() as conn:
            for table, where in _PURGES[kind]:
                removed += await conn.run(f"DELETE FROM {table} WHERE {where}",  # noqa: S608
                                          (iso(before),))
        if removed:
            # The removed rows leave the SQLite WAL too (a no-op where the backend has no
            # such file to clear: see PrivacyRepository.truncate_wal).
            self.wal_truncate_pending = True
            await self.truncate_wal()
        return removed

    async def last_retention_day(self) -> date | None:
        row = await self._one("SELECT max(day) FROM retention_runs")
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def record_retention_run(self, day: date, report: str, now: datetime) -> bool:
        """Record today's run; False when it was already recorded."""
        async with self.db.write() as conn:
            return await conn.run(
                "INSERT INTO retention_runs (day, ran_at, report) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", (day.isoformat(), iso(now), report)) == 1
