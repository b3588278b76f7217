"""Who is signed in, what they may do, and the CSRF check: deny by default.

A session lives on the server (storage console_sessions, by digest); the browser holds
only its random id in an HttpOnly, SameSite=Strict cookie. Every route is wrapped by
`requires(...)` or listed in PUBLIC; create_app replaces any other route by a refusal.
Every state-changing request must carry the session's CSRF token (form field `csrf` or
header X-CSRF-Token), checked here so no page has to remember it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import cast
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conversations.services import Services
from core.console import SessionState, session_state
from core.identity import token_digest
from web.context import WebContext
from web.render import page
from web.staff import Role, Staff, current_staff, staff_of

COOKIE = "vakbot_console"
# The kiosk tablet's page (web.routes_kiosk) has its own device and session cookies and
# its own form token: no console session is loaded on it, so a tablet never acts as staff.
KIOSK = ("/kiosk", "/kiosk/")
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths (or path prefixes ending in /) that need no sign-in. Everything else is refused
# unless its endpoint is wrapped by `requires`.
PUBLIC = frozenset({"/signin", "/signin/", "/signout", "/static/", "/health", *KIOSK})

Endpoint = Callable[[Request], Awaitable[Response]]


def requires(*roles: Role) -> Callable[[Endpoint], Endpoint]:
    """Let only staff with one of `roles` in: signed out goes to /signin, others get 403."""
    allowed = frozenset(roles)

    def wrap(view: Endpoint) -> Endpoint:
        @wraps(view)
        async def guarded(request: Request) -> Response:
            staff = current_staff(request)
            if staff is None:
                return signed_out(request)
            if not staff.roles & allowed:
                return page(request, "refused.html", status=403, reason="role")
            return await view(request)

        guarded.__dict__["required_roles"] = allowed
        return guarded

    return wrap


def required_roles(endpoint: object) -> frozenset[Role] | None:
    """The roles `requires` put on an endpoint, or None when it is not guarded."""
    roles = getattr(endpoint, "required_roles", None)
    return cast(frozenset[Role], roles) if isinstance(roles, frozenset) else None


def is_public(path: str) -> bool:
    return path in PUBLIC or any(p.endswith("/") and path.startswith(p) for p in PUBLIC)


def signed_out(request: Request) -> Response:
    """Signed out (or the session ended): to the sign-in page; HTMX gets a full redirect."""
    target = "/signin?next=" + quote(request.url.path)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


MAX_FORM_BODY = 2 * 1024 * 1024   # a form or a CSV upload; more is refused with 413


class SessionMiddleware:
    """Loads the session from the cookie (ending idle or expired ones on the server),
    puts Staff on request.state, and refuses unsafe methods without the right CSRF
    token, before any endpoint runs. The body of an unsafe request is read here once
    (at most MAX_FORM_BODY) and replayed to the endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        services = cast(Services, request.app.state.services)
        web = cast(WebContext, request.app.state.web)
        webhook = web.webhook
        path = request.url.path
        if (webhook is not None and path == webhook.path) or path == "/health" or (
                path.startswith("/static/") and request.method in ("GET", "HEAD")) or (
                path == KIOSK[0] or path.startswith(KIOSK[1])):
            # The webhook has its own secret; /health and static files need no session
            # (and do not keep one alive).
            await self.app(scope, receive, send)
            return
        staff = await load_staff(request, services, web)
        scope.setdefault("state", {})["staff"] = staff
        if request.method not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        signing_in = request.url.path.startswith("/signin")
        if staff is None and not signing_in:   # refused before a byte of the body is read
            await signed_out(request)(scope, receive, send)
            return
        body = await read_limited(receive, MAX_FORM_BODY)
        if body is None:
            await PlainTextResponse("Too large.", status_code=413)(scope, receive, send)
            return
        if staff is not None and not signing_in and not await _csrf_checked(
                Request(scope, replay(body, receive)), staff):
            await page(request, "refused.html", status=403, reason="csrf")(scope, receive,
                                                                           send)
            return
        await self.app(scope, replay(body, receive), send)


async def _csrf_checked(request: Request, staff: Staff) -> bool:
    """csrf_ok on a request of its own, whose parsed form (and any uploaded file's
    temporary file) is closed afterwards; the endpoint parses the replayed body again."""
    try:
        return await csrf_ok(request, staff)
    finally:
        await request.close()


async def read_limited(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then waits on the real one (disconnects)."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def load_staff(request: Request, services: Services, web: WebContext) -> Staff | None:
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 200:
        return None
    digest = token_digest(raw)
    session = await services.store.console_session(digest)
    if session is None:
        return None
    now = services.clock()
    state = session_state(session.created_at, session.last_seen, session.ended_at, now,
                          web.console.idle, web.console.lifetime)
    if state is not SessionState.LIVE:
        if state is not SessionState.ENDED:
            await services.store.end_console_session(digest, now)
            await services.audit(session.grant.actor, f"console:signout:{state.value}")
        return None
    await services.store.touch_console_session(digest, now)
    return staff_of(session.grant, digest, session.csrf)


async def csrf_ok(request: Request, staff: Staff) -> bool:
    """The header (HTMX) or the form field `csrf`; the form is parsed once and cached
    by Starlette, so the endpoint reads the same form afterwards."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), staff.csrf.encode())
