"""The erasure log: a plain file beside (not inside) the database.

A restore from an older backup would bring erased data back; replaying this log at
start-up erases it again. It holds youth codes and times only.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from storage.timefmt import iso


def record(path: Path, youth_code: str, when: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(f"{youth_code}\t{iso(when)}\n")


def codes(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
