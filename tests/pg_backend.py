"""PostgreSQL as a storage backend of the tests: a fresh database per test, opened as
the Store the storage contract and the benchmarks run on.

Each test gets its own database, a copy of a template migrated once per run (copying is
faster than migrating). The contract's openers receive a folder: the same folder gives
the same database, so opening it twice is two processes on one database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.postgres.database import PostgresDatabase
from storage.postgres.store import PostgresStore
from tests import pg_server

TEMPLATE = "vakbot_template"
_migrated = False
_by_folder: dict[Path, str] = {}


def server_or_skip() -> pg_server.PgServer:
    """The run's server; the test is skipped (one line why) when it cannot be started,
    and fails instead under CI (the CI variable set): CI must not skip PostgreSQL."""
    try:
        return pg_server.shared()
    except pg_server.PgUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but cannot be started: {exc}")
        pytest.skip(f"PostgreSQL cannot be started: {exc}")


async def migrated_template(server: pg_server.PgServer) -> str:
    """The name of the template database holding the newest schema (made once)."""
    global _migrated  # noqa: PLW0603 - once per test process
    if not _migrated:
        if TEMPLATE not in server.psql("SELECT datname FROM pg_database").split():
            server.psql(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
        await (await PostgresDatabase.open(server.url(TEMPLATE))).close()
        _migrated = True
    return TEMPLATE


async def fresh_url() -> str:
    """A new database of the newest schema on the run's server."""
    server = server_or_skip()
    return server.fresh_database(template=await migrated_template(server))


async def open_postgres(folder: Path) -> PostgresStore:
    """The contract's opener: the database belonging to `folder` (new on first use)."""
    if folder not in _by_folder:
        _by_folder[folder] = await fresh_url()
    return await PostgresStore.open(_by_folder[folder])
