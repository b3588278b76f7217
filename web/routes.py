"""The route modules whose `ROUTES` the console mounts (and whose `NAV` it shows).

Each module: `ROUTES: list[BaseRoute]`, every endpoint wrapped by web.auth.requires
(or its path in web.auth.PUBLIC), and optionally `NAV: list[web.nav.NavItem]`.
"""

from __future__ import annotations

from types import ModuleType

from web import (
    routes_alerts,
    routes_audit,
    routes_caseload,
    routes_export,
    routes_kiosk,
    routes_kiosk_staff,
    routes_overview,
    routes_people,
    routes_schedule,
    routes_signin,
)

ROUTE_MODULES: list[ModuleType] = [routes_signin, routes_people, routes_schedule,
                                    routes_overview, routes_alerts, routes_audit,
                                    routes_caseload, routes_export, routes_kiosk,
                                    routes_kiosk_staff]
