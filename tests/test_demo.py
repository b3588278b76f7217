"""The offline demo runs end to end and shows what the youth saw."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.demo import run_demo


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_demo_runs_and_writes_a_transcript(
    tmp_path: Path, lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert await run_demo(out, "nl" if lang == "nl" else "en") == 0
    transcript = (out / "transcript.txt").read_text()
    assert ("Dank je wel! 🙏" if lang == "nl" else "Thank you! 🙏") in transcript
    assert ("👉 Jouw keuze: 😄 Goed" if lang == "nl" else "👉 Your choice: 😄 Good") in transcript
    with sqlite3.connect(out / "bot.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone() == (5,)
    printed = capsys.readouterr().out
    assert "database:" in printed and "transcript:" in printed
