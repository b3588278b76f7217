"""The offline demo: a simulated clinic through the real stack, in under a minute."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.demo import run_demo


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_demo_runs_the_clinic(
    tmp_path: Path, lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert await run_demo(out, "nl" if lang == "nl" else "en") == 0
    transcript = (out / "transcript-J-103.txt").read_text()
    assert ("Dank je wel! 🙏" if lang == "nl" else "Thank you! 🙏") in transcript
    images = sorted((out / "images").glob("*.png"))
    assert len(images) == 6 and all(p.read_bytes()[:4] == b"\x89PNG" for p in images)
    with sqlite3.connect(out / "bot.sqlite3") as conn:
        kinds = {r[0] for r in conn.execute("SELECT kind FROM alerts")}
        assert kinds == {"crisis", "rupture", "missed"}
        assert conn.execute("SELECT count(*) FROM checkins WHERE status = 'complete'"
                            ).fetchone()[0] > 80
        # J-113 (13, no phone) answered every week on the kiosk tablet.
        assert conn.execute("SELECT count(*) FROM kiosk_codes WHERE used_at IS NOT NULL"
                            ).fetchone()[0] >= 8
    assert (out / "research-export" / "codebook.md").exists()
    exported = (out / "research-export" / "answers_long.csv").read_text()
    assert "J-1" not in exported and exported.startswith("participant,session_date")
    printed = capsys.readouterr().out
    assert "database:" in printed and "weekly image:" in printed and "week 8 of 8" in printed
