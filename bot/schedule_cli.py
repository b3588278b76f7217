"""`python -m bot schedule ...` and `overview`: coordinators plan sessions from the shell."""

from __future__ import annotations

import argparse
import csv
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.rules import default_timing, delivery_rules
from conversations import crisis, schedules
from conversations.enrolment import cli_actor
from conversations.schedules import SchedulePolicy, column_problems
from conversations.services import Services
from core.compliance import render_overview
from core.questionnaire import DISCIPLINES
from core.schedule import WEEKDAYS, Series, occurrences
from scheduler.planner import plan

ScheduleRefused = schedules.ScheduleRefused   # raised here too; bot.cli catches it


def policy(settings: Settings, services: Services) -> SchedulePolicy:
    """The configured schedule rules, with the planner bound to this store."""
    rules = delivery_rules(settings)
    sched = settings.schedule

    async def replan(now: datetime) -> int:
        return await plan(services.store, now, rules)

    return SchedulePolicy(sched.timezone, sched.quiet_start, sched.quiet_end,
                          default_timing(settings), replan)


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
    row = {k: v for k, v in vars(args).items() if v is not None}
    added = await schedules.add_series(services, policy(settings, services), row)
    print(_describe(added.series, services.clock()))
    print(f"{added.planned} message(s) planned.")


async def _list(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    existing = await services.store.all_series()
    for series in existing:
        print(_describe(series, services.clock()))
    if not existing:
        print("No series yet; add one with `python -m bot schedule add`.")


async def _change(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    """Cancel or move one session; its pending messages are cancelled and re-planned."""
    changed = await schedules.change_session(
        services, policy(settings, services), args.series, args.date,
        args.to if args.action == "move" else None)
    print(f"Session of {changed.original} {changed.done}; {changed.cancelled} pending "
          f"message(s) cancelled, {changed.planned} planned.")


async def _pause(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    pausing = args.action == "pause"
    count = await schedules.set_paused(services, policy(settings, services), args.series,
                                       pausing)
    if pausing:
        print(f"Series {args.series} paused; {count} pending message(s) held back.")
    else:
        print(f"Series {args.series} resumed; {count} message(s) planned.")


async def _import(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    """Validate every row first; import all of them or none."""
    done = await schedules.import_series(services, policy(settings, services),
                                         _read_import(args.file),
                                         check_columns=args.file.suffix == ".toml")
    print(f"Imported {done.series} series; {done.planned} message(s) planned.")


async def _window(args: argparse.Namespace, services: Services, settings: Settings) -> None:
    scope, code = ("unit", args.unit) if args.unit else ("youth", args.youth)
    await schedules.set_window(services, policy(settings, services), scope, code, args.days,
                               args.start, args.end)
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
