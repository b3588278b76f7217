"""The kiosk's console pages: a therapist's codes (/codes), and for coordinators the
tablets and each youth's channel (/tablets).

Registering a tablet is done on the tablet itself: a coordinator signs in on it, picks
the unit and presses the button; the answer leaves the device cookie, signs the
coordinator out (a tablet must never stay signed in as staff) and opens /kiosk.
"""

from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from conversations import kiosk_staff
from conversations.services import Services
from core.kiosk import Channel
from web.auth import COOKIE, requires
from web.context import WebContext
from web.nav import NavItem
from web.render import page
from web.routes_kiosk import DEVICE_COOKIE, DEVICE_YEARS, PATH
from web.staff import Role, Staff, current_staff

CODES_ROLES = (Role.THERAPIST, Role.COORDINATOR)
NAV = [NavItem("/codes", "kiosk_nav_codes", frozenset(CODES_ROLES), order=35),
       NavItem("/tablets", "kiosk_nav_tablets", frozenset({Role.COORDINATOR}), order=75)]


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _staff(request: Request) -> Staff:
    staff = current_staff(request)
    assert staff is not None   # `requires` let them in
    return staff


def _whose(staff: Staff) -> str | None:
    """A therapist sees their own youths' codes; a coordinator everyone's."""
    return None if staff.has(Role.COORDINATOR) else staff.therapist_code or "-"


async def _codes_page(request: Request, notice: str = "", status: int = 200) -> Response:
    services, staff = _services(request), _staff(request)
    whose = _whose(staff)
    return page(request, "kiosk_codes.html", status=status,
                codes=await kiosk_staff.live_codes(services, whose),
                reissuable=await kiosk_staff.reissuable(services, whose), notice=notice)


@requires(*CODES_ROLES)
async def codes(request: Request) -> Response:
    return await _codes_page(request)


@requires(*CODES_ROLES)
async def new_code(request: Request) -> Response:
    staff = _staff(request)
    form = await request.form()
    youth = str(form.get("youth", ""))
    issued = await kiosk_staff.new_code(_services(request), youth, _whose(staff), staff.actor)
    if issued is None:
        return await _codes_page(request, "kiosk_no_new_code", status=422)
    return await _codes_page(request, "kiosk_new_code_made")


async def _tablets_page(request: Request, notice: str = "", problem: str = "",
                        status: int = 200) -> Response:
    services = _services(request)
    youths = []
    for youth in await services.store.active_youths():
        youths.append((youth.code, (await kiosk_staff.channel_of(services, youth)).value))
    return page(request, "kiosk_tablets.html", status=status,
                tablets=await services.store.kiosk_devices(),
                units=[u.code for u in await services.store.all_units()],
                youths=youths, channels=[c.value for c in Channel], notice=notice,
                problem=problem)


@requires(Role.COORDINATOR)
async def tablets(request: Request) -> Response:
    return await _tablets_page(request)


@requires(Role.COORDINATOR)
async def register(request: Request) -> Response:
    """Register the browser this is pressed in as the unit's tablet, and sign out."""
    services, staff = _services(request), _staff(request)
    form = await request.form()
    unit = str(form.get("unit", ""))
    label = str(form.get("label", ""))[:60]
    try:
        token = await kiosk_staff.register_device(services, unit, label, staff.actor)
    except kiosk_staff.ChannelRefused as err:
        return await _tablets_page(request, problem=str(err), status=422)
    await services.store.end_console_session(staff.session, services.clock())
    await services.audit(staff.actor, "console:signout:tablet")
    web = cast(WebContext, request.app.state.web)
    response = RedirectResponse(PATH, status_code=303)
    response.set_cookie(DEVICE_COOKIE, token, httponly=True, samesite="strict",
                        secure=web.console.secure_cookie, path=PATH,
                        max_age=DEVICE_YEARS * 365 * 24 * 3600)
    response.delete_cookie(COOKIE, path="/")
    return response


@requires(Role.COORDINATOR)
async def tablet_action(request: Request) -> Response:
    form = await request.form()
    device = str(form.get("device", ""))
    action = str(form.get("action", ""))
    done = device.isdigit() and await kiosk_staff.set_device_state(
        _services(request), int(device), action, _staff(request).actor)
    return await _tablets_page(request, notice=f"kiosk_tablet_{action}" if done else "",
                               problem="" if done else "?", status=200 if done else 422)


@requires(Role.COORDINATOR)
async def channel(request: Request) -> Response:
    """Set a youth's channel (the CLI's set-channel, audited the same way)."""
    form = await request.form()
    try:
        result = await kiosk_staff.set_channel(_services(request), str(form.get("youth", "")),
                                         str(form.get("channel", "")), _staff(request).actor)
    except kiosk_staff.ChannelRefused as err:
        return await _tablets_page(request, problem=str(err), status=422)
    return await _tablets_page(request, notice="kiosk_channel_set",
                               problem="; ".join(result.notes))


ROUTES: list[BaseRoute] = [
    Route("/codes", codes, methods=["GET"]),
    Route("/codes/new", new_code, methods=["POST"]),
    Route("/tablets", tablets, methods=["GET"]),
    Route("/tablets/register", register, methods=["POST"]),
    Route("/tablets/device", tablet_action, methods=["POST"]),
    Route("/tablets/channel", channel, methods=["POST"]),
]
