"""Schedule use cases: add a series, cancel or move one session, pause and resume, import
many series, set phone hours. Shared by `python -m bot schedule ...` (bot/schedule_cli.py)
and the console's schedule page (web/routes_schedule.py), so no rule has a second copy.

Every function checks with the rules in core.schedule / core.delivery, writes through
the store, re-plans the outbox (SchedulePolicy.replan: scheduler.planner.plan, bound by the
edge that wires it, so this layer does not import the scheduler) and returns what happened as
data; a change that is not possible raises ScheduleRefused with every problem found, one
plain sentence each, and writes nothing. Auditing stays at the edges (who acted differs).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from conversations.services import Services
from core.delivery import Window, window_problem
from core.questionnaire import DISCIPLINES, Discipline
from core.records import NewSeries, PhoneWindow
from core.schedule import (
    Change,
    Series,
    Timing,
    move_problems,
    parse_amount,
    parse_weekdays,
    series_problems,
)


class ScheduleRefused(Exception):
    """The schedule change is not possible; the message lists why, one line each."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class SchedulePolicy:
    """The configured rules a schedule change needs: time zone, quiet hours, the check-in
    timing of a new series, and the planner bound to the store and delivery rules."""

    timezone: str
    quiet_start: time
    quiet_end: time
    timing: Timing
    replan: Callable[[datetime], Awaitable[int]]   # plan(store, now, rules): rows added


DEFAULT_DURATION = 60  # minutes
REQUIRED_FIELDS = ("youth", "therapist", "discipline", "start")
OPTIONAL_FIELDS = ("days", "once", "duration", "first", "last", "send_after",
                   "remind_after", "expire_after")
PAST = {"cancel": "cancelled", "move": "moved", "pause": "paused", "resume": "resumed"}


def parse_date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ScheduleRefused(f"{name}: {text!r} is not a date like 2026-12-01") from None


