"""One bot process per database: a lock file beside it, held for the process lifetime.

Two bot processes on one database (an accidental double start, a unit file and a manual
run) would each send what is due: the therapist got a crisis alert twice. The second one
therefore refuses to start, naming the pid of the first. `flock` is released by the
kernel when the holder dies, however it dies, so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunning(SystemExit):
    """Another process holds the database. A SystemExit: one line on stderr, exit 1,
    no traceback, and not caught by the start-up retry loops that catch Exception."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def hold_database(database: Path) -> Iterator[Path]:
    """Hold the database's lock file until the block ends; refuse if another holds it."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"refused: another vakbot process (pid {holder}) is running on {database}; "
                f"stop it first (lock file {path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
