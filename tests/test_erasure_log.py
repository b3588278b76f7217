"""The erasure log: checksummed, fsynced entries; a torn or corrupt line never erases anyone."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.wiring import open_services
from storage import erasure_log
from tests.support import run_cli

WHEN = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_entries_carry_a_checksum_and_only_the_service_can_read_them(tmp_path: Path) -> None:
    log = tmp_path / "sub" / "db.erasures"
    erasure_log.record(log, "J-014", WHEN)
    erasure_log.record(log, "J-015", WHEN)
    line = log.read_text().splitlines()[0]
    code, at, check = line.split("\t")
    assert (code, at, len(check)) == ("J-014", "2026-11-28T10:00:00.000000+00:00", 16)
    assert log.stat().st_mode & 0o777 == 0o600
    assert erasure_log.read(log).codes == ["J-014", "J-015"]


@pytest.mark.parametrize(("content", "codes", "bad"), [
    # a checksummed line cut short: "J-01" from "J-014" must not erase J-01
    (b"J-01", [], [1]),
    (b"J-014\t2026-11-28T10:00:00+00:00\tdeadbeefdeadbeef\n", [], [1]),   # wrong check
    # old format: only whole lines with an exact code are read
    (b"J-014\t2026-11-28T10:00:00+00:00\n", ["J-014"], []),
    (b"J-014\t2026-11-28T10:00:00+00:00", [], [1]),                      # no newline
    (b"J-01\t2026-11-\n", [], [1]),
    (b"j-014 \t2026-11-28T10:00:00+00:00\n", [], [1]),
    (b"\xff\xfeJ-014\t\x80\n", [], [1]),                                 # not UTF-8
    (b"J-014\t2026-11-28T10:00:00+00:00\n\nJ-0", ["J-014"], [3]),
])
def test_bad_lines_are_reported_by_number_and_never_used(
    tmp_path: Path, content: bytes, codes: list[str], bad: list[int]
) -> None:
    log = tmp_path / "db.erasures"
    log.write_bytes(content)
    parsed = erasure_log.read(log)
    assert parsed.codes == codes
    assert [number for number, _ in parsed.bad_lines] == bad


def test_replay_skips_a_torn_line_and_audits_each_erasure(
    config: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    cfg = ("--config", str(config))
    assert run_cli(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    for code in ("J-01", "J-014", "J-015"):
        assert run_cli(capsys, "enroll-youth", *cfg, "--code", code, "--therapist", "T-02",
                       "--birth-year", "2008", "--unit", "W-1")[0] == 0
    log = config.parent / "db.sqlite3.erasures"
    erasure_log.record(log, "J-015", WHEN)
    with log.open("ab") as f:
        f.write(b"\xff\xfe garbage\nJ-01")          # corrupt bytes, then a torn "J-014"
    settings, secrets = load_settings(config)

    async def start() -> None:
        services = await open_services(settings, secrets)
        await services.store.close()

    capsys.readouterr()
    with caplog.at_level(logging.ERROR):
        asyncio.run(start())
    # The CLI set up logging to stderr earlier in this test; either way the lines show.
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    errors += [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any("line 2 skipped" in m for m in errors)
    assert any("line 3 skipped" in m and "nobody erased" in m for m in errors)
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        erased = [r[0] for r in conn.execute("SELECT youth_code FROM erasures")]
        audited = conn.execute("SELECT actor, action, youth_code FROM audit_log"
                               " WHERE action = 'erase:replay'").fetchall()
    assert erased == ["J-015"]
    assert audited == [("system", "erase:replay", "J-015")]
