"""`python -m bot schedule ...` and `overview`: coordinators plan sessions from the shell."""

from __future__ import annotations

import argparse
import csv
import tomllib
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.enrolment import cli_actor
from bot.wiring import default_timing, delivery_rules
from conversations import crisis
from conversations.services import Services
from core.compliance import render_overview
from core.delivery import Window, window_problem
from core.questionnaire import DISCIPLINES, Discipline
from core.schedule import (
    WEEKDAYS,
    Change,
    Series,
    Timing,
    move_problems,
    occurrences,
    parse_amount,
    parse_weekdays,
    series_problems,
)
from scheduler.planner import plan
from storage.ports import NewSeries, PhoneWindow


class ScheduleRefused(Exception):
    """The schedule change is not possible; the message lists why, one line each."""


DEFAULT_DURATION = 60  # minutes
REQUIRED_FIELDS = ("youth", "therapist", "discipline", "start")
OPTIONAL_FIELDS = ("days", "once", "duration", "first", "last", "send_after",
                   "remind_after", "expire_after")
PAST = {"cancel": "cancelled", "move": "moved", "pause": "paused", "resume": "resumed"}


def add_parsers(sub: Any, command: Any) -> None:
    """Register `schedule ...` and `overview` on the main parser."""
    p = command("schedule", "Plan therapy sessions: add, list, cancel, move, pause, "
                            "resume, import, window.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, text: str) -> argparse.ArgumentParser:
        a: argparse.ArgumentParser = actions.add_parser(name, help=text, description=text)
        # accepted after the action too; SUPPRESS keeps a value given before it
        a.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                       help="configuration file (default: config.toml)")
        return a

    add = action("add", "Add a weekly series (or one session with --once).")
    add.add_argument("--youth", action="append", required=True,
                     help="youth code; repeat for a group session")
    add.add_argument("--therapist", required=True)
    add.add_argument("--discipline", choices=DISCIPLINES, required=True)
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--days", help="weekdays, e.g. mon,thu")
    when.add_argument("--once", help="a single session on this date (YYYY-MM-DD)")
    add.add_argument("--start", required=True, help="local start time, HH:MM")
    add.add_argument("--duration", type=int, default=60, help="minutes (default 60)")
    add.add_argument("--first", help="first date, YYYY-MM-DD (default today)")
    add.add_argument("--last", help="last date, YYYY-MM-DD (default: open-ended)")
    add.add_argument("--send-after", type=int, help="minutes after the session (default "
                                                    "from config)")
    add.add_argument("--remind-after", type=float, help="hours (default from config)")
    add.add_argument("--expire-after", type=float, help="hours (default from config)")
    action("list", "List every series with its next session.")
    for name, text in (("cancel", "Cancel one session of a series."),
                       ("move", "Move one session of a series.")):
        a = action(name, text)
        a.add_argument("--series", type=int, required=True)
        a.add_argument("--date", required=True, help="the session's original date")
        if name == "move":
            a.add_argument("--to", required=True, help="new local time, 'YYYY-MM-DD HH:MM'")
    for name, text in (("pause", "Pause a series: no check-ins until resumed."),
                       ("resume", "Resume a paused series.")):
        action(name, text).add_argument("--series", type=int, required=True)
    imp = action("import", "Add many series from a TOML ([[series]]) or CSV file.")
    imp.add_argument("file", type=Path)
    win = action("window", "Set phone hours for a unit (ward) or one youth.")
    scope = win.add_mutually_exclusive_group(required=True)
    scope.add_argument("--unit")
    scope.add_argument("--youth")
    win.add_argument("--days", default=",".join(WEEKDAYS),
                     help="weekdays, e.g. mon,tue,wed (default: every day)")
    win.add_argument("--from", dest="start", required=True, help="HH:MM")
    win.add_argument("--to", dest="end", required=True, help="HH:MM")
    command("overview", "Show response rates per youth, marking who needs attention.")


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ScheduleRefused(f"{name}: {text!r} is not a date like 2026-12-01") from None


