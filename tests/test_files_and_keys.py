"""Issue 11, "Files and keys": what the commands leave on disk, and the keys they accept.

Each test runs the real commands through bot.cli.main against a real SQLite file and
looks at what is on disk (os.stat) or what a person is told.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.identity import new_key
from storage.sqlite import SqliteStore
from tests.support import run_cli as run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of a login shell or a default systemd service: files 0644, folders 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_database_backup_export_and_report_are_private(
    config: Path, capsys: pytest.CaptureFixture[str], usual_umask: None,
) -> None:
    config.write_text(config.read_text().replace('"db.sqlite3"', '"var/data/db.sqlite3"'))
    cfg = ["--config", str(config)]
    base = config.parent
    code, output = run(capsys, "enroll-therapist", *cfg, "--code", "T-02")
    assert code == 0, output
    database = base / "var" / "data" / "db.sqlite3"
    assert mode(database) == 0o600 and mode(database.parent) == 0o700
    assert mode(base / "var") == 0o700

    code, output = run(capsys, "backup", *cfg, "--out", str(base / "backups" / "b.sqlite3"))
    assert code == 0, output
    assert mode(base / "backups" / "b.sqlite3") == 0o600 and mode(base / "backups") == 0o700
    assert "useless without" not in output
    assert "answer" in output and "in clear" in output and "like the database" in output
    assert [p.name for p in (base / "backups").iterdir()] == ["b.sqlite3"], "no temp left"

    code, output = run(capsys, "export", *cfg, "--out", str(base / "exports" / "full"), "--full")
    assert code == 0, output
    assert mode(base / "exports") == 0o700 and mode(base / "exports" / "full") == 0o700
    assert {p.name: mode(p) for p in (base / "exports" / "full").iterdir()} == {
        "answers_long.csv": 0o600, "alerts.csv": 0o600, "codebook.md": 0o600}

    week = base / "reports" / "week.png"
    code, output = run(capsys, "report", *cfg, "--therapist", "T-02", "--week", "2026-W48",
                       "--out", str(week))
    assert code == 0, output
    assert mode(week) == 0o600 and mode(week.parent) == 0o700

    # The -wal and -shm files of the live database, while it is open: SQLite gives them
    # the database file's mode, whatever the umask of whoever opens it.
    assert asyncio.run(wal_and_shm_modes(database)) == (0o600, 0o600)


async def wal_and_shm_modes(database: Path) -> tuple[int, int]:
    store = await SqliteStore.open(database)
    try:
        await store.append_audit("test", "touch", "", "", datetime.now(UTC))
        return (mode(database.with_name("db.sqlite3-wal")),
                mode(database.with_name("db.sqlite3-shm")))
    finally:
        await store.close()


def test_backup_refuses_the_live_database_its_wal_and_a_link_to_it(
    config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = ["--config", str(config)]
    assert run(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    database = config.parent / "db.sqlite3"
    link = config.parent / "link.sqlite3"
    link.symlink_to(database)
    for target in (database, config.parent / "db.sqlite3-wal", link,
                   config.parent / "sub" / ".." / "db.sqlite3"):
        code, output = run(capsys, "backup", *cfg, "--out", str(target))
        assert code == 2, output
        assert output.startswith(f"refused: --out {target} is the live database"), output
    # Nothing was lost: the therapist is still enrolled.
    with sqlite3.connect(database) as conn:
        assert list(conn.execute("SELECT code FROM therapists")) == [("T-02",)]
    code, output = run(capsys, "enroll-therapist", *cfg, "--code", "T-02")
    assert code == 1 and "enrolled already" in output

    # A second backup to the same name replaces the first only once it is complete: the
    # old file is renamed over (a new inode), never unlinked first.
    target = config.parent / "b.sqlite3"
    assert run(capsys, "backup", *cfg, "--out", str(target))[0] == 0
    with target.open("rb") as old_backup:
        assert run(capsys, "backup", *cfg, "--out", str(target))[0] == 0
        assert old_backup.read(16) == b"SQLite format 3\x00"
    with sqlite3.connect(target) as conn:
        assert list(conn.execute("SELECT code FROM therapists")) == [("T-02",)]


def test_new_keys_creates_three_private_keys_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], usual_umask: None,
) -> None:
    keys = tmp_path / "keys"
    code, output = run(capsys, "new-keys", "--dir", str(keys))
    assert code == 0, output
    names = ("vakbot-pseudonym.key", "vakbot-contact.key", "vakbot-text.key")
    assert {p.name: mode(p) for p in keys.iterdir()} == dict.fromkeys(names, 0o600)
    assert mode(keys) == 0o700
    values = {(keys / n).read_text().strip() for n in names}
    assert len(values) == 3, "three different keys"

    # A folder holding one of the files: refused, naming it, and nothing else written.
    other = tmp_path / "other"
    other.mkdir()
    (other / "vakbot-contact.key").write_text("old key, encrypting live data\n")
    code, output = run(capsys, "new-keys", "--dir", str(other))
    assert code == 1 and output.startswith(f"refused: {other / 'vakbot-contact.key'}")
    assert "never overwritten" in output
    assert [p.name for p in other.iterdir()] == ["vakbot-contact.key"]
    assert (other / "vakbot-contact.key").read_text() == "old key, encrypting live data\n"

    # A planted symlink (even a dangling one) is not followed to write a key elsewhere.
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "vakbot-pseudonym.key").symlink_to(tmp_path / "readable-by-all.txt")
    code, output = run(capsys, "new-keys", "--dir", str(planted))
    assert code == 1 and "refused" in output
    assert not (tmp_path / "readable-by-all.txt").exists()


def test_check_config_warns_about_readable_secret_files_and_refuses_shared_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("VAKBOT_TELEGRAM__TOKEN", "VAKBOT_KEYS__PSEUDONYM_KEY",
                 "VAKBOT_KEYS__CONTACT_KEY", "VAKBOT_KEYS__TEXT_KEY"):
        monkeypatch.delenv(name, raising=False)
    secrets = tmp_path / "secrets"
    assert run(capsys, "new-keys", "--dir", str(secrets))[0] == 0
    (secrets / "token").write_text("5550001:not-a-real-token\n")
    (secrets / "token").chmod(0o644)          # as `echo TOKEN > file` leaves it
    (secrets / "vakbot-contact.key").chmod(0o640)
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\nbot_username = "vakbot_demo_bot"\ntoken_file = "secrets/token"\n'
        '[keys]\npseudonym_key_file = "secrets/vakbot-pseudonym.key"\n'
        'contact_key_file = "secrets/vakbot-contact.key"\n'
        'text_key_file = "secrets/vakbot-text.key"\n'
        '[storage]\ndatabase = "db.sqlite3"\n[coordinators]\ntelegram_ids = [9001]\n')
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 0, output
    assert output.splitlines() == [
        f"warning: keys.contact_key_file: {secrets / 'vakbot-contact.key'} is readable by "
        f"group or others (mode 640); run `chmod 600 {secrets / 'vakbot-contact.key'}`",
        f"warning: telegram.token_file: {secrets / 'token'} is readable by group or others "
        f"(mode 644); run `chmod 600 {secrets / 'token'}`",
        f"{config}: ok"]

    # One key for two jobs is refused, for check-config and run alike.
    (secrets / "vakbot-contact.key").write_text((secrets / "vakbot-pseudonym.key").read_text())
    (secrets / "vakbot-contact.key").chmod(0o600)
    (secrets / "token").chmod(0o600)
    for command in ("check-config", "run"):
        code, output = run(capsys, command, "--config", str(config))
        assert code == 2, output
        assert "keys.pseudonym_key: the same as keys.contact_key" in output
    (secrets / "vakbot-contact.key").write_text(new_key())
    (secrets / "vakbot-text.key").write_text((secrets / "vakbot-contact.key").read_text())
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 2 and "keys.text_key: shares a key with keys.contact_key" in output

    # No text key at all: it still works (older installs), with a warning saying what to do.
    config.write_text(config.read_text().replace('text_key_file = "secrets/vakbot-text.key"\n',
                                                 ""))
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 0, output
    assert output.startswith("warning: keys.text_key: not set; notes and crisis texts are "
                             "encrypted with the contact key"), output
