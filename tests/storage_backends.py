"""The storage backends the contract runs on: one registry, one `store` fixture.

Every contract test class derives from `StoreContract`, so it runs once per entry of
`BACKENDS`. An opener takes a fresh temporary folder and returns an open `Store`; it
raises `BackendUnavailable` when its backend cannot run here (no PostgreSQL server, say),
and the test is then skipped with that reason instead of failing.

To register a backend, add its opener to `BACKENDS` (and to `SHARED_FOLDER` when opening
one folder twice gives two processes' views of one database). This is the only module of
the contract that names a backend's class: the tests speak the port API alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from storage.database import Migration
from storage.ports import Store
from storage.sqlite import SqliteStore  # the one import to follow sqlport's renames

Opener = Callable[[Path], Awaitable[Store]]


class BackendUnavailable(Exception):
    """The backend cannot be opened on this machine; the message says why."""


async def open_sqlite_file(path: Path,
                           migrations: Sequence[Migration] | None = None) -> SqliteStore:
    """The SQLite store on one file: also for the few SQLite-only tests (migrations, WAL,
    backup), so this module stays the one place that names the SQLite class."""
    return await SqliteStore.open(path, migrations)


async def _open_sqlite(folder: Path) -> Store:
    return await open_sqlite_file(folder / "contract.sqlite3")


async def _open_memory(folder: Path) -> Store:
    from storage.memory.store import MemoryStore  # noqa: PLC0415 - as _open_sqlite

    return MemoryStore()


async def _open_postgres(folder: Path) -> Store:
    from tests.pg_backend import open_postgres  # noqa: PLC0415 - psycopg only when used

    return await open_postgres(folder)


BACKENDS: dict[str, Opener] = {
    "sqlite": _open_sqlite,
    "memory": _open_memory,
    # A fresh database of the run's PostgreSQL server (tests/pg_server.py); the same
    # folder reaches the same database. Skips (fails under CI) when none can be started.
    "postgres": _open_postgres,
}

# Backends where opening the same folder again gives a second process on the same data
# (the leases between two owners are tested there). The memory twin has no such thing.
SHARED_FOLDER: frozenset[str] = frozenset({"sqlite", "postgres"})

# Contract tests a backend is known to fail, with the defect: (backend, test) -> reason.
# Marked strict xfail, so the fix shows up as a failure that asks to remove the entry.
# An entry for a backend not registered (yet) does nothing.
# Defects found by the contract and fixed since (unbinding twice, erased youths in the
# overview) are no longer listed; a new one goes here until it is fixed.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


async def open_backend(name: str, folder: Path) -> Store:
    """Open `name` on `folder`, or skip the calling test with the backend's reason."""
    try:
        return await BACKENDS[name](folder)
    except BackendUnavailable as exc:
        pytest.skip(f"storage backend {name!r} unavailable: {exc}")


class StoreContract:
    """Base of every contract test class: `store` is a fresh, empty store per backend."""

    @pytest.fixture(params=sorted(BACKENDS))
    def backend(self, request: pytest.FixtureRequest) -> str:
        name = str(request.param)
        defect = KNOWN_DEFECTS.get((name, getattr(request.node, "originalname", "")))
        if defect is not None:
            request.applymarker(pytest.mark.xfail(reason=defect, strict=True))
        return name

    @pytest.fixture
    async def store(self, backend: str, tmp_path: Path) -> AsyncIterator[Store]:
        opened = await open_backend(backend, tmp_path)
        yield opened
        await opened.close()

    @pytest.fixture
    async def other(self, backend: str, tmp_path: Path,
                    store: Store) -> AsyncIterator[Store]:
        """A second process on the same database as `store` (skipped where there is none)."""
        if backend not in SHARED_FOLDER:
            pytest.skip(f"storage backend {backend!r} has no second process on one database")
        opened = await open_backend(backend, tmp_path)
        yield opened
        await opened.close()
