"""The erasure log: a plain file beside (not inside) the database.

A restore from an older backup would bring erased data back; replaying this log at
start-up erases it again. It holds youth codes and times only.

Each entry is one line `CODE<TAB>TIME<TAB>CHECK`, where CHECK is the first 16 hex digits of
SHA-256 over `CODE<TAB>TIME`, written with fsync (and the folder fsynced when the file is
made). A line cut short by a crash ("J-01" from "J-014") or otherwise damaged fails its
check and is skipped and reported, never replayed: erasing on a bad line could erase
another youth. Lines of the old format (`CODE<TAB>TIME`, no check) are still read, but
only when complete (ending in a newline) and the code matches the code pattern exactly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from storage.private_files import append_durably
from storage.timefmt import iso

_CODE = re.compile(r"[A-Z]{1,4}-[0-9]{1,5}")   # as bot.cli.CODE
_OLD_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.+\-Z]+")


def _check(code: str, when: str) -> str:
    return hashlib.sha256(f"{code}\t{when}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ErasureLog:
    """What the log says: codes to erase (in order) and the lines that could not be used."""
    codes: list[str] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


@dataclass(frozen=True)
class ErasureLogFile:
    """The erasure log at `path`, as the ErasureJournal port the use cases write to."""

    path: Path

    def record(self, youth_code: str, when: datetime) -> None:
        record(self.path, youth_code, when)


def record(path: Path, youth_code: str, when: datetime) -> None:
    """Append one checksummed entry and fsync it before the erasure itself runs."""
    at = iso(when)
    append_durably(path, f"{youth_code}\t{at}\t{_check(youth_code, at)}\n".encode())


def read(path: Path) -> ErasureLog:
    """Parse the log; every line that is not a whole, valid entry is reported, not used."""
    if not path.exists():
        return ErasureLog()
    data = path.read_bytes()
    result = ErasureLog()
    lines = data.split(b"\n")
    complete = len(lines) - 1          # the part after the last newline is unfinished
    for index, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        why = _problem(raw, index <= complete)
        if why is None:
            result.codes.append(raw.decode("ascii").split("\t", 1)[0])
        else:
            result.bad_lines.append((index, why))
    return result


def _problem(raw: bytes, complete: bool) -> str | None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return "not text (corrupt)"
    parts = text.split("\t")
    if len(parts) == 3:
        code, at, check = parts
        if _check(code, at) != check:
            return "checksum does not match (torn or edited)"
        if not _CODE.fullmatch(code):
            return "not a youth code"
        return None
    if len(parts) == 2:                # the format before checksums
        if not complete:
            return "unfinished last line (torn write)"
        if not (_CODE.fullmatch(parts[0]) and _OLD_TIME.fullmatch(parts[1])):
            return "old-format line that is not a whole entry"
        return None
    return "not an erasure entry (torn or edited)"


def codes(path: Path) -> list[str]:
    """The codes of every valid entry (bad lines skipped; see `read` for those)."""
    return read(path).codes
