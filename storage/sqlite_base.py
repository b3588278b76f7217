"""The read helpers every SQLite mixin shares."""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from storage.database import Database


class SqliteQueries:
    db: Database

    async def _one(self, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row | None:
        async with self.db.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
        async with self.db.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())
