"""The per-youth text (reports.youth.youth_text): pure, one line per session, the note's
text where there is one, a crisis marker but never a crisis text, flags as plain lines."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.analytics import State
from core.flags import Flag
from reports.youth import SessionLine, youth_text

AMS = ZoneInfo("Europe/Amsterdam")
DAY = datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_english_lines_per_session() -> None:
    sessions = [
        SessionLine(DAY, "drama", State.ANSWERED, "⚡ An argument", "too fast\nand loud"),
        SessionLine(DAY.replace(day=25), None, State.MISSED),
        SessionLine(DAY.replace(day=26), "music", State.ANSWERED, None, None, crisis=True),
        SessionLine(DAY.replace(day=27), "music", State.ANSWERED),
    ]
    flag = Flag("floor", "Bond: the lowest answer.", "Talk about it next session.",
                alerting=True)
    assert youth_text("J-103", sessions, [flag], "en", AMS).splitlines() == [
        "J-103 · the last 4 sessions with you", "", "Flags:",
        "• Bond: the lowest answer. Talk about it next session.", "",
        "Per session (the youth's event and note):",
        "24/11 drama therapy: ⚡ An argument", "  ✎ too fast", "  ✎ and loud",
        "25/11 therapy: missed",
        "26/11 music therapy:",
        "  ! crisis signal at this check-in (see the alert from then)",
        "27/11 music therapy: nothing special, no note",
    ]
