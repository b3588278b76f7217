"""Small helpers shared by the console's page modules (schedule, overview, alerts, audit,
caseload, export): where the services and the signed-in staff member are, local time as
staff read it, and the redirect after a successful form (POST, then GET)."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse

from conversations.schedules import SchedulePolicy
from conversations.services import Services
from web.staff import Staff


def services_of(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def staff_of(request: Request) -> Staff:
    return cast(Staff, request.state.staff)


def schedule_policy(request: Request) -> SchedulePolicy:
    """The configured schedule rules with the planner bound (made in bot wiring)."""
    policy = cast(SchedulePolicy | None, request.app.state.web.schedule_policy)
    if policy is None:
        raise RuntimeError("the console was started without schedule rules (WebContext)")
    return policy


def local(moment: datetime | None, services: Services, fmt: str = "%d-%m-%Y %H:%M") -> str:
    return moment.astimezone(services.zone).strftime(fmt) if moment else ""


def see_other(path: str, **query: str) -> RedirectResponse:
    """After a change that worked: back to a page (303), with what to say as a query."""
    wanted = {k: v for k, v in query.items() if v}
    return RedirectResponse(f"{path}?{urlencode(wanted)}" if wanted else path,
                            status_code=303)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form as plain strings, trimmed; a repeated field joined by commas."""
    form = await request.form()
    out: dict[str, str] = {}
    for key in form:
        values = [v.strip() for v in form.getlist(key) if isinstance(v, str)]
        out[key] = ",".join(v for v in values if v)
    return out
