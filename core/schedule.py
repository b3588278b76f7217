"""Session series and their occurrences, in local time, correct across DST changes.

A weekly 14:00 session stays at 14:00 Amsterdam time all year: occurrences are built
as local wall-clock times and only then converted to UTC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.questionnaire import Discipline

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DURATION = timedelta(hours=8)
MAX_SEND_AFTER = timedelta(hours=24)
MAX_EXPIRE_AFTER = timedelta(days=7)
# The furthest back the planner ever looks for a session whose check-in is still open.
MAX_LOOKBACK = MAX_SEND_AFTER + MAX_EXPIRE_AFTER + MAX_DURATION
# A session entered just after it ended still gets its check-in; one that ended longer
# before its series was added is history, never planned as due (send-checkin covers it).
LATE_ENTRY = timedelta(hours=2)
GAP_SEARCH = timedelta(days=366)


@dataclass(frozen=True)
class Bound:
    """The allowed range of one number of a series, in the unit coordinators type."""

    unit: str
    low: float
    high: float
    rule: str               # the range in words, as refusals say it
    low_included: bool = True


# Every number a coordinator can type for a series, with its range. Checked before any
# arithmetic, so 'nan', '1e300' or 'abc' is named instead of raising deep inside.
BOUNDS = {
    "duration": Bound("minutes", 5, MAX_DURATION.total_seconds() / 60,
                      "the duration must be between 5 minutes and 8 hours"),
    "send_after": Bound("minutes", 0, MAX_SEND_AFTER.total_seconds() / 60,
                        "send-after must be 0 or more minutes, at most 1440 (a day): a "
                        "check-in is sent after the session, never during it"),
    "remind_after": Bound("hours", 0, MAX_EXPIRE_AFTER.total_seconds() / 3600,
                          "remind-after must be 0 or more hours, at most 168 (7 days)"),
    "expire_after": Bound("hours", 0, MAX_EXPIRE_AFTER.total_seconds() / 3600,
                          "expire-after must be more than 0 hours, at most 168 (7 days)",
                          False),
}


def parse_amount(field: str, raw: object) -> float:
    """A number typed for `field` (see BOUNDS), or ValueError saying what is wrong."""
    bound = BOUNDS[field]
    name = field.replace("_", "-")
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a number of {bound.unit}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: {raw!r} is not a number of {bound.unit}")
    too_low = value < bound.low or (value == bound.low and not bound.low_included)
    if too_low or value > bound.high:
        raise ValueError(f"{name}: {raw!r} is out of range: {bound.rule}")
    return value


@dataclass(frozen=True)
class Timing:
    """When the check-in goes out after a session, when to remind, when it expires."""

    send_after: timedelta
    remind_after: timedelta
    expire_after: timedelta


@dataclass(frozen=True)
class Series:
    id: int
    youth_codes: tuple[str, ...]
    therapist_code: str
    discipline: Discipline
    weekdays: frozenset[int]
    start: time
    duration: timedelta
    timezone: str
    first_date: date
    last_date: date | None
    paused: bool
    timing: Timing
    created_at: datetime | None = None   # sessions that ended before this are never planned

    @property
    def group(self) -> bool:
        return len(self.youth_codes) > 1


@dataclass(frozen=True)
class Change:
    """A change to one occurrence, identified by its original date."""

    series_id: int
    original_date: date
    cancelled: bool
    moved_to: datetime | None  # local wall-clock time in the series' timezone, naive


@dataclass(frozen=True)
class Occurrence:
    key: str
    series: Series
    start: datetime  # UTC
    end: datetime  # UTC


def local_to_utc(day: date, clock: time, tz: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def in_dst_gap(day: date, clock: time, tz: str) -> bool:
    """True when this wall-clock time does not exist on that day (spring forward)."""
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(tz))
    back = local.astimezone(UTC).astimezone(ZoneInfo(tz))
    return back.replace(tzinfo=None) != local.replace(tzinfo=None)


def is_ambiguous(day: date, clock: time, tz: str) -> bool:
    """True when this wall-clock time happens twice on that day (the clocks go back)."""
    zone = ZoneInfo(tz)
    first = datetime.combine(day, clock, tzinfo=zone)
    second = first.replace(fold=1)
    # In a spring gap the two folds differ too, but there the time does not exist at all.
    return first.utcoffset() != second.utcoffset() and not in_dst_gap(day, clock, tz)


def occurrence_key(series_id: int, original: date, moved_to: datetime | None = None) -> str:
    key = f"s{series_id}:{original.isoformat()}"
    return f"{key}:moved-{moved_to.strftime('%Y%m%dT%H%M')}" if moved_to else key


def _session_days(weekdays: frozenset[int], first: date, last: date) -> list[date]:
    """The dates in [first, last] that fall on one of `weekdays` (0 = Monday), in order:
    a week's step per weekday, not a look at every day (planning calls this per series)."""
    days: list[date] = []
    for weekday in weekdays:
        if not 0 <= weekday <= 6:
            continue   # no such day: never a session
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        while day <= last:
            days.append(day)
            day += timedelta(days=7)
    days.sort()
    return days