def _time(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ScheduleRefused(f"{name}: {text!r} is not a time like 14:00") from None


def _number(row: dict[str, Any], name: str) -> float | None:
    """A number from the command line or an import row, checked against its bounds
    (core.schedule.BOUNDS); None when not given."""
    value = row.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_amount(name, value)
    except ValueError as exc:
        raise ScheduleRefused(str(exc)) from None


def _series_from(row: dict[str, Any], settings: Settings, today: date) -> NewSeries:
    """Build a series from CLI arguments or one import row (same field names).

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
        day = _date(str(row["once"]), "once")
        weekdays, first, last = frozenset({day.weekday()}), day, day
    else:
        try:
            weekdays = parse_weekdays(str(row.get("days", "")))
        except ValueError as exc:
            raise ScheduleRefused(f"days: {exc}") from None
        first = _date(str(row["first"]), "first") if row.get("first") else today
        last = _date(str(row["last"]), "last") if row.get("last") else None
    base = default_timing(settings)
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
                     _time(str(row["start"]), "start"),
                     timedelta(minutes=DEFAULT_DURATION if duration is None else duration),
                     settings.schedule.timezone, first, last, timing)


def _as_series(new: NewSeries, series_id: int = 0) -> Series:
    return Series(series_id, new.youth_codes, new.therapist_code, new.discipline,
                  new.weekdays, new.start, new.duration, new.timezone, new.first_date,
                  new.last_date, False, new.timing)


async def _problems(services: Services, new: NewSeries, existing: list[Series],
                    today: date) -> list[str]:
    problems = []
    for code in new.youth_codes:
        if await services.store.youth_by_code(code) is None:
            problems.append(f"unknown youth code {code}")
    if await services.store.therapist(new.therapist_code) is None:
        problems.append(f"unknown therapist code {new.therapist_code}")
    return problems + series_problems(_as_series(new), existing, today)


def _describe(series: Series, now: datetime) -> str:
    days = ",".join(WEEKDAYS[d] for d in sorted(series.weekdays))
    end = (datetime.combine(date.min, series.start) + series.duration).time()
    span = f"{series.first_date}" + (f" to {series.last_date}" if series.last_date else " on")
    upcoming = occurrences(series, [], now, now + timedelta(days=60))
    following = (local_label(upcoming[0].start, series.timezone) if upcoming else "none")
    state = " (paused)" if series.paused else ""
    return (f"series {series.id}{state}: {'+'.join(series.youth_codes)} with "
            f"{series.therapist_code}, {series.discipline}, {days} "
            f"{series.start.strftime('%H:%M')}-{end.strftime('%H:%M')}, {span}; "
            f"next: {following}")


def local_label(moment: datetime, timezone: str) -> str:
    """A moment as coordinators read it: local time with the zone ('14:00 CEST, ...')."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.strftime('%a %Y-%m-%d %H:%M %Z')} ({timezone})"


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


def _read_import(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix == ".toml":
            return list(tomllib.loads(path.read_text(encoding="utf-8")).get("series", []))
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if problems := column_problems(reader.fieldnames or []):
                raise ScheduleRefused(f"{path}: {problems[0]}; nothing was imported")
            return [dict(row) for row in reader]
    except FileNotFoundError:
        raise ScheduleRefused(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScheduleRefused(f"{path}: is a folder, not a .toml or .csv file") from None
    except PermissionError:
        raise ScheduleRefused(f"{path}: not allowed to read it") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise ScheduleRefused(f"{path}: cannot read: {exc}") from None


async def _add(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    store, now = services.store, services.clock()
    row = {k: v for k, v in vars(args).items() if v is not None}
    new = _series_from(row, settings, now.date())
    if problems := await _problems(services, new, await store.all_series(), now.date()):
        raise ScheduleRefused("\n".join(problems))
    series_id = await store.add_series(new, now)
    planned = await plan(store, now, delivery_rules(settings))
    print(_describe(replace(_as_series(new), id=series_id), now))
    print(f"{planned} message(s) planned.")


async def _list(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    existing = await services.store.all_series()
    for series in existing:
        print(_describe(series, services.clock()))
    if not existing:
        print("No series yet; add one with `python -m bot schedule add`.")


async def _change(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    """Cancel or move one session; its pending messages are cancelled and re-planned."""
    store, now = services.store, services.clock()
    found = [s for s in await store.all_series() if s.id == args.series]
    if not found:
        raise ScheduleRefused(f"unknown series {args.series}")
    series, original = found[0], _date(args.date, "date")
    moved = None
    if args.action == "move":
        try:
            moved = datetime.strptime(args.to, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ScheduleRefused(f"to: {args.to!r} is not like '2026-12-09 10:00'") from None
    if problems := move_problems(series, original, moved or datetime.combine(original,
                                                                             series.start)):
        raise ScheduleRefused("\n".join(problems))
    await store.add_change(Change(series.id, original, moved is None, moved), now)
    done = PAST[args.action]
    cancelled = await store.cancel_pending(f"s{series.id}:{original.isoformat()}",
                                           f"session {done}", now)
    planned = await plan(store, now, delivery_rules(settings))
    print(f"Session of {original} {done}; {cancelled} pending message(s) cancelled, "
          f"{planned} planned.")


async def _pause(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    store, now = services.store, services.clock()
    pausing = args.action == "pause"
    if not await store.set_series_paused(args.series, pausing):
        raise ScheduleRefused(f"series {args.series} is unknown or already "
                              f"{PAST[args.action]}")
    if pausing:
        count = await store.cancel_pending(f"s{args.series}", "series paused", now)
        print(f"Series {args.series} paused; {count} pending message(s) held back.")
    else:
        planned = await plan(store, now, delivery_rules(settings))
        print(f"Series {args.series} resumed; {planned} message(s) planned.")


async def _import(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    """Validate every row first; import all of them or none."""
    store, now = services.store, services.clock()
    existing = await store.all_series()
    news: list[NewSeries] = []
    problems: list[str] = []
    for n, row in enumerate(_read_import(args.file), start=1):
        if not isinstance(row, dict):
            problems.append(f"row {n}: not a table of fields")
            continue
        if args.file.suffix == ".toml" and (unknown := column_problems(row)):
            problems.append(f"row {n}: {unknown[0]}")
            continue
        try:
            new = _series_from(row, settings, now.date())
        except ScheduleRefused as exc:
            problems.append(f"row {n}: {exc}")
            continue
        except KeyError as exc:
            problems.append(f"row {n}: missing field {exc}")
            continue
        others = existing + [_as_series(x, -i) for i, x in enumerate(news, start=1)]
        problems += [f"row {n}: {p}" for p in await _problems(services, new, others,
                                                               now.date())]
        news.append(new)
    if problems:
        raise ScheduleRefused("\n".join([*problems, "nothing was imported"]))
    for new in news:
        await store.add_series(new, now)
    planned = await plan(store, now, delivery_rules(settings))
    print(f"Imported {len(news)} series; {planned} message(s) planned.")


async def _window(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    try:
        days = parse_weekdays(args.days)
    except ValueError as exc:
        raise ScheduleRefused(f"days: {exc}") from None
    window = Window(days, _time(args.start, "from"), _time(args.end, "to"))
    if window.start >= window.end:
        raise ScheduleRefused("from: the window must start before it ends")
    sched = settings.schedule
    if (problem := window_problem(window, sched.quiet_start, sched.quiet_end)) is not None:
        raise ScheduleRefused(problem)
    scope, code = ("unit", args.unit) if args.unit else ("youth", args.youth)
    if scope == "youth" and await services.store.youth_by_code(code) is None:
        raise ScheduleRefused(f"youth: unknown youth code {code}")
    await services.store.add_window(PhoneWindow(scope, code, window))
    print(f"Phone hours for {scope} {code}: {args.days} {args.start}-{args.end}.")


_ACTIONS = {"add": _add, "list": _list, "cancel": _change, "move": _change, "pause": _pause,
            "resume": _pause, "import": _import, "window": _window}


async def run(args: argparse.Namespace, services: Services, settings: Settings) -> int:
    """Carry out one schedule command; raise ScheduleRefused with every problem found."""
    if args.command == "overview":
        await services.audit(cli_actor(), "read:overview")
        for line in await crisis.unreached_section(services, "nl"):
            print(line)
        print(render_overview(await services.store.compliance(services.clock()),
                              missed_after=services.missed_alert_after))
    else:
        await _ACTIONS[args.action](args, services, settings)
        detail = " ".join(f"{k}={v}" for k, v in sorted(vars(args).items())
                          if k not in ("command", "action", "config") and v is not None)
        await services.audit(cli_actor(), f"schedule:{args.action}", "", detail)
    return 0
