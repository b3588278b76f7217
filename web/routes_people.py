"""Coordinators' People pages: youths and therapists, who has not joined yet, and the
enrolment actions (through the same use cases and audit trail as the CLI)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.auth import Role, requires
from web.nav import NavItem
from web.render import page

COORDINATOR = frozenset({Role.COORDINATOR})


@requires(Role.COORDINATOR)
async def people(request: Request) -> Response:
    return page(request, "people.html", youths=[], therapists=[])


NAV = [NavItem("/people", "nav_people", COORDINATOR, order=10)]

ROUTES: list[BaseRoute] = [
    Route("/people", people, methods=["GET"], name="people"),
]
