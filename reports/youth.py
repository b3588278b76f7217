"""The therapist's per-youth view (/report J-103): one youth's strip over more sessions,
and a text with, per session, the event the youth chose and the note they typed.

Only for youths who agreed to share with this therapist (the same door as the weekly
image: reports.weekly.caseload); only this therapist's sessions (alliance belongs to a
youth-therapist pair). A crisis text is never shown here, only a marker at its session:
the crisis alert is the one place that handles it. The text builder is pure
(`youth_text`); gathering and rendering are below it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.analytics import ANSWERED_STATES, EVENT_KEY, MISSED_IN_A_ROW, NO_EVENT, State
from core.flags import Flag
from core.questionnaire import Language, Questionnaire, questionnaire_version
from core.texts import say
from reports.repairs import discussed_alerts
from reports.trend import WORDS, Panel, Rendered, render_caseload
from reports.weekly import caseload, panels_from
from storage.ports import Store

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
            lines.append(f"{head} {WORDS[lang][s.state]}")
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


async def youth_view(store: Store, therapist_code: str, code: str, until: datetime,
                     lang: Language, zone: ZoneInfo, questionnaire: Questionnaire,
                     open_note: Callable[[bytes], str], missed_after: int = MISSED_IN_A_ROW,
                     shown: int = SESSIONS_SHOWN, *, render: bool = True) -> YouthView:
    """Gather, analyse and render one youth for this therapist.

    `open_note` opens a sealed note (Cipher.open_text); a note that cannot be opened is
    left out with the rest of the session still shown. `render` False skips the image
    (the console's page shows the same data as a table)."""
    load = await caseload(store, therapist_code, until)
    if code not in load.points:
        return YouthView(code in load.not_sharing, False, [], "")
    # The same rows caseload read, kept whole so each shown point has its record.
    records = [r for r in await store.session_records(therapist_code, until)
               if r.youth_code == code]
    if not records:
        return YouthView(True, True, [], say(lang, "report_youth_empty", code=code))
    alerts = discussed_alerts(await store.rupture_alerts(therapist_code))
    (panel,) = panels_from({code: [r.point(until) for r in records]}, shown=shown,
                           lang=lang, missed_after=missed_after, alerts=alerts)
    notes = await store.session_notes(code)
    sessions = []
    for record, point in zip(records[-shown:], panel.points, strict=True):
        extra = notes.get(record.occurrence_key)
        text = None
        if extra is not None and extra.note_enc is not None:
            try:
                text = open_note(extra.note_enc)
            except Exception:   # sealed with a key no longer configured: leave it out
                text = None
        asked = questionnaire_version(questionnaire, record.questionnaire_version)
        labels = {o.value: o.text(lang) for o in asked.event.options}
        event = record.answers.get(EVENT_KEY)
        sessions.append(SessionLine(
            point.when, extra.discipline if extra else None, point.state,
            labels.get(event, event) if event and event not in NO_EVENT else None,
            text, point.crisis))
    images = (await asyncio.to_thread(_render, therapist_code, code, panel, lang)
              if render else [])
    return YouthView(True, True, images,
                     youth_text(code, sessions, panel.flags, lang, zone), panel,
                     tuple(sessions), tuple(r.occurrence_key for r in records[-shown:]))


def _render(therapist_code: str, code: str, panel: Panel, lang: Language) -> list[Rendered]:
    title = say(lang, "report_youth_head", code=code, n=len(panel.points))
    return render_caseload(therapist_code, "", [panel], lang, title=title)
