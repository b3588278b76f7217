"""Exports: de-identified research data (default) or the institution's full data."""

from __future__ import annotations

import csv
import secrets
from collections import defaultdict
from pathlib import Path

from core.export import codebook, date_shift, participant_id
from storage.ports import ExportRow, Store

FIELDS = ["participant", "session_date", "session_index", "status", "item", "value",
          "scale_points", "questionnaire_version"]


def _write(rows: list[ExportRow], out: Path, full: bool) -> int:
    key = secrets.token_bytes(32)   # a fresh key per export: ids cannot be joined across
    sessions: dict[str, list[object]] = defaultdict(list)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "answers_long.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["youth_code", *FIELDS[1:]] if full else FIELDS)
        for r in rows:
            seen = sessions[r.pseudonym]
            if r.session_at not in seen:
                seen.append(r.session_at)
            when = r.session_at if full else r.session_at + date_shift(key, r.pseudonym)
            writer.writerow([r.youth_code if full else participant_id(key, r.pseudonym),
                             when.date().isoformat(), seen.index(r.session_at) + 1, r.status,
                             r.item, r.value, 3 if r.simple_mode else 5,
                             r.questionnaire_version])
    (out / "codebook.md").write_text(codebook(), encoding="utf-8")
    return len(sessions)


async def export(store: Store, out: Path, *, full: bool = False) -> int:
    """Write answers_long.csv and codebook.md; return how many youths are in it."""
    return _write(await store.export_rows(research_only=not full), out, full)
