"""The coordinators' overview: response per youth, with the reason when attention is
needed (missed in a row, unreachable, withdrew, paused), filterable by unit and
therapist. The rows and reasons are core.compliance's (the same as /overview and
`python -m bot overview`); urgent alerts that reached nobody come first, loud."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations import crisis
from core.compliance import attention
from core.console_pages import filter_overview
from web.auth import requires
from web.nav import NavItem
from web.page_support import services_of, staff_of
from web.render import page
from web.staff import Role

PATH = "/overview"


@requires(Role.COORDINATOR)
async def overview(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    store = services.store
    unit = request.query_params.get("unit", "")
    therapist = request.query_params.get("therapist", "")
    only_attention = request.query_params.get("attention") == "1"
    units = await store.youth_units()
    rows = filter_overview(await store.compliance(services.clock()), units, unit, therapist)
    shown = []
    for row in rows:
        reasons = attention(row, staff.lang, services.missed_alert_after)
        if reasons or not only_attention:
            shown.append((row, units.get(row.youth_code) or "", reasons))
    await services.audit(staff.actor, "read:overview", "",
                         f"console; unit {unit or 'all'}, therapist {therapist or 'all'}")
    return page(request, "overview.html", rows=shown, unit=unit, therapist=therapist,
                only_attention=only_attention,
                loud=await crisis.unreached_section(services, staff.lang),
                units=sorted({u.code for u in await store.all_units()}
                             | {u for u in units.values() if u}),
                therapists=[t.code for t in await store.all_therapists()])


NAV = [NavItem(PATH, "nav_overview", frozenset({Role.COORDINATOR}), order=15)]

ROUTES: list[BaseRoute] = [Route(PATH, overview, methods=["GET"])]
