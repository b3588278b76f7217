"""Exports to a directory: de-identified research data (default) or the institution's
full data. The content is built by core.export; this only writes the files."""

from __future__ import annotations

from pathlib import Path

from core.export import build_export
from storage.ports import Store


async def export(store: Store, out: Path, *, full: bool = False) -> int:
    """Write answers_long.csv, alerts.csv and codebook.md; return how many youths are in it."""
    files = build_export(await store.export_rows(research_only=not full), full=full,
                         alerts=await store.export_alerts(research_only=not full))
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers_long.csv").write_text(files.answers_csv, encoding="utf-8", newline="")
    (out / "alerts.csv").write_text(files.alerts_csv, encoding="utf-8", newline="")
    (out / "codebook.md").write_text(files.codebook, encoding="utf-8")
    return files.youths
