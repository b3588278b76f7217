"""The audit trail for coordinators: filtered by youth code, person (actor) and action,
with the verdict of conversations.audit_trail.verify_audit on top (the same function as
`python -m bot audit verify`). Reading the trail is itself audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations.audit_trail import verify_audit
from web.auth import requires
from web.nav import NavItem
from web.page_support import services_of, staff_of
from web.render import page
from web.staff import Role

PATH = "/audit"
SHOWN = 200


@requires(Role.COORDINATOR)
async def audit(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    youth = request.query_params.get("youth", "").strip().upper()
    actor = request.query_params.get("actor", "").strip()
    action = request.query_params.get("action", "").strip()
    entries, check = await verify_audit(services)
    found = [e for e in entries
             if (not youth or e.youth_code == youth)
             and (not actor or actor.lower() in e.actor.lower())
             and (not action or e.action.startswith(action))]
    shown = list(reversed(found))[:SHOWN]
    await services.audit(staff.actor, "read:audit", youth,
                         f"console; actor {actor or 'all'}, action {action or 'all'}")
    return page(request, "audit.html", check=check, entries=shown, found=len(found),
                youth=youth, actor=actor, action=action, shown_max=SHOWN,
                actions=sorted({e.action.split(":")[0] for e in entries}))


NAV = [NavItem(PATH, "nav_audit", frozenset({Role.COORDINATOR}), order=60)]

ROUTES: list[BaseRoute] = [Route(PATH, audit, methods=["GET"])]
