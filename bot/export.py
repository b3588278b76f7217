"""Exports to a directory: de-identified research data (default) or the institution's
full data. The content is built by core.export; this only writes the files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conversations.research import export_files
from storage.ports import Store
from storage.private_files import private_dir, write_atomic


async def export(store: Store, out: Path, *, full: bool = False,
                 now: datetime | None = None) -> int:
    """Write answers_long.csv, alerts.csv and codebook.md; return how many youths are in it."""
    files = await export_files(store, now or datetime.now(UTC), full=full)
    private_dir(out)  # 0700; each file 0600, complete or not there (temp file + rename)
    write_atomic(out / "answers_long.csv", files.answers_csv.encode())
    write_atomic(out / "alerts.csv", files.alerts_csv.encode())
    write_atomic(out / "codebook.md", files.codebook.encode())
    return files.youths