def parse_time(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ScheduleRefused(f"{name}: {text!r} is not a time like 14:00") from None


def _number(row: Mapping[str, Any], name: str) -> float | None:
    """A number from the command line or an import row, checked against its bounds
    (core.schedule.BOUNDS); None when not given."""
    value = row.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_amount(name, value)
    except ValueError as exc:
        raise ScheduleRefused(str(exc)) from None


def series_from(row: Mapping[str, Any], policy: SchedulePolicy, today: date) -> NewSeries:
    """Build a series from CLI arguments, a form or one import row (same field names).

    A value that was given is used as given, so a wrong one is refused by the rules
    (series_problems) instead of being replaced silently by a default.
    """
    discipline = cast(Discipline, str(row.get("discipline", "")))
    if discipline not in DISCIPLINES:
        raise ScheduleRefused(f"discipline: {discipline!r} is not one of "
                              f"{', '.join(DISCIPLINES)}")
    youths = row["youth"]
    youth_codes = tuple(youths if isinstance(youths, list) else str(youths).split("+"))
    last: date | None
    if row.get("once"):
        day = parse_date(str(row["once"]), "once")
        weekdays, first, last = frozenset({day.weekday()}), day, day
    else:
        try:
            weekdays = parse_weekdays(str(row.get("days", "")))
        except ValueError as exc:
            raise ScheduleRefused(f"days: {exc}") from None
        first = parse_date(str(row["first"]), "first") if row.get("first") else today
        last = parse_date(str(row["last"]), "last") if row.get("last") else None
    base = policy.timing
    send_after = _number(row, "send_after")
    remind_after = _number(row, "remind_after")
    expire_after = _number(row, "expire_after")
    duration = _number(row, "duration")
    timing = Timing(
        base.send_after if send_after is None else timedelta(minutes=send_after),
        base.remind_after if remind_after is None else timedelta(hours=remind_after),
        base.expire_after if expire_after is None else timedelta(hours=expire_after),
    )
    return NewSeries(str(row["therapist"]), youth_codes, discipline, weekdays,
                     parse_time(str(row["start"]), "start"),
                     timedelta(minutes=DEFAULT_DURATION if duration is None else duration),
                     policy.timezone, first, last, timing)


def as_series(new: NewSeries, series_id: int = 0) -> Series:
    return Series(series_id, new.youth_codes, new.therapist_code, new.discipline,
                  new.weekdays, new.start, new.duration, new.timezone, new.first_date,
                  new.last_date, False, new.timing)


async def series_refusals(services: Services, new: NewSeries, existing: list[Series],
                          today: date) -> list[str]:
    """Unknown codes, then every rule of core.schedule.series_problems."""
    problems = []
    for code in new.youth_codes:
        if await services.store.youth_by_code(code) is None:
            problems.append(f"unknown youth code {code}")
    if await services.store.therapist(new.therapist_code) is None:
        problems.append(f"unknown therapist code {new.therapist_code}")
    return problems + series_problems(as_series(new), existing, today)


def column_problems(columns: Iterable[str]) -> list[str]:
    """Name the unknown and missing columns of an import, with the ones expected."""
    given = [c.strip() for c in columns]
    unknown = [c for c in given if c not in REQUIRED_FIELDS + OPTIONAL_FIELDS]
    missing = [c for c in REQUIRED_FIELDS if c not in given]
    if "days" not in given and "once" not in given:
        missing.append("days (or once)")
    if not unknown and not missing:
        return []
    found = []
    if unknown:
        found.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    if missing:
        found.append(f"missing column(s) {', '.join(missing)}")
    return [f"{'; '.join(found)}. Expected: {', '.join(REQUIRED_FIELDS)}, days or once, "
            f"and optionally {', '.join(OPTIONAL_FIELDS[2:])}"]


def csv_rows(text: str) -> list[dict[str, Any]]:
    """The rows of an import CSV; ScheduleRefused naming the columns when they are wrong."""
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if problems := column_problems(reader.fieldnames or []):
            raise ScheduleRefused(f"{problems[0]}; nothing was imported")
        return [dict(row) for row in reader]
    except csv.Error as exc:
        raise ScheduleRefused(f"cannot read: {exc}") from None


@dataclass(frozen=True)
class Added:
    series: Series
    planned: int


async def add_series(services: Services, policy: SchedulePolicy,
                     row: Mapping[str, Any]) -> Added:
    """Add one series (weekly, several days, a group, or a single session with 'once')."""
    store, now = services.store, services.clock()
    new = series_from(row, policy, now.date())
    if problems := await series_refusals(services, new, await store.all_series(), now.date()):
        raise ScheduleRefused(*problems)
    series_id = await store.add_series(new, now)
    planned = await policy.replan(now)
    return Added(replace(as_series(new), id=series_id), planned)


@dataclass(frozen=True)
class Changed:
    original: date
    done: str          # "cancelled" or "moved"
    cancelled: int     # pending messages cancelled
    planned: int


async def change_session(services: Services, policy: SchedulePolicy, series_id: int,
                         original_text: str, to_text: str | None = None) -> Changed:
    """Cancel one session (to_text None) or move it to 'YYYY-MM-DD HH:MM' local time; its
    pending messages are cancelled and the outbox re-planned."""
    store, now = services.store, services.clock()
    found = [s for s in await store.all_series() if s.id == series_id]
    if not found:
        raise ScheduleRefused(f"unknown series {series_id}")
    series, original = found[0], parse_date(original_text, "date")
    moved = None
    if to_text is not None:
        try:
            moved = datetime.strptime(to_text, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ScheduleRefused(f"to: {to_text!r} is not like '2026-12-09 10:00'") from None
    if problems := move_problems(series, original, moved or datetime.combine(original,
                                                                             series.start)):
        raise ScheduleRefused(*problems)
    await store.add_change(Change(series.id, original, moved is None, moved), now)
    done = PAST["move" if moved else "cancel"]
    cancelled = await store.cancel_pending(f"s{series.id}:{original.isoformat()}",
                                           f"session {done}", now)
    planned = await policy.replan(now)
    return Changed(original, done, cancelled, planned)


async def set_paused(services: Services, policy: SchedulePolicy, series_id: int,
                     pausing: bool) -> int:
    """Pause (messages held back) or resume (re-planned) a series; returns how many."""
    store, now = services.store, services.clock()
    if not await store.set_series_paused(series_id, pausing):
        raise ScheduleRefused(f"series {series_id} is unknown or already "
                              f"{PAST['pause' if pausing else 'resume']}")
    if pausing:
        return await store.cancel_pending(f"s{series_id}", "series paused", now)
    return await policy.replan(now)


@dataclass(frozen=True)
class Imported:
    series: int
    planned: int


async def import_series(services: Services, policy: SchedulePolicy, rows: list[Any], *,
                        check_columns: bool = False) -> Imported:
    """Validate every row first; import all of them or none. `check_columns` checks each
    row's field names (TOML tables; a CSV's header is checked once by csv_rows)."""
    store, now = services.store, services.clock()
    existing = await store.all_series()
    news: list[NewSeries] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"row {n}: not a table of fields")
            continue
        if check_columns and (unknown := column_problems(row)):
            problems.append(f"row {n}: {unknown[0]}")
            continue
        try:
            new = series_from(row, policy, now.date())
        except ScheduleRefused as exc:
            problems.append(f"row {n}: {exc}")
            continue
        except KeyError as exc:
            problems.append(f"row {n}: missing field {exc}")
            continue
        others = existing + [as_series(x, -i) for i, x in enumerate(news, start=1)]
        problems += [f"row {n}: {p}" for p in await series_refusals(services, new, others,
                                                                     now.date())]
        news.append(new)
    if problems:
        raise ScheduleRefused(*problems, "nothing was imported")
    for new in news:
        await store.add_series(new, now)
    planned = await policy.replan(now)
    return Imported(len(news), planned)


async def set_window(services: Services, policy: SchedulePolicy, scope: str, code: str,
                     days_text: str, start_text: str, end_text: str) -> PhoneWindow:
    """Phone hours for a unit or one youth; refused when they could never carry a message
    (core.delivery.window_problem: wholly inside the quiet hours)."""
    try:
        days = parse_weekdays(days_text)
    except ValueError as exc:
        raise ScheduleRefused(f"days: {exc}") from None
    window = Window(days, parse_time(start_text, "from"), parse_time(end_text, "to"))
    if window.start >= window.end:
        raise ScheduleRefused("from: the window must start before it ends")
    if (problem := window_problem(window, policy.quiet_start, policy.quiet_end)) is not None:
        raise ScheduleRefused(problem)
    if scope == "youth" and await services.store.youth_by_code(code) is None:
        raise ScheduleRefused(f"youth: unknown youth code {code}")
    phone = PhoneWindow(scope, code, window)
    await services.store.add_window(phone)
    return phone
