"""Files only the service account can read: private folders and atomic, fsynced writes.

The database, its backups, exports and report images hold answers, birth years, units and
ratings in clear by youth code. They are created 0600 in 0700 folders (the process runs
under umask 077, see bot.cli.main), and a file that replaces an older one is written to a
0600 temporary file beside it, fsynced and renamed, so the older copy exists until the new
one is complete. This lives in storage/ because the database backup needs it too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_UMASK = 0o077


class UnsafeTarget(ValueError):
    """A target file that must not be written: it is the live database or part of it."""


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Every file and folder created inside is readable by the owner only."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def private_dir(path: Path) -> None:
    """Create a folder (and missing parents) as 0700; an existing folder is left as is."""
    old = os.umask(PRIVATE_UMASK)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    finally:
        os.umask(old)


@contextlib.contextmanager
def temp_beside(target: Path) -> Iterator[Path]:
    """A fresh 0600 file in target's folder; removed unless the caller renamed it away."""
    private_dir(target.parent)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def commit_temp(temp: Path, target: Path) -> None:
    """fsync the finished temporary file, rename it over target, fsync the folder."""
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, target)
    fsync_dir(target.parent)


def append_durably(path: Path, line: bytes) -> None:
    """Append one line to a 0600 append-only file and fsync it (the folder too when the
    file is new), so a crash right after cannot lose it: the erasure log, the audit anchor."""
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes) -> None:
    """Write data to target as 0600, all or nothing: a crash leaves the old file whole."""
    with temp_beside(target) as temp:
        temp.write_bytes(data)
        commit_temp(temp, target)


def create_secret(target: Path, text: str) -> None:
    """Create a new 0600 file with text; raise FileExistsError rather than overwrite it.

    O_CREAT|O_EXCL with mode 0600: the file is never readable by others, not even for the
    moment between a write and a chmod.
    """
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def readable_by_others(path: Path) -> bool:
    """True when group or others may read (or write) the file."""
    return bool(path.stat().st_mode & 0o077)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (symlinks, `..` and hard links included)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
