"""The use cases behind the therapist's images and the export: gather from storage, then
hand plain data to the pure renderers in reports/ (which never query)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from core.analytics import EVENT_KEY, MISSED_IN_A_ROW, NO_EVENT, SessionPoint
from core.export import AlertExportRow
from core.questionnaire import Language, Questionnaire, questionnaire_version
from core.records import Alert
from core.repair import DiscussedAlert
from core.texts import say
from reports.repairs import Series, mark_repairs, needs_series
from reports.weekly import Caseload, WeeklyReport, panels_from, render_weekly, week_end
from reports.youth import SESSIONS_SHOWN, SessionLine, YouthView, render_youth, youth_text
from storage.ports import LoopRepo, PrivacyRepo, TherapistRepo


class ReportingStore(LoopRepo, PrivacyRepo, TherapistRepo, Protocol):
    """The storage ports the reports need: reads only, narrower than the whole Store."""


async def caseload(store: ReportingStore, therapist_code: str, until: datetime) -> Caseload:
    """The therapist's youths: session points of those who share, codes of the rest.

    A youth is in this caseload when enrolled with this therapist or when they had a
    session with this therapist; the points are only the sessions with THIS therapist
    (alliance belongs to a youth-therapist pair). This is the one door through which
    answers reach a therapist (image, caption, /clients, rupture and missed alerts);
    crisis alerts do not pass it.
    """
    shared = await store.codes_with_consent("sharing")
    records = await store.session_records(therapist_code, until)
    enrolled = {y.code for y in await store.youths_of(therapist_code) if y.pseudonym is not None}
    joined = sorted(enrolled | {r.youth_code for r in records})
    by_youth: dict[str, list[SessionPoint]] = {code: [] for code in joined if code in shared}
    for r in records:
        if r.youth_code in by_youth:
            by_youth[r.youth_code].append(r.point(until))
    return Caseload(by_youth, [code for code in joined if code not in shared])


def discussed_alerts(alerts: list[Alert]) -> dict[str, list[DiscussedAlert]]:
    """Rupture alerts by youth code, as the repair rule (core.repair) needs them."""
    out: dict[str, list[DiscussedAlert]] = {}
    for a in alerts:
        if a.kind == "rupture":
            out.setdefault(a.youth_code, []).append(DiscussedAlert(a.created_at,
                                                                   a.discussed_at))
    return out


async def weekly_report(store: ReportingStore, therapist_code: str, label: str, timezone: str,
                        lang: Language, until: datetime | None = None,
                        missed_after: int = MISSED_IN_A_ROW) -> WeeklyReport:
    """Build the report for ISO week `label`; drawing runs in a worker process."""
    until = min(week_end(label, timezone), until) if until else week_end(label, timezone)
    load = await caseload(store, therapist_code, until)
    alerts = discussed_alerts(await store.rupture_alerts(therapist_code))
    return await render_weekly(therapist_code, label, load, alerts, lang, ZoneInfo(timezone),
                               missed_after)


async def youth_view(store: ReportingStore, therapist_code: str, code: str, until: datetime,
                     lang: Language, zone: ZoneInfo, questionnaire: Questionnaire,
                     open_note: Callable[[bytes], str], missed_after: int = MISSED_IN_A_ROW,
                     shown: int = SESSIONS_SHOWN, *, render: bool = True) -> YouthView:
    """Gather, analyse and render one youth for this therapist (/report J-103).

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
    images = (await asyncio.to_thread(render_youth, therapist_code, code, panel, lang, zone)
              if render else [])
    return YouthView(True, True, images,
                     youth_text(code, sessions, panel.flags, lang, zone), panel,
                     tuple(sessions), tuple(r.occurrence_key for r in records[-shown:]))


async def with_repairs(store: TherapistRepo, rows: list[AlertExportRow],
                       until: datetime) -> list[AlertExportRow]:
    """The export's alert rows, each discussed rupture alert marked whether its drop
    recovered after 'Besproken' (reports.repairs.mark_repairs)."""
    series: Series = {}
    for therapist in needs_series(rows):
        for record in await store.session_records(therapist, until):
            series.setdefault((record.youth_code, therapist), []).append(record.point(until))
    return mark_repairs(rows, series)
