"""The therapist's per-youth view (/report J-103): one youth's strip over more sessions,
and a text with, per session, the event the youth chose and the note they typed.

Only for youths who agreed to share with this therapist (the same door as the weekly
image: conversations.reporting.caseload); only this therapist's sessions (alliance belongs to a
youth-therapist pair). A crisis text is never shown here, only a marker at its session:
the crisis alert is the one place that handles it. Pure: the text
(`youth_text`) and the image (`render_youth`) are made from what
conversations.reporting gathers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from core.analytics import ANSWERED_STATES, State
from core.flags import Flag
from core.questionnaire import Language
from core.texts import say
from reports.trend import Panel, Rendered, render_caseload, trend_words

SESSIONS_SHOWN = 12


@dataclass(frozen=True)
class SessionLine:
    """One session as the per-youth text shows it (`note` is the opened note text)."""

    when: datetime
    discipline: str | None
    state: State
    event: str | None = None     # the chosen event's label ("Ruzie gehad"), None: nothing
    note: str | None = None
    crisis: bool = False


def youth_text(code: str, sessions: Sequence[SessionLine], flags: Sequence[Flag],
               lang: Language, zone: ZoneInfo) -> str:
    """Head, the flags as plain lines, then one line per session (newest last) with its
    event and note; the crisis marker where a crisis text came from, never its text."""
    lines = [say(lang, "report_youth_head", code=code, n=len(sessions)), "",
             say(lang, "report_youth_flags") if flags else say(lang, "report_youth_no_flags")]
    lines += [f"• {f.what} {f.todo}" for f in flags]
    lines += ["", say(lang, "report_youth_sessions")]
    for s in sessions:
        therapy = say(lang, f"therapy_{s.discipline}" if s.discipline else "therapy_any")
        head = f"{s.when.astimezone(zone):%d/%m} {therapy}:"
        if s.state not in ANSWERED_STATES:
            lines.append(f"{head} {trend_words(lang)[s.state]}")
            continue
        parts = [s.event] if s.event else []
        if not s.event and not s.note and not s.crisis:
            parts.append(say(lang, "report_youth_nothing"))
        lines.append(" ".join([head, *parts]))
        if s.note:
            lines += [f"  ✎ {row}" for row in s.note.splitlines() if row.strip()]
        if s.crisis:
            lines.append(f"  {say(lang, 'report_youth_crisis')}")
    return "\n".join(lines)


@dataclass(frozen=True)
class YouthView:
    """What /report J-103 shows: `sharing` False means one line and nothing else."""

    known: bool                  # one of this therapist's youths
    sharing: bool
    images: list[Rendered]
    text: str
    # The same view as data, for the console's per-youth page: the analysed panel, the
    # sessions shown (oldest first, one per panel point) and each one's occurrence key.
    panel: Panel | None = None
    sessions: tuple[SessionLine, ...] = ()
    occurrence_keys: tuple[str, ...] = ()


def render_youth(therapist_code: str, code: str, panel: Panel, lang: Language,
                 zone: tzinfo) -> list[Rendered]:
    """One youth's strip (slow: matplotlib; the caller runs it off the loop)."""
    title = say(lang, "report_youth_head", code=code, n=len(panel.points))
    return render_caseload(therapist_code, "", [panel], lang, title=title, zone=zone)
