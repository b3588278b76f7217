"""The console's ASGI application: routes of every module, deny by default."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conversations.services import Services
from web.auth import SessionMiddleware, is_public, required_roles
from web.context import WebContext
from web.routes import ROUTE_MODULES
from web.routes_webhook import webhook_routes

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    # Sign-in links carry their token in the path: never pass a URL on.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _health(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


async def _refuse(request: Request) -> Response:
    return Response("Refused: this page has no access rule.", status_code=403)


def guarded_routes() -> list[BaseRoute]:
    """Every module's routes; one neither guarded by `requires` nor public is replaced
    by a refusal (deny by default) and logged loudly."""
    routes: list[BaseRoute] = []
    for module in ROUTE_MODULES:
        for route in module.ROUTES:
            if isinstance(route, Route) and required_roles(route.endpoint) is None \
                    and not is_public(route.path):
                log.error("console route %s has no access rule; it refuses everyone",
                          route.path)
                routes.append(Route(route.path, _refuse, methods=route.methods,
                                    name=route.name))
                continue
            routes.append(route)
    return routes


def create_app(services: Services, web: WebContext, *, console: bool = True) -> Starlette:
    """The console app; `console=False` serves only the webhook and /health (a bot in
    webhook mode whose console is switched off)."""
    routes: list[BaseRoute] = [*guarded_routes(),
                               Mount("/static", StaticFiles(directory=STATIC), name="static")]
    if not console:
        routes = [Route("/health", _health, methods=["GET"])]
    if web.webhook is not None:
        routes = [*webhook_routes(web.webhook), *routes]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders),
                                               Middleware(SessionMiddleware)])
    app.state.services = services
    app.state.web = web
    app.state.nav = [item for module in ROUTE_MODULES for item in getattr(module, "NAV", [])]
    return app
