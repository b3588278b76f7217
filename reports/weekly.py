"""Gather one therapist's caseload from storage and turn it into images and a caption."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.analytics import (
    SessionPoint,
    detect_ruptures,
    flat_ceiling,
    missed_in_a_row,
    response_rate,
    to_point,
)
from core.questionnaire import Language
from reports.caption import caption
from reports.trend import Panel, Rendered, render_caseload
from storage.ports import Store

SESSIONS_SHOWN = 10


def week_label(moment: datetime, timezone: str) -> str:
    """ISO week of the week that ended before `moment` (a Monday report covers last week)."""
    year, week, _ = (moment.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).isocalendar()
    return f"{year}-W{week:02d}"


def week_end(label: str, timezone: str) -> datetime:
    """The Monday 00:00 local that ends ISO week `label` ('2026-W48')."""
    year, week = label.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1) + timedelta(days=7)
    return datetime.combine(monday, datetime.min.time(), tzinfo=ZoneInfo(timezone))


@dataclass(frozen=True)
class Caseload:
    points: dict[str, list[SessionPoint]]   # by code: youths who agreed to share
    not_sharing: list[str]                  # codes of those who did not: named, never shown


async def caseload(store: Store, therapist_code: str, until: datetime) -> Caseload:
    """The therapist's joined youths: session points of those who share, codes of the rest.

    This is the one door through which answers reach a therapist (image, caption,
    /clients, rupture and missed alerts); crisis alerts do not pass it.
    """
    shared = await store.codes_with_consent("sharing")
    joined = [y.code for y in await store.youths_of(therapist_code) if y.pseudonym is not None]
    by_youth: dict[str, list[SessionPoint]] = {code: [] for code in joined if code in shared}
    for r in await store.session_records(therapist_code, until):
        if r.youth_code not in by_youth:
            continue
        by_youth[r.youth_code].append(to_point(
            r.session_end, r.expires_at, r.answers, r.therapist, 3 if r.simple_mode else 5,
            until))
    return Caseload(by_youth, sorted(code for code in joined if code not in shared))


def panels_from(points_by_youth: dict[str, list[SessionPoint]],
                shown: int = SESSIONS_SHOWN) -> list[Panel]:
    """Analyse each youth's whole series; show the last `shown` sessions."""
    panels = []
    for code, points in sorted(points_by_youth.items()):
        ruptures = detect_ruptures(points)
        offset = max(0, len(points) - shown)
        visible = tuple(
            type(r)(r.index - offset, r.rule, r.drop, r.baseline,
                    None if r.repaired_at is None else r.repaired_at - offset)
            for r in ruptures if r.index >= offset)
        panels.append(Panel(code, tuple(points[offset:]), visible, flat_ceiling(points),
                            response_rate(points), missed_in_a_row(points)))
    return panels


@dataclass(frozen=True)
class WeeklyReport:
    label: str
    images: list[Rendered]
    caption: str
    panels: list[Panel]
    hidden: list[str]      # youths who chose not to share: named, never shown


async def weekly_report(store: Store, therapist_code: str, label: str, timezone: str,
                        lang: Language, until: datetime | None = None) -> WeeklyReport:
    """Build the report for ISO week `label`; rendering runs in a worker thread."""
    until = min(week_end(label, timezone), until) if until else week_end(label, timezone)
    load = await caseload(store, therapist_code, until)
    panels, hidden = panels_from(load.points), load.not_sharing
    images = await asyncio.to_thread(render_caseload, therapist_code, label, panels, lang,
                                     hidden=hidden)
    return WeeklyReport(label, images, caption(label, panels, lang, hidden), panels, hidden)