def occurrences(
    series: Series, changes: list[Change], start: datetime, end: datetime
) -> list[Occurrence]:
    """Occurrences of the series that begin in [start, end), changes applied, in order."""
    if series.paused:
        return []
    by_date = {c.original_date: c for c in changes if c.series_id == series.id}
    tz = ZoneInfo(series.timezone)
    first = max(series.first_date, (start - timedelta(days=2)).astimezone(tz).date())
    last = (end + timedelta(days=2)).astimezone(tz).date()
    if series.last_date is not None:
        last = min(last, series.last_date)
    found: list[Occurrence] = []
    for day in _session_days(series.weekdays, first, last):
        change = by_date.get(day)
        if change is None:
            begin = local_to_utc(day, series.start, series.timezone)
            found.append(Occurrence(occurrence_key(series.id, day), series, begin,
                                    begin + series.duration))
        elif not change.cancelled and change.moved_to is not None:
            moved = change.moved_to
            begin = local_to_utc(moved.date(), moved.time(), series.timezone)
            found.append(Occurrence(occurrence_key(series.id, day, moved), series, begin,
                                    begin + series.duration))
    found = [o for o in found if start <= o.start < end]
    found.sort(key=lambda o: o.start)
    return found


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _overlap_in_day(a: Series, b: Series) -> bool:
    a0, b0 = _minutes(a.start), _minutes(b.start)
    a1 = a0 + a.duration.total_seconds() / 60
    b1 = b0 + b.duration.total_seconds() / 60
    return a0 < b1 and b0 < a1


def _dates_overlap(a: Series, b: Series) -> bool:
    a_last, b_last = a.last_date or date.max, b.last_date or date.max
    return a.first_date <= b_last and b.first_date <= a_last


def series_problems(new: Series, existing: list[Series], today: date) -> list[str]:
    """Return what is wrong with a new series, one plain sentence per problem."""
    problems: list[str] = []
    if not new.youth_codes:
        problems.append("a series needs at least one youth")
    if not new.weekdays:
        problems.append("choose at least one weekday")
    if not timedelta(minutes=5) <= new.duration <= MAX_DURATION:
        problems.append("the duration must be between 5 minutes and 8 hours")
    problems += timing_problems(new.timing)
    if new.last_date is not None and new.last_date < new.first_date:
        problems.append(f"the last date {new.last_date} is before the first date "
                        f"{new.first_date}")
    if new.last_date is not None and new.last_date < today:
        problems.append(f"the last date {new.last_date} has passed")
    try:
        ZoneInfo(new.timezone)
    except (KeyError, ValueError):
        problems.append(f"unknown timezone {new.timezone!r}")
        return problems
    gap = _first_day(new, in_dst_gap)
    if gap is not None:
        problems.append(f"{new.start.strftime('%H:%M')} does not exist on {gap} (the clocks "
                        "go forward that night); pick another time")
    twice = _first_day(new, is_ambiguous)
    if twice is not None:
        problems.append(f"{new.start.strftime('%H:%M')} happens twice on {twice} (the clocks "
                        "go back that night), so it is unclear which is meant; pick another "
                        "time")
    for other in existing:
        shared = set(new.youth_codes) & set(other.youth_codes)
        if (shared and new.weekdays & other.weekdays and _dates_overlap(new, other)
                and _overlap_in_day(new, other)):
            days = ", ".join(WEEKDAYS[d] for d in sorted(new.weekdays & other.weekdays))
            problems.append(f"overlaps series {other.id} for {', '.join(sorted(shared))} "
                            f"on {days}")
    return problems


def timing_problems(timing: Timing) -> list[str]:
    """A check-in may not go out before the session ends, nor expire before it is sent;
    it goes out within a day, lives at most a week, and a reminder comes before expiry."""
    problems = []
    if timing.send_after < timedelta(0):
        problems.append("send-after must be 0 or more minutes: a check-in is sent after "
                        "the session, never during it")
    elif timing.send_after > MAX_SEND_AFTER:
        problems.append("send-after must be at most 1440 minutes (a day): a check-in "
                        "is about the session that just ended")
    if timing.remind_after < timedelta(0):
        problems.append("remind-after must be 0 or more hours")
    if timing.expire_after <= timedelta(0):
        problems.append("expire-after must be more than 0 hours")
    elif timing.expire_after > MAX_EXPIRE_AFTER:
        problems.append("expire-after must be at most 168 hours (7 days)")
    elif timedelta(0) < timing.expire_after <= timing.remind_after:
        problems.append("remind-after must be less than expire-after: a reminder after "
                        "the check-in expired is never sent")
    return problems


def _first_day(series: Series, odd: Callable[[date, time, str], bool]) -> date | None:
    """The first session day on which the start time is odd (skipped or doubled)."""
    last = series.last_date or series.first_date + GAP_SEARCH
    day = series.first_date
    while day <= last:
        if day.weekday() in series.weekdays and odd(day, series.start, series.timezone):
            return day
        day += timedelta(days=1)
    return None


def move_problems(series: Series, original: date, moved_to: datetime) -> list[str]:
    problems = []
    if original.weekday() not in series.weekdays or original < series.first_date or (
            series.last_date is not None and original > series.last_date):
        problems.append(f"series {series.id} has no session on {original}")
    if in_dst_gap(moved_to.date(), moved_to.time(), series.timezone):
        problems.append(f"{moved_to.strftime('%H:%M')} does not exist on {moved_to.date()} "
                        "(the clocks go forward that night)")
    if is_ambiguous(moved_to.date(), moved_to.time(), series.timezone):
        problems.append(f"{moved_to.strftime('%H:%M')} happens twice on {moved_to.date()} "
                        "(the clocks go back that night); pick another time")
    return problems


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse 'mon,thu' into weekday numbers; raise ValueError naming a bad day."""
    days = set()
    for part in text.lower().replace(" ", "").split(","):
        if part not in WEEKDAYS:
            raise ValueError(f"unknown weekday {part!r}; use {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(part))
    return frozenset(days)
