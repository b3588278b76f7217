"""Coordinators plan sessions from the command line; every mistake gets a specific reply."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.support import run_cli as run


@pytest.fixture
def clinic(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    cfg = ("--config", str(config))
    assert run(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    for code in ("J-014", "J-015"):
        assert run(capsys, "enroll-youth", *cfg, "--code", code, "--therapist", "T-02",
                   "--birth-year", "2008", "--unit", "W-1")[0] == 0
    return cfg


def outbox(config: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        return list(conn.execute("SELECT occurrence_key, state FROM outbox WHERE kind ="
                                 " 'checkin' ORDER BY due_at"))


def test_add_list_cancel_move_pause_resume(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "schedule", "add", *clinic, "--youth", "J-014", "--therapist",
                    "T-02", "--discipline", "music", "--days", "mon,thu", "--start", "14:00",
                    "--first", "2030-01-07", "--last", "2030-03-28")
    assert code == 0 and "series 1: J-014 with T-02, music, mon,thu 14:00-15:00" in out
    code, out = run(capsys, "schedule", "list", *clinic)
    assert "series 1" in out and "next:" in out
    assert run(capsys, "schedule", "cancel", *clinic, "--series", "1",
               "--date", "2030-01-07")[0] == 0
    code, out = run(capsys, "schedule", "move", *clinic, "--series", "1", "--date",
                    "2030-01-10", "--to", "2030-01-11 10:00")
    assert code == 0 and "moved" in out
    code, out = run(capsys, "schedule", "pause", *clinic, "--series", "1")
    assert code == 0 and "paused" in out
    code, out = run(capsys, "schedule", "pause", *clinic, "--series", "1")
    assert code == 2 and "already paused" in out
    assert run(capsys, "schedule", "resume", *clinic, "--series", "1")[0] == 0


@pytest.mark.parametrize(("extra", "expected"), [
    (["--youth", "J-999"], "unknown youth code J-999"),
    (["--youth", "J-014", "--first", "2030-02-01", "--last", "2030-01-01"],
     "is before the first date"),
    (["--youth", "J-014", "--first", "2030-03-01", "--start", "02:30", "--days", "sun"],
     "02:30 does not exist on 2030-03-31"),
    (["--youth", "J-014", "--days", "maandag"], "unknown weekday 'maandag'"),
    (["--youth", "J-014", "--start", "25:00"], "'25:00' is not a time like 14:00"),
    (["--youth", "J-014", "--duration", "600"], "between 5 minutes and 8 hours"),
    (["--youth", "J-014", "--duration", "0"], "between 5 minutes and 8 hours"),
    (["--youth", "J-014", "--send-after", "-30"], "send-after must be 0 or more minutes"),
    (["--youth", "J-014", "--expire-after", "0"], "expire-after must be more than 0 hours"),
    (["--youth", "J-014", "--first", "2030-10-01", "--start", "02:30", "--days", "sun"],
     "02:30 happens twice on 2030-10-27 (the clocks go back that night)"),
])
def test_add_refuses_with_a_specific_reason(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str],
    extra: list[str], expected: str,
) -> None:
    base = {"--therapist": "T-02", "--discipline": "drama", "--days": "tue", "--start": "10:00"}
    args = [*extra]
    for key, value in base.items():
        if key not in extra:
            args += [key, value]
    code, out = run(capsys, "schedule", "add", *clinic, *args)
    assert code == 2 and expected in out, out
    assert outbox(config) == []


def test_cancel_says_cancelled_and_next_session_is_local_time(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "schedule", "add", *clinic, "--youth", "J-014", "--therapist",
                    "T-02", "--discipline", "music", "--days", "mon,tue,wed,thu,fri,sat,sun",
                    "--start", "14:00")
    local_next = re.compile(r"next: \w{3} \d{4}-\d\d-\d\d 14:00 CES?T \(Europe/Amsterdam\)")
    assert code == 0 and local_next.search(out), out
    assert local_next.search(run(capsys, "schedule", "list", *clinic)[1])
    code, out = run(capsys, "schedule", "cancel", *clinic, "--series", "1", "--date",
                    "2030-01-07")
    assert code == 0 and "Session of 2030-01-07 cancelled;" in out and "canceld" not in out


def test_overlap_is_refused(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--therapist", "T-02", "--discipline", "dance", "--days", "wed", "--first",
            "2030-01-01"]
    assert run(capsys, "schedule", "add", *clinic, "--youth", "J-014", "--start", "15:00",
               *args)[0] == 0
    code, out = run(capsys, "schedule", "add", *clinic, "--youth", "J-014", "--youth",
                    "J-015", "--start", "15:30", *args)
    assert code == 2 and "overlaps series 1 for J-014 on wed" in out


def test_import_is_all_or_nothing(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bad = tmp_path / "series.csv"
    bad.write_text("youth,therapist,discipline,days,start,duration,first\n"
                   "J-014,T-02,music,mon,14:00,60,2030-01-01\n"
                   "J-015,T-02,poetry,tue,10:00,45,2030-01-01\n"
                   "J-015,T-99,drama,tue,10:00,45,2030-01-01\n")
    code, out = run(capsys, "schedule", "import", *clinic, str(bad))
    assert code == 2
    assert "row 2: discipline: 'poetry' is not one of" in out
    assert "row 3: unknown therapist code T-99" in out and "nothing was imported" in out
    assert run(capsys, "schedule", "list", *clinic)[1].startswith("No series yet")
    good = tmp_path / "series.toml"
    good.write_text('[[series]]\nyouth = ["J-014", "J-015"]\ntherapist = "T-02"\n'
                    'discipline = "psychomotor"\ndays = "fri"\nstart = "13:00"\n'
                    'first = "2030-01-01"\n'
                    '[[series]]\nyouth = "J-014"\ntherapist = "T-02"\ndiscipline = "music"\n'
                    'once = "2030-01-02"\nstart = "09:00"\n')
    code, out = run(capsys, "schedule", "import", *clinic, str(good))
    assert code == 0 and "Imported 2 series" in out


def test_import_names_unknown_columns(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    dutch = tmp_path / "series.csv"
    dutch.write_text("youth,therapist,vak,days,start\nJ-014,T-02,music,mon,14:00\n")
    code, out = run(capsys, "schedule", "import", *clinic, str(dutch))
    assert code == 2 and "discipline: ''" not in out
    assert "unknown column(s) 'vak'; missing column(s) discipline." in out
    assert "Expected: youth, therapist, discipline, start, days or once" in out
    toml = tmp_path / "series.toml"
    toml.write_text('[[series]]\nyouth = "J-014"\ntherapist = "T-02"\ndiscipline = "music"'
                    '\ndays = "mon"\nstart = "14:00"\nduur = 45\n')
    code, out = run(capsys, "schedule", "import", *clinic, str(toml))
    assert code == 2 and "row 1: unknown column(s) 'duur'" in out
    bad_number = tmp_path / "n.csv"
    bad_number.write_text("youth,therapist,discipline,days,start,duration\n"
                          "J-014,T-02,music,mon,14:00,an hour\n")
    code, out = run(capsys, "schedule", "import", *clinic, str(bad_number))
    assert code == 2 and "row 1: duration: 'an hour' is not a number of minutes" in out
    assert outbox(config) == []


def test_windows_and_overview(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "schedule", "window", *clinic, "--unit", "W-1", "--days",
                    "mon,tue,wed,thu,fri", "--from", "16:00", "--to", "18:00")
    assert code == 0 and "Phone hours for unit W-1" in out
    code, out = run(capsys, "schedule", "window", *clinic, "--youth", "J-014", "--days",
                    "mon", "--from", "18:00", "--to", "16:00")
    assert code == 2 and "must start before it ends" in out
    code, out = run(capsys, "overview", *clinic)
    assert code == 0 and "J-014" in out and "nog niet aangemeld" in out


def test_report_command_renders_offline(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out_file = tmp_path / "week.png"
    code, out = run(capsys, "report", *clinic, "--therapist", "T-02", "--week", "2026-W48",
                    "--out", str(out_file))
    assert code == 0 and out_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1080x" in out and "caption: Week 2026-W48" in out
    code, out = run(capsys, "report", *clinic, "--therapist", "T-09", "--week", "2026-W48",
                    "--out", str(out_file))
    assert code == 1 and "unknown therapist code T-09" in out
    code, out = run(capsys, "report", *clinic, "--therapist", "T-02", "--week", "48",
                    "--out", str(out_file))
    assert code == 2 and "is not like 2026-W48" in out


def test_a_window_inside_quiet_hours_is_refused_naming_both(
    config: Path, clinic: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "schedule", "window", *clinic, "--unit", "W-1", "--from", "22:00",
                    "--to", "23:00")
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: ")
    assert "22:00-23:00" in lines[0] and "21:30-08:00" in lines[0]
    assert "Traceback" not in out
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        assert list(conn.execute("SELECT count(*) FROM phone_windows")) == [(0,)]
    code, out = run(capsys, "schedule", "window", *clinic, "--unit", "W-1", "--from", "21:00",
                    "--to", "23:00")
    assert code == 0 and "Phone hours for unit W-1" in out, "partly usable: accepted"
