"""Group commit (storage.group_commit) on a real SQLite file: writers that queue at once
share one COMMIT, each one's statements stand or fall alone, and a writer's `write()`
returns only once its statements are durable (another connection sees them)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.database import Database, Migration
from storage.group_commit import GroupCommit

TABLE = Migration(1, "rows", "CREATE TABLE rows (id INTEGER PRIMARY KEY, who TEXT NOT NULL UNIQUE)")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "group.db", [TABLE])
    yield opened
    await opened.close()


def grouped(db: Database) -> GroupCommit[object]:
    """The adapter's own transaction behind a GroupCommit (as the SQLite adapter wires it)."""
    return GroupCommit(db.write, lambda conn, sql: conn.execute(sql))  # type: ignore[attr-defined]


def stored(path: Path) -> list[str]:
    """What another connection sees: only what was committed."""
    with sqlite3.connect(path) as other:
        return sorted(r[0] for r in other.execute("SELECT who FROM rows"))


async def insert(group: GroupCommit[object], who: str, path: Path) -> bool:
    """Insert one row; True when, as `write()` returned, another connection saw it."""
    async with group.write() as conn:
        await conn.execute("INSERT INTO rows (who) VALUES (?)", (who,))  # type: ignore[attr-defined]
    return who in stored(path)


async def test_writers_queued_at_once_share_commits(db: Database, tmp_path: Path) -> None:
    group = grouped(db)
    names = [f"youth-{n:02d}" for n in range(80)]
    seen = await asyncio.gather(*(insert(group, who, tmp_path / "group.db") for who in names))
    assert all(seen), "a write returned before its COMMIT"
    assert stored(tmp_path / "group.db") == names
    assert group.writes == 80
    # the first writer commits alone; the 79 queued behind it go at most 32 per COMMIT
    assert group.commits <= 1 + 3


async def test_a_writer_alone_commits_at_once(db: Database, tmp_path: Path) -> None:
    group = grouped(db)
    assert await insert(group, "alone", tmp_path / "group.db")
    assert await insert(group, "alone again", tmp_path / "group.db")
    assert group.commits == 2


async def test_a_failing_writer_rolls_back_only_its_own_statements(
        db: Database, tmp_path: Path) -> None:
    group = grouped(db)
    path = tmp_path / "group.db"
    assert await insert(group, "youth-00", path)

    async def conflicting() -> None:
        async with group.write() as conn:
            await conn.execute("INSERT INTO rows (who) VALUES ('second half')")  # type: ignore[attr-defined]
            await conn.execute("INSERT INTO rows (who) VALUES ('youth-00')")  # type: ignore[attr-defined]

    again = await asyncio.gather(insert(group, "youth-03", path), conflicting(),
                                 insert(group, "youth-04", path), return_exceptions=True)
    assert again[0] is True and again[2] is True
    assert isinstance(again[1], sqlite3.IntegrityError)
    rows = stored(path)
    assert "second half" not in rows
    assert rows == ["youth-00", "youth-03", "youth-04"]
    assert group.commits == 2, "the three queued writers shared one COMMIT"


async def test_a_cancelled_writer_leaves_the_others_of_its_group_whole(
        db: Database, tmp_path: Path) -> None:
    group = grouped(db)
    path = tmp_path / "group.db"
    inside = asyncio.Event()

    async def stuck() -> None:
        async with group.write() as conn:
            await conn.execute("INSERT INTO rows (who) VALUES ('cancelled')")  # type: ignore[attr-defined]
            inside.set()
            await asyncio.Event().wait()

    blocked = asyncio.create_task(stuck())
    await inside.wait()
    others = [asyncio.create_task(insert(group, f"after-{n}", path)) for n in range(5)]
    await asyncio.sleep(0)
    blocked.cancel()
    assert all(await asyncio.gather(*others))
    with pytest.raises(asyncio.CancelledError):
        await blocked
    assert stored(path) == [f"after-{n}" for n in range(5)]
