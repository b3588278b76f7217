"""What every SQL repository shares: the database, the read helpers, `IN (...)` lists
in chunks, and the row mappers more than one repository uses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TypeVar, cast

from core.questionnaire import Language
from core.records import Youth
from storage.sql import Database, Row

T = TypeVar("T")

# Values per `IN (?, ?, ...)` list: far below SQLite's limit of 32766 variables and
# PostgreSQL's 65535 parameters, whatever else the statement binds.
IN_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in slices of at most `size`, for one `IN (...)` statement each."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def in_list(count: int) -> str:
    """`?, ?, ...` with `count` placeholders (for `IN (...)` and multi-row VALUES)."""
    return ", ".join("?" * count)


class SqlQueries:
    """The base of every repository: statements go to `db` (storage.sql.Database)."""

    db: Database

    async def _one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        return await self.db.one(sql, params)

    async def _all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return await self.db.all(sql, params)


def youth_from_row(row: Row) -> Youth:
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


def equal_or_any(column: str, value: object | None) -> tuple[str, tuple[object, ...]]:
    """The condition `column = ?` with its parameter, or one that always holds when
    `value` is None ("all therapists"). Written out here rather than `(? IS NULL OR
    column = ?)`: PostgreSQL cannot tell the type of a parameter that is only tested
    for NULL."""
    if value is None:
        return "1 = 1", ()
    return f"{column} = ?", (value,)
