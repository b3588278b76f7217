"""Schedules for coordinators: a week per unit or therapist, add a series, cancel or move
one session, pause and resume, import a CSV, phone windows with the quiet hours shown.

Every change goes through conversations.schedules (the same use cases as `python -m bot
schedule ...`) and is audited as `schedule:<action>` by the signed-in coordinator. A
refusal re-shows the page with every problem the rules found, and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations import schedules
from conversations.schedules import ScheduleRefused
from conversations.services import Services
from core.console_pages import (
    WeekSession,
    for_therapist,
    for_unit,
    monday_of,
    week_bounds,
    week_sessions,
)
from core.questionnaire import DISCIPLINES
from core.schedule import WEEKDAYS
from core.texts import say
from web.auth import requires
from web.nav import NavItem
from web.page_support import form_of, schedule_policy, see_other, services_of, staff_of
from web.render import page
from web.staff import Role

PATH = "/schedule"
DONE = frozenset({"added", "cancelled", "moved", "paused", "resumed", "imported", "window"})
MAX_IMPORT_BYTES = 512 * 1024


@dataclass(frozen=True)
class Day:
    date: date
    name: str
    sessions: list[WeekSession]


def _week(request: Request, services: Services) -> date:
    try:
        return monday_of(date.fromisoformat(request.query_params.get("week", "")))
    except ValueError:
        return monday_of(services.clock().astimezone(services.zone).date())


async def _context(request: Request, services: Services, monday: date) -> dict[str, Any]:
    """Everything the schedule page shows for the chosen week and view."""
    store = services.store
    lang = staff_of(request).lang
    view = request.query_params.get("view", "")
    code = request.query_params.get("code", "")
    start, end = week_bounds(monday, services.timezone)
    series = await store.all_series()
    week = week_sessions(series, await store.changes(), start, end)
    units = await store.youth_units()
    if view == "therapist" and code:
        week = for_therapist(week, code)
    elif view == "unit" and code:
        week = for_unit(week, units, code)
    names = say(lang, "weekdays").split(",")
    days = []
    for n in range(7):
        day = monday + timedelta(days=n)
        days.append(Day(day, names[n], [w for w in week
                                        if w.start.astimezone(services.zone).date() == day]))
    policy = schedule_policy(request)
    return {
        "days": days, "monday": monday, "view": view, "code": code,
        "previous": (monday - timedelta(days=7)).isoformat(),
        "next": (monday + timedelta(days=7)).isoformat(),
        "series": series,
        "therapists": [t.code for t in await store.all_therapists()],
        "units": [u.code for u in await store.all_units()],
        "youths": [y.code for y in await store.active_youths()],
        "windows": await store.all_windows(),
        "quiet": f"{policy.quiet_start:%H:%M}-{policy.quiet_end:%H:%M}",
        "disciplines": DISCIPLINES, "weekdays": WEEKDAYS, "weekday_names": names,
        "timezone": services.timezone,
        "therapy": {d: say(lang, f"therapy_{d}") for d in DISCIPLINES},
        "done": done if (done := request.query_params.get("done", "")) in DONE else "",
        "problems": [], "form": {}, "problem_at": "",
    }


@requires(Role.COORDINATOR)
async def schedule_page(request: Request) -> Response:
    services = services_of(request)
    context = await _context(request, services, _week(request, services))
    return page(request, "schedule.html", **context)


async def _refused(request: Request, problems: list[str], form: dict[str, str],
                   where: str) -> Response:
    """The page again with every problem, what was typed kept, status 400."""
    services = services_of(request)
    context = await _context(request, services, _week(request, services))
    context.update(problems=problems, form=form, problem_at=where)
    return page(request, "schedule.html", status=400, **context)


async def _audit(request: Request, action: str, detail: str) -> None:
    await services_of(request).audit(staff_of(request).actor, f"schedule:{action}", "",
                                     f"console; {detail}")


def _back(request: Request, done: str) -> Response:
    keep = {k: request.query_params.get(k, "") for k in ("week", "view", "code")}
    return see_other(PATH, done=done, **keep)


@requires(Role.COORDINATOR)
async def add_series(request: Request) -> Response:
    """Weekly on one or more days, a group (several youths), or one session (once)."""
    form = await form_of(request)
    row: dict[str, Any] = {k: v for k, v in form.items() if k in
                           schedules.REQUIRED_FIELDS + schedules.OPTIONAL_FIELDS and v}
    if form.get("kind") == "once":
        row.pop("days", None)
    else:
        row.pop("once", None)
    codes = [c.strip().upper() for c in form.get("youth", "").replace("+", ",").split(",")
             if c.strip()]
    row["youth"] = codes
    try:
        if not codes:
            raise ScheduleRefused("youth: give at least one youth code")
        if form.get("kind") != "once" and not form.get("days"):
            raise ScheduleRefused("days: choose at least one weekday")
        added = await schedules.add_series(services_of(request), schedule_policy(request), row)
    except ScheduleRefused as refused:
        return await _refused(request, refused.problems, form, "add")
    await _audit(request, "add", f"series {added.series.id}: {'+'.join(codes)} with "
                                 f"{added.series.therapist_code}")
    return _back(request, "added")


def _series_id(form: dict[str, str]) -> int:
    try:
        return int(form.get("series", ""))
    except ValueError:
        raise ScheduleRefused(f"series: {form.get('series', '')!r} is not a series") from None


@requires(Role.COORDINATOR)
async def change_session(request: Request) -> Response:
    """Cancel one session, or move it (new date and time)."""
    form = await form_of(request)
    moving = form.get("action") == "move"
    try:
        to = f"{form.get('to_date', '')} {form.get('to_time', '')}" if moving else None
        changed = await schedules.change_session(services_of(request),
                                                 schedule_policy(request),
                                                 _series_id(form), form.get("date", ""), to)
    except ScheduleRefused as refused:
        return await _refused(request, refused.problems, form, "change")
    await _audit(request, "move" if moving else "cancel",
                 f"series {form.get('series')} date {changed.original}"
                 + (f" to {to}" if to else ""))
    return _back(request, changed.done)


@requires(Role.COORDINATOR)
async def pause_series(request: Request) -> Response:
    form = await form_of(request)
    pausing = form.get("action") != "resume"
    try:
        series_id = _series_id(form)
        await schedules.set_paused(services_of(request), schedule_policy(request), series_id,
                                   pausing)
    except ScheduleRefused as refused:
        return await _refused(request, refused.problems, form, "pause")
    action = "pause" if pausing else "resume"
    await _audit(request, action, f"series {series_id}")
    return _back(request, schedules.PAST[action])


@requires(Role.COORDINATOR)
async def import_csv(request: Request) -> Response:
    """All rows or none; every row's problems listed by row number."""
    async with request.form() as form:   # closes the upload's temporary file
        upload = form.get("file")
        raw = (await upload.read(MAX_IMPORT_BYTES + 1)
               if isinstance(upload, UploadFile) else b"")
    try:
        if not raw:
            raise ScheduleRefused("file: choose a .csv file")
        if len(raw) > MAX_IMPORT_BYTES:
            raise ScheduleRefused("file: larger than 512 KiB; split it")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ScheduleRefused("file: not UTF-8 text; save it as CSV UTF-8") from None
        done = await schedules.import_series(services_of(request), schedule_policy(request),
                                             schedules.csv_rows(text))
    except ScheduleRefused as refused:
        return await _refused(request, refused.problems, {}, "import")
    await _audit(request, "import", f"{done.series} series")
    return _back(request, "imported")


