"""Retention periods: the daily run removes what outlived its period and says so."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.wiring import make_engine
from tests.support import Harness, run_cli, running_bot

YOUTH, COORDINATOR = 700000001, 9001
MARKER = "MARKER-bewaartermijn-5512"
RETENTION = ("[retention]\nsessions_days = 30\nnotes_days = 1\ninvites_days = 1\n"
             f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n")


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql))


def raw_bytes(database: Path) -> bytes:
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def answer_with_note(bot: Harness) -> None:
    await bot.answer_everything(bot.fake.user(YOUTH), f"vandaag {MARKER}")


async def test_the_daily_run_removes_by_kind_and_reports(tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml=RETENTION) as bot:
        bot.clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)    # Monday 14:00
        await answer_with_note(bot)
        engine = make_engine(bot.settings, bot.services)
        coordinator = bot.fake.user(COORDINATOR)
        await engine.tick(bot.channel)                                # today's run: too new
        assert rows(bot.database, "SELECT count(*) FROM notes") == [(1,)]
        assert coordinator.inbox == [], "nothing removed, nothing to tell"

        bot.clock.now = datetime(2026, 11, 25, 2, 45, tzinfo=UTC)     # Wednesday 03:45
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        assert rows(bot.database, "SELECT count(*) FROM notes") == [(0,)]
        assert rows(bot.database, "SELECT count(*) FROM answers") == [(4,)], "kept 30 days"
        assert MARKER.encode() not in raw_bytes(bot.database)
        assert coordinator.last.text == (
            "🧹 Bewaartermijnen 25/11: verwijderd zijn 1 getypte teksten, 1 uitnodigingen. "
            "Details: python -m bot audit show.")
        bot.clock.advance(timedelta(hours=3))
        await engine.tick(bot.channel)
        assert len(coordinator.inbox) == 1, "once a day"

        bot.clock.now = datetime(2026, 12, 24, 3, 0, tzinfo=UTC)      # a month on
        await engine.tick(bot.channel)
        assert rows(bot.database, "SELECT count(*) FROM checkins") == [(0,)]
        assert rows(bot.database, "SELECT count(*) FROM answers") == [(0,)]
        runs = rows(bot.database, "SELECT day, report FROM retention_runs ORDER BY day")
        assert [day for day, _ in runs] == ["2026-11-23", "2026-11-25", "2026-12-24"]
        assert runs[2][1] == "2026-12-24: sessions=1, notes=0, invites=0"
        audited = rows(bot.database, "SELECT detail FROM audit_log WHERE action = 'retention'")
        assert len(audited) == 3


async def three_days_ago(tmp_path: Path) -> str:
    async with running_bot(tmp_path, extra_toml=RETENTION) as bot:
        bot.clock.now = datetime.now(UTC) - timedelta(days=3)
        await answer_with_note(bot)
        return str(bot.config_path)


def test_retention_cli_dry_run_counts_and_removes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = asyncio.run(three_days_ago(tmp_path))
    code, out = run_cli(capsys, "retention", "--config", config, "--dry-run")
    assert code == 0
    assert "notes         older than" in out and "would remove 1" in out
    assert rows(tmp_path / "bot.sqlite3", "SELECT count(*) FROM notes") == [(1,)]
    code, out = run_cli(capsys, "retention", "--config", config)
    assert code == 0 and "removed 1" in out
    assert rows(tmp_path / "bot.sqlite3", "SELECT count(*) FROM notes") == [(0,)]


def test_a_too_short_retention_period_is_refused(config: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config.read_text() + "[retention]\nsessions_days = 2\n")
    code, out = run_cli(capsys, "check-config", "--config", str(config))
    assert code != 0
    assert "retention.sessions_days: Input should be greater than or equal to 30" in out


async def test_crisis_texts_go_by_age_like_notes_alerted_or_not(tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml=RETENTION) as bot:
        bot.clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)    # Monday 14:00
        youth = bot.fake.user(YOUTH)
        await bot.enrol(youth)
        youth.send(f"ik wil dood {MARKER}")
        await bot.fake.settle()
        assert rows(bot.database, "SELECT alerted_at FROM crisis_flags") == [(None,)]
        engine = make_engine(bot.settings, bot.services)
        bot.clock.now = datetime(2026, 11, 25, 2, 45, tzinfo=UTC)     # Wednesday 03:45
        await engine.tick(bot.channel)
        assert rows(bot.database, "SELECT count(*) FROM crisis_flags") == [(0,)]
        assert rows(bot.database, "SELECT kind FROM alerts") == [("crisis",)], (
            "the alert itself follows alerts_days (not set: kept)")
