"""Pure rules behind the console's pages: a week of sessions as coordinators plan them,
the state of an alert, and the overview's filters.

Nothing here decides anew what core.schedule, core.analytics or core.compliance decide:
the week view asks `occurrences` twice (as planned, and with the changes applied) and
names the difference; the overview filters rows that core.compliance built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.compliance import Compliance
from core.schedule import Change, Series, occurrence_key, occurrences


class SessionMark(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"    # this one session was cancelled
    MOVED = "moved"            # shown where it now takes place
    PAUSED = "paused"          # the whole series is paused


@dataclass(frozen=True)
class WeekSession:
    series: Series
    original: date             # the session's date in the plan (what cancel/move name)
    start: datetime            # UTC: where it takes place (the moved time when moved)
    end: datetime
    mark: SessionMark


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, timezone: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, local time, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(monday, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(monday + timedelta(days=7), datetime.min.time(),
                                   tzinfo=zone)


def week_sessions(series: Sequence[Series], changes: Sequence[Change], start: datetime,
                  end: datetime) -> list[WeekSession]:
    """Every session of [start, end) as planned, marked cancelled, moved or paused.

    A session moved out of the week is shown on its old day as moved (so the coordinator
    sees where it went); one moved into the week is shown where it now is.
    """
    found: list[WeekSession] = []
    for s in series:
        mine = [c for c in changes if c.series_id == s.id]
        planned = occurrences(replace(s, paused=False), [], start, end)
        actual = {o.key: o for o in occurrences(replace(s, paused=False), mine,
                                                start - timedelta(days=14),
                                                end + timedelta(days=14))}
        by_date = {c.original_date: c for c in mine}
        shown: set[date] = set()
        for o in planned:
            day = date.fromisoformat(o.key.split(":")[1])
            change = by_date.get(day)
            mark = SessionMark.PAUSED if s.paused else SessionMark.PLANNED
            begin, finish = o.start, o.end
            if change is not None and change.cancelled:
                mark = SessionMark.CANCELLED
            elif change is not None and change.moved_to is not None:
                moved = actual.get(occurrence_key(s.id, day, change.moved_to))
                if moved is not None and start <= moved.start < end:
                    continue      # shown below, where it takes place
                mark = SessionMark.MOVED
            found.append(WeekSession(s, day, begin, finish, mark))
            shown.add(day)
        for change in mine:
            if change.moved_to is None or change.cancelled or change.original_date in shown:
                continue
            moved = actual.get(occurrence_key(s.id, change.original_date, change.moved_to))
            if moved is not None and start <= moved.start < end:
                found.append(WeekSession(s, change.original_date, moved.start, moved.end,
                                         SessionMark.PAUSED if s.paused
                                         else SessionMark.MOVED))
    return sorted(found, key=lambda w: (w.start, w.series.id))


def for_therapist(sessions: Sequence[WeekSession], code: str) -> list[WeekSession]:
    return [w for w in sessions if w.series.therapist_code == code]


def for_unit(sessions: Sequence[WeekSession], units: Mapping[str, str | None],
             unit: str) -> list[WeekSession]:
    """Sessions with at least one youth of this unit (a group may span units)."""
    return [w for w in sessions if any(units.get(c) == unit for c in w.series.youth_codes)]


class AlertState(StrEnum):
    OPEN = "open"                  # waiting for someone to see it
    ESCALATED = "escalated"        # not seen in time: the coordinators were brought in
    ACKNOWLEDGED = "acknowledged"


def alert_state(acked_at: datetime | None, escalate_at: datetime | None,
                now: datetime) -> AlertState:
    """Seen wins; past its escalation moment unseen is escalated; otherwise open."""
    if acked_at is not None:
        return AlertState.ACKNOWLEDGED
    if escalate_at is not None and now >= escalate_at:
        return AlertState.ESCALATED
    return AlertState.OPEN


def filter_overview(rows: Sequence[Compliance], units: Mapping[str, str | None],
                    unit: str | None = None, therapist: str | None = None,
                    ) -> list[Compliance]:
    """The overview's rows for one unit and/or one therapist (None or "": all)."""
    return [r for r in rows
            if (not unit or units.get(r.youth_code) == unit)
            and (not therapist or r.therapist_code == therapist)]