@requires(Role.COORDINATOR)
async def set_window(request: Request) -> Response:
    form = await form_of(request)
    scope = "youth" if form.get("scope") == "youth" else "unit"
    code = form.get("code", "").upper()
    try:
        if not code:
            raise ScheduleRefused(f"{scope}: give a code")
        if not form.get("days"):
            raise ScheduleRefused("days: choose at least one weekday")
        await schedules.set_window(services_of(request), schedule_policy(request), scope, code,
                                   form.get("days", ""), form.get("start", ""),
                                   form.get("end", ""))
    except ScheduleRefused as refused:
        return await _refused(request, refused.problems, form, "window")
    await _audit(request, "window", f"{scope} {code}: {form.get('days')} "
                                    f"{form.get('start')}-{form.get('end')}")
    return _back(request, "window")


NAV = [NavItem(PATH, "nav_schedule", frozenset({Role.COORDINATOR}), order=20)]

ROUTES: list[BaseRoute] = [
    Route(PATH, schedule_page, methods=["GET"]),
    Route(f"{PATH}/series", add_series, methods=["POST"]),
    Route(f"{PATH}/session", change_session, methods=["POST"]),
    Route(f"{PATH}/pause", pause_series, methods=["POST"]),
    Route(f"{PATH}/import", import_csv, methods=["POST"]),
    Route(f"{PATH}/window", set_window, methods=["POST"]),
]
