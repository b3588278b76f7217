"""The audit trail cannot be cut short unnoticed, and "who" is the real operating-system user."""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
from pathlib import Path

import pytest

from conversations.enrolment import cli_actor
from tests.support import run_cli


def _enrol_some(capsys: pytest.CaptureFixture[str], config: Path, n: int,
                first: int = 10) -> None:
    cfg = ("--config", str(config))
    for i in range(first, first + n):
        assert run_cli(capsys, "enroll-therapist", *cfg, "--code", f"T-{i}")[0] == 0


def test_intact_chain_verifies_against_its_anchor(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _enrol_some(capsys, config, 3)
    anchor = config.parent / "db.sqlite3.audit-anchor"
    assert len(anchor.read_text().splitlines()) == 3
    assert anchor.stat().st_mode & 0o777 == 0o600
    code, out = run_cli(capsys, "audit", "--config", str(config), "verify")
    assert code == 0 and "3 entries; chain intact" in out


def test_a_chain_cut_short_in_sqlite_is_named(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _enrol_some(capsys, config, 5)
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:   # file access, no keys
        for trigger in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                    " AND tbl_name = 'audit_log'").fetchall():
            conn.execute(f"DROP TRIGGER {trigger[0]}")
        conn.execute("DELETE FROM audit_log WHERE seq > 3")
        conn.commit()
    code, out = run_cli(capsys, "audit", "--config", str(config), "verify")
    assert code == 1
    assert "the database holds 3 entries, the anchor says 5: 2 entries missing after entry 3" in out


def test_an_older_backup_restored_is_named(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = config.parent / "db.sqlite3"
    _enrol_some(capsys, config, 2)
    old = config.parent / "old.sqlite3"
    assert run_cli(capsys, "backup", "--config", str(config), "--out", str(old))[0] == 0
    _enrol_some(capsys, config, 1, first=20)
    shutil.copy(old, db)
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    code, out = run_cli(capsys, "audit", "--config", str(config), "verify")
    assert code == 1 and "the database holds 2 entries, the anchor says 4: 2 entries missing" in out
    # A rewritten chain of the same length is caught by the head hash.
    _enrol_some(capsys, config, 2, first=30)   # entries 3 and 4 again, but other ones
    code, out = run_cli(capsys, "audit", "--config", str(config), "verify")
    assert code == 1 and "head hash differs: entry 4" in out


def test_a_forged_anchor_line_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _enrol_some(capsys, config, 1)
    anchor = config.parent / "db.sqlite3.audit-anchor"
    with anchor.open("a") as f:
        f.write(f"9 {'a' * 64} 2026-11-29T10:00:00+00:00 {'b' * 64}\n")
    code, out = run_cli(capsys, "audit", "--config", str(config), "verify")
    assert code == 1 and "anchor line 2: its MAC does not match" in out


def test_who_is_the_real_user_not_the_user_variable(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "dr-jansen")
    monkeypatch.setenv("LOGNAME", "dr-jansen")
    monkeypatch.delenv("SUDO_USER", raising=False)
    _enrol_some(capsys, config, 1)
    real = pwd.getpwuid(os.getuid()).pw_name
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        actors = [r[0] for r in conn.execute("SELECT actor FROM audit_log")]
    assert actors == [f"cli:{real}"] and real != "dr-jansen"


def test_sudo_adds_the_invoking_user_only_for_root() -> None:
    assert cli_actor(uid=0, sudo_user="alice") == "cli:root(sudo:alice)"
    assert cli_actor(uid=0, sudo_user="") == "cli:root"
    me = os.getuid()
    if me != 0:
        assert cli_actor(uid=me, sudo_user="alice") == f"cli:{pwd.getpwuid(me).pw_name}"
    assert cli_actor(uid=2_000_000_123, sudo_user="") == "cli:uid2000000123"
