"""The researchers' download: the de-identified research export as a zip, built by
conversations.research.export_files (the same one function as `python -m bot export`
and /export) and audited as `export:research`, like /export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations.research import export_files, export_zip
from web.auth import requires
from web.nav import NavItem
from web.page_support import services_of, staff_of
from web.render import NO_STORE, page
from web.staff import Role

PATH = "/export"


@requires(Role.RESEARCHER)
async def export_page(request: Request) -> Response:
    return page(request, "export.html")


@requires(Role.RESEARCHER)
async def download(request: Request) -> Response:
    """POST (with the CSRF token), so a link elsewhere cannot start an audited export."""
    services, staff = services_of(request), staff_of(request)
    files = await export_files(services.store, services.clock())
    await services.audit(staff.actor, "export:research", "",
                         f"console; {files.youths} youths, {files.rows} rows")
    day = services.clock().astimezone(services.zone).strftime("%Y%m%d")
    return Response(export_zip(files), media_type="application/zip", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="research-export-{day}.zip"'})


NAV = [NavItem(PATH, "nav_export", frozenset({Role.RESEARCHER}), order=10)]

ROUTES: list[BaseRoute] = [
    Route(PATH, export_page, methods=["GET"]),
    Route(PATH, download, methods=["POST"]),
]
