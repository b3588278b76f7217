"""Issue 11, input bounds: every timing of a series is bounded, a bad number names its row
and field, and the planner never back-fills past sessions as due."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.rules import delivery_rules
from bot.wiring import open_services
from core.records import NewSeries
from core.schedule import Timing, parse_amount, timing_problems
from scheduler.planner import plan
from storage.timefmt import iso
from tests.support import run_cli as run

H = timedelta(hours=1)


@pytest.mark.parametrize(("field", "raw", "expected"), [
    ("expire_after", "24", 24.0),
    ("expire_after", 168, 168.0),
    ("send_after", "0", 0.0),
    ("send_after", " 15 ", 15.0),
    ("duration", "45", 45.0),
    ("remind_after", "3.5", 3.5),
])
def test_parse_amount_accepts_numbers_in_range(field: str, raw: object,
                                               expected: float) -> None:
    assert parse_amount(field, raw) == expected


@pytest.mark.parametrize(("field", "raw", "message"), [
    ("expire_after", "100000", "expire-after: '100000' is out of range: expire-after must "
                               "be more than 0 hours, at most 168 (7 days)"),
    ("expire_after", "0", "expire-after: '0' is out of range"),
    ("expire_after", "nan", "expire-after: 'nan' is not a number of hours"),
    ("expire_after", "inf", "expire-after: 'inf' is not a number of hours"),
    ("send_after", "1e300", "send-after: '1e300' is out of range"),
    ("send_after", "-30", "send-after: '-30' is out of range"),
    ("send_after", "1441", "send-after: '1441' is out of range"),
    ("duration", "abc", "duration: 'abc' is not a number of minutes"),
    ("duration", "-inf", "duration: '-inf' is not a number of minutes"),
    ("duration", "481", "between 5 minutes and 8 hours"),
    ("remind_after", "", "remind-after: '' is not a number of hours"),
    ("remind_after", "169", "remind-after: '169' is out of range"),
])
def test_parse_amount_names_the_field_and_never_raises_anything_else(
        field: str, raw: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_amount(field, raw)
    assert message in str(caught.value)


@pytest.mark.parametrize(("timing", "problem"), [
    (Timing(15 * H / 60, 3 * H, 24 * H), None),
    (Timing(timedelta(0), timedelta(0), 7 * 24 * H), None),
    (Timing(25 * H, 3 * H, 24 * H), "send-after must be at most 1440 minutes"),
    (Timing(timedelta(0), 3 * H, 100000 * H), "expire-after must be at most 168 hours"),
    (Timing(timedelta(0), 24 * H, 24 * H), "remind-after must be less than expire-after"),
    (Timing(timedelta(0), 30 * H, 24 * H), "remind-after must be less than expire-after"),
    (Timing(-H, 3 * H, 24 * H), "send-after must be 0 or more minutes"),
])
def test_timing_problems(timing: Timing, problem: str | None) -> None:
    found = timing_problems(timing)
    assert (found == []) if problem is None else any(problem in p for p in found), found


def test_import_names_every_bad_row_and_field_and_imports_nothing(
        config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = ("--config", str(config))
    assert run(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    assert run(capsys, "enroll-youth", *cfg, "--code", "J-014", "--therapist", "T-02",
               "--birth-year", "2008", "--unit", "W-1")[0] == 0
    rows = tmp_path / "series.csv"
    rows.write_text("youth,therapist,discipline,days,start,first,expire_after,send_after,"
                    "duration,remind_after\n"
                    "J-014,T-02,music,mon,14:00,2030-01-07,24,15,60,3\n"
                    "J-014,T-02,drama,tue,14:00,2016-01-04,100000,,,\n"
                    "J-014,T-02,drama,wed,14:00,,24,nan,,\n"
                    "J-014,T-02,drama,thu,14:00,,,1e300,,\n"
                    "J-014,T-02,drama,fri,14:00,,,,abc,\n"
                    "J-014,T-02,drama,sat,14:00,,12,,,20\n")
    code, out = run(capsys, "schedule", "import", *cfg, str(rows))
    assert code == 2, out
    assert "row 2: expire-after: '100000' is out of range" in out
    assert "row 3: send-after: 'nan' is not a number of minutes" in out
    assert "row 4: send-after: '1e300' is out of range" in out
    assert "row 5: duration: 'abc' is not a number of minutes" in out
    assert "row 6: remind-after must be less than expire-after" in out
    assert "row 1" not in out and "nothing was imported" in out
    assert "Traceback" not in out
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM series").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_planner_never_backfills_past_sessions(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A series stored with a first date years back and an unbounded expiry (as the import
    once accepted) plans from now on: nothing of the past is due at once."""
    cfg = ("--config", str(config))
    assert run(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    assert run(capsys, "enroll-youth", *cfg, "--code", "J-014", "--therapist", "T-02",
               "--birth-year", "2008", "--unit", "W-1")[0] == 0
    settings, secrets = load_settings(config)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)          # a Wednesday

    async def add_and_plan() -> None:
        services = await open_services(settings, secrets, lambda: now)
        try:
            await services.store.add_series(NewSeries(
                "T-02", ("J-014",), "music", frozenset({0}), time(10, 0), timedelta(hours=1),
                "Europe/Amsterdam", date(2016, 1, 4), None,
                Timing(timedelta(minutes=15), timedelta(hours=3), timedelta(hours=100000))),
                now)
            await plan(services.store, now, delivery_rules(settings))
        finally:
            await services.store.close()

    asyncio.run(add_and_plan())
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        past = conn.execute("SELECT count(*) FROM outbox WHERE session_end < ?",
                            (iso(now),)).fetchone()[0]
        future = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'checkin'").fetchone()
    assert past == 0
    assert future == (2,), "the two Mondays within the 14-day horizon"
