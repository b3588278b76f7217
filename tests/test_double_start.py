"""A second `python -m bot run` on the same database refuses to start, naming the first.

The first process is this test holding the lock (as `run` does for its lifetime); the
second is a real child process. The fake Telegram runs in this event loop so that a
child which did reach the network would find a Bot API rather than retry forever.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.offline import write_config
from bot.runlock import AlreadyRunning, hold_database
from faketelegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


async def test_second_run_exits_with_a_clear_line(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        config = write_config(tmp_path, fake.base_url, fake.token)
        settings, _ = load_settings(config)
        with hold_database(settings.storage.database):
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(child.communicate(), timeout=120)
    lines = (out + err).decode().strip().splitlines()
    assert child.returncode not in (0, None)
    assert len(lines) == 1, lines
    assert f"pid {os.getpid()}" in lines[0] and "refused" in lines[0]
    assert str(settings.storage.database) in lines[0]
    assert fake.calls == [], "refused before any call to Telegram"


def test_second_hold_in_one_process_is_refused_and_the_lock_is_freed(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    with (hold_database(database), pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"),
          hold_database(database)):
        pass
    with hold_database(database):  # released when the holder let go
        pass
