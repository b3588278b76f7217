"""The read helpers every SQLite mixin shares, and the row mappers more than one uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast

import aiosqlite

from core.questionnaire import Language
from core.records import Youth
from storage.database import Database


class SqliteQueries:
    db: Database

    async def _one(self, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row | None:
        async with self.db.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
        async with self.db.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())


def youth_from_row(row: aiosqlite.Row) -> Youth:
    consent = row["guardian_consent_date"]
    return Youth(
        code=row["code"],
        therapist_code=row["therapist_code"],
        birth_year=row["birth_year"],
        language=cast(Language, row["language"]),
        simple_mode=bool(row["simple_mode"]),
        guardian_consent_date=date.fromisoformat(consent) if consent else None,
        pseudonym=row["pseudonym"],
        paused=bool(row["paused"]),
    )
