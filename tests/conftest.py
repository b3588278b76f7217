from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.identity import new_key
from tests import pg_backend, pg_server
from tests.support import Harness, running_bot
from tests.web_support import BrowserThread, browser_session


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal config file, with secrets in the environment as in production."""
    monkeypatch.setenv("VAKBOT_TELEGRAM__TOKEN", "5550001:not-a-real-token")
    monkeypatch.setenv("VAKBOT_KEYS__PSEUDONYM_KEY", new_key())
    monkeypatch.setenv("VAKBOT_KEYS__CONTACT_KEY", new_key())
    monkeypatch.setenv("VAKBOT_KEYS__TEXT_KEY", new_key())
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\nbot_username = "vakbot_demo_bot"\n'
                    '[storage]\ndatabase = "db.sqlite3"\n')
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserThread]:
    """Chromium, launched once per test session (see tests/web_support.py)."""
    with browser_session() as running:
        yield running



@pytest.fixture(scope="session")
def pg_cluster() -> pg_server.PgServer:
    """The test run's PostgreSQL (tests/pg_server.py), with a migrated template database.

    When it cannot be started the test is skipped with the reason in one line; in CI
    (the CI variable set) it fails instead: CI must not skip the PostgreSQL tests.
    """
    server = pg_backend.server_or_skip()
    asyncio.run(pg_backend.migrated_template(server))
    return server


@pytest.fixture
def pg_url(pg_cluster: pg_server.PgServer) -> str:
    """A fresh database of the newest schema (a copy of the migrated template)."""
    return pg_cluster.fresh_database(template=pg_backend.TEMPLATE)


@pytest.fixture
def pg_empty_url(pg_cluster: pg_server.PgServer) -> str:
    """A fresh empty database, for tests of the migrations themselves."""
    return pg_cluster.fresh_database()
