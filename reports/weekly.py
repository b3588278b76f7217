"""One therapist's week as images and a caption: pure, from the points a use case hands
over (conversations.reporting gathers them from storage)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from core.analytics import (
    MISSED_IN_A_ROW,
    SessionPoint,
    detect_ruptures,
    flat_ceiling,
    missed_in_a_row,
    persistent_discrepancy,
    response_rate,
)
from core.flags import flags
from core.questionnaire import Language
from core.repair import DiscussedAlert, repaired_after_discussion
from reports import pool
from reports.caption import caption
from reports.drawn import DRAWN
from reports.trend import Panel, Rendered

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


def panels_from(points_by_youth: dict[str, list[SessionPoint]],
                shown: int = SESSIONS_SHOWN, lang: Language = "nl",
                missed_after: int = MISSED_IN_A_ROW,
                alerts: dict[str, list[DiscussedAlert]] | None = None) -> list[Panel]:
    """Analyse each youth's whole series; show the last `shown` sessions.

    `missed_after` is config alerts.missed_in_a_row: the alert, the caption and the image
    flag a missed streak at the same length. `alerts` (by youth: this therapist's rupture
    alerts) mark drops that recovered after "Besproken" (core.repair)."""
    panels = []
    for code, points in sorted(points_by_youth.items()):
        ruptures = detect_ruptures(points)
        offset = max(0, len(points) - shown)
        discussed = frozenset(
            i - offset for i in repaired_after_discussion(points, ruptures,
                                                         (alerts or {}).get(code, []))
            if i >= offset)
        visible = tuple(
            replace(r, index=r.index - offset,
                    repaired_at=None if r.repaired_at is None else r.repaired_at - offset)
            for r in ruptures if r.index >= offset)
        scale = points[-1].points if points else 5
        streak = missed_in_a_row(points)
        ceiling = flat_ceiling(points)
        found = flags(visible, streak, ceiling, persistent_discrepancy(points), lang,
                      missed_after, discussed)
        panels.append(Panel(code, tuple(points[offset:]), visible, ceiling,
                            response_rate(points), streak, tuple(found), scale == 3,
                            discussed))
    return panels


@dataclass(frozen=True)
class WeeklyReport:
    label: str
    images: list[Rendered]
    caption: str
    panels: list[Panel]
    hidden: list[str]      # youths who chose not to share: named, never shown


async def render_weekly(therapist_code: str, label: str, load: Caseload,
                        alerts: dict[str, list[DiscussedAlert]], lang: Language, zone: tzinfo,
                        missed_after: int = MISSED_IN_A_ROW) -> WeeklyReport:
    """Analyse the week here and draw it in a worker process (reports.pool): the event
    loop never holds matplotlib."""
    panels, hidden = panels_from(load.points, lang=lang, missed_after=missed_after,
                                 alerts=alerts), load.not_sharing
    key = DRAWN.key(therapist_code, label, panels, lang, hidden, str(zone))
    images = DRAWN.get(key)
    if images is None:
        images = await pool.render_caseload(therapist_code, label, panels, lang,
                                            hidden=hidden, zone=zone)
        DRAWN.put(key, images)
    return WeeklyReport(label, images, caption(label, panels, lang, hidden), panels, hidden)
