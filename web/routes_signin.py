"""Signing in with a single-use link, signing out, the home page and the language.

A GET of a sign-in link only shows a button: link previews (Telegram fetches links it
shows) and browser prefetching must not use the link up. The POST redeems it once,
rate limited per client address and overall, and starts a server-side session.

The POST must come from the page the GET showed (a login-CSRF guard): the GET sets a
short-lived SameSite=Strict cookie and puts the same random value in the form. Another
site holding someone's link cannot post it from the victim's browser to sign them in
as that person, because the browser sends no such cookie with a cross-site POST; the
refused attempt does not use the link up.
"""

from __future__ import annotations

import hmac
import secrets
from typing import cast
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from conversations.services import Services
from core.identity import token_digest
from core.questionnaire import Language
from web.auth import COOKIE, new_csrf, new_session_id, requires
from web.context import WebContext
from web.nav import NavItem
from web.render import nav_for, page
from web.staff import Role, current_staff

ALL_ROLES = tuple(Role)
MAX_TOKEN = 64
FORM_COOKIE = "vakbot_signin"
FORM_FIELD = "form"
FORM_LIFETIME_S = 15 * 60


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _web(request: Request) -> WebContext:
    return cast(WebContext, request.app.state.web)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return parts.path or "/"


async def signin_help(request: Request) -> Response:
    return page(request, "signin.html", token=None, next=_safe_next(
        request.query_params.get("next")))


async def signin_form(request: Request) -> Response:
    token = request.path_params["token"]
    if len(token) > MAX_TOKEN:
        return page(request, "signin_refused.html", status=404, reason="unknown")
    form_key = secrets.token_urlsafe(24)
    response = page(request, "signin.html", token=token, next="/", form_key=form_key)
    response.set_cookie(FORM_COOKIE, form_key, httponly=True, samesite="strict",
                        secure=_web(request).console.secure_cookie, path="/signin",
                        max_age=FORM_LIFETIME_S)
    return response


def _from_our_form(request: Request, posted: object) -> bool:
    """The form field matches the cookie the sign-in page set (constant-time)."""
    cookie = request.cookies.get(FORM_COOKIE)
    return (isinstance(posted, str) and cookie is not None and len(cookie) == len(posted)
            and hmac.compare_digest(cookie.encode(), posted.encode()))


async def signin(request: Request) -> Response:
    services, web = _services(request), _web(request)
    now = services.clock()
    address = request.client.host if request.client else "?"
    if not web.limiter.allow(address, now):
        return page(request, "signin_refused.html", status=429, reason="busy")
    token = request.path_params["token"]
    if len(token) > MAX_TOKEN:
        return page(request, "signin_refused.html", status=404, reason="unknown")
    form = await request.form()
    if not _from_our_form(request, form.get(FORM_FIELD)):
        await services.audit("console", "console:signin-refused:not-our-form")
        return page(request, "signin_refused.html", status=403, reason="form")
    outcome = await services.store.redeem_console_link(token_digest(token), now)
    if outcome.grant is None:
        await services.audit("console", f"console:signin-refused:{outcome.result}")
        status = 404 if outcome.result == "unknown" else 410
        return page(request, "signin_refused.html", status=status, reason=outcome.result)
    session_id, csrf = new_session_id(), new_csrf()
    await services.store.add_console_session(token_digest(session_id), outcome.grant, csrf,
                                             now)
    await services.audit(outcome.grant.actor, "console:signin", "",
                         ", ".join(outcome.grant.roles))
    response = RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="strict",
                        secure=web.console.secure_cookie, path="/",
                        max_age=int(web.console.lifetime.total_seconds()))
    response.delete_cookie(FORM_COOKIE, path="/signin", httponly=True, samesite="strict",
                           secure=web.console.secure_cookie)
    return response


async def signout(request: Request) -> Response:
    services = _services(request)
    staff = current_staff(request)
    if staff is not None and await services.store.end_console_session(staff.session,
                                                                      services.clock()):
        await services.audit(staff.actor, "console:signout")
    request.state.staff = None
    response = page(request, "signed_out.html")
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_web(request).console.secure_cookie)
    return response


@requires(*ALL_ROLES)
async def home(request: Request) -> Response:
    staff = current_staff(request)
    items = nav_for(request, staff)
    if len(items) == 1:
        return RedirectResponse(items[0].path, status_code=303)
    return page(request, "home.html", items=items)


@requires(*ALL_ROLES)
async def language(request: Request) -> Response:
    form = await request.form()
    chosen = form.get("lang")
    staff = current_staff(request)
    assert staff is not None
    if chosen in ("nl", "en"):
        await _services(request).store.set_console_language(staff.session,
                                                            cast(Language, chosen))
    return RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


NAV: list[NavItem] = []

ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/signin", signin_help, methods=["GET"], name="signin_help"),
    Route("/signin/{token}", signin_form, methods=["GET"], name="signin_form"),
    Route("/signin/{token}", signin, methods=["POST"], name="signin"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/lang", language, methods=["POST"], name="language"),
    Route("/health", health, methods=["GET"], name="health"),
]
