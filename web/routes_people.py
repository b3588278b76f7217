"""Coordinators' People pages: youths and therapists, who has not joined yet, and the
enrolment actions. Every action is a use case of conversations.people, the same one the
CLI calls, which checks, writes and audits (by the coordinator's actor); this module only
reads the form and shows the result.

Row actions answer HTMX with the updated row; without HTMX the same forms post normally
and land back on /people. Actions that make an invite answer with the invite page: the
link and its QR code, printable (the token exists only in this answer; the database
keeps its digest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

import segno
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from conversations import people as use_cases
from conversations.enrolment import (
    CODE,
    UNIT,
    EnrolmentRefused,
    Invitation,
    parse_guardian_date,
)
from conversations.services import Services
from core.questionnaire import Language
from core.records import NewYouth, Youth
from storage.ports import EnrolmentRepo
from web.auth import requires
from web.context import WebContext
from web.nav import NavItem
from web.render import fragment, page, translator
from web.staff import Role, Staff, current_staff

COORDINATOR = frozenset({Role.COORDINATOR})
KINDS = ("youths", "therapists", "units")


class FormValues(dict[str, str]):
    """What the coordinator typed, shown again after a refusal; a missing field is ""."""

    def __getattr__(self, name: str) -> str:
        return self.get(name, "")


@dataclass(frozen=True)
class YouthRow:
    youth: Youth
    unit: str | None
    joined: bool
    notice: str = ""        # a word key: what just happened to this row
    problem: str = ""       # why the last action on this row was refused
    link_until: datetime | None = None   # not joined: until when the open link works


@dataclass(frozen=True)
class UnitRow:
    """A unit and its 24/7 crisis contact: no linked phone means no crisis alert reaches
    the unit, so it shows first and loudly."""

    code: str
    joined: bool
    youths: int
    link_until: datetime | None = None


@dataclass(frozen=True)
class TherapistRow:
    code: str
    language: Language
    joined: bool
    youths: int
    link_until: datetime | None = None


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _staff(request: Request) -> Staff:
    staff = current_staff(request)
    assert staff is not None   # every view here is wrapped by requires
    return staff


async def _linked(store: EnrolmentRepo, pseudonym: str | None) -> bool:
    return pseudonym is not None and await store.contact(pseudonym) is not None


async def youth_row(services: Services, youth: Youth, notice: str = "",
                    problem: str = "") -> YouthRow:
    store = services.store
    links = await store.open_invites(services.clock())
    return YouthRow(youth, await store.youth_unit(youth.code),
                    await _linked(store, youth.pseudonym), notice, problem,
                    links.get(("youth", youth.code)))


async def people_lists(services: Services) -> tuple[list[YouthRow], list[TherapistRow]]:
    store = services.store
    youths = await store.active_youths()
    units = await store.youth_units()
    links = await store.open_invites(services.clock())
    rows = [YouthRow(y, units.get(y.code), await _linked(store, y.pseudonym),
                     link_until=links.get(("youth", y.code)))
            for y in youths]
    counts: dict[str, int] = {}
    for y in youths:
        counts[y.therapist_code] = counts.get(y.therapist_code, 0) + 1
    therapists = [TherapistRow(t.code, t.language,
                               await _linked(store, await store.therapist_pseudonym(t.code)),
                               counts.get(t.code, 0), links.get(("therapist", t.code)))
                  for t in await store.all_therapists()]
    return rows, therapists


def _why(request: Request, refused: EnrolmentRefused) -> str:
    """The refusal in the staff member's words; the CLI's message for any reason the
    catalogue does not name."""
    if not refused.key:
        return str(refused)
    return translator(_staff(request).lang)(f"refused_{refused.key}", **refused.values)


async def _page(request: Request, status: int = 200, problem: str = "",
                form: dict[str, str] | None = None, which: str = "") -> Response:
    services = _services(request)
    youths, therapists = await people_lists(services)
    all_units = await services.store.all_units()
    units = [u.code for u in all_units]
    links = await services.store.open_invites(services.clock())
    per_unit: dict[str, int] = {}
    for row in youths:
        unit = row.unit or services.default_unit
        if unit:
            per_unit[unit] = per_unit.get(unit, 0) + 1
    unit_rows = [UnitRow(u.code, await _linked(services.store, u.pseudonym),
                         per_unit.get(u.code, 0), links.get(("unit", u.code)))
                 for u in all_units]
    return page(request, "people.html", status=status, youths=youths,
                therapists=therapists, units=units, unit_rows=unit_rows,
                default_unit=services.default_unit,
                problem=problem, form=FormValues(form or {}), which=which,
                waiting=sum(not r.joined for r in youths) + sum(
                    not t.joined for t in therapists),
                this_year=services.clock().year)


@requires(Role.COORDINATOR)
async def people(request: Request) -> Response:
    return await _page(request)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _checked_code(text: str, what: str) -> str:
    code = text.strip().upper()
    if not CODE.fullmatch(code):
        raise EnrolmentRefused(f"{what}: {text!r} is not a code like J-014 (capital "
                               "letters, a dash, digits); codes keep names out of the data",
                               "not_a_code", text=text)
    return code


def _checked_unit(text: str) -> str | None:
    if not text:
        return None
    if not UNIT.fullmatch(text):
        raise EnrolmentRefused(f"{text!r} is not a unit code like W-1", "not_a_unit",
                               text=text)
    return text


def _language(text: str) -> Language:
    return "en" if text == "en" else "nl"


def _past_date(text: str, what: str, today: date) -> date | None:
    when = parse_guardian_date(text or None, what)
    if when is not None and when > today:
        raise EnrolmentRefused(f"{what}: {when.isoformat()} lies in the future",
                               "future_date", date=when.isoformat())
    return when


@requires(Role.COORDINATOR)
async def enrol_youth(request: Request) -> Response:
    services, staff = _services(request), _staff(request)
    form = await request.form()
    values = {k: _text(form, k) for k in ("code", "therapist", "birth_year", "language",
                                          "simple", "guardian", "unit", "research")}
    now = services.clock()
    try:
        code = _checked_code(values["code"], "youth code")
        therapist = _checked_code(values["therapist"], "therapist")
        if not values["birth_year"].isdigit():
            raise EnrolmentRefused(f"birth year {values['birth_year']!r} is not a year "
                                   "like 2010", "not_a_year", text=values["birth_year"])
        research = _past_date(values["research"], "guardian's research consent",
                              now.date())
        youth = NewYouth(code, therapist, int(values["birth_year"]),
                         _language(values["language"]), values["simple"] == "on",
                         _past_date(values["guardian"], "guardian's consent", now.date()))
        enrolled = await use_cases.enroll_youth(services, staff.actor, youth,
                                                unit=_checked_unit(values["unit"]),
                                                research_date=research)
    except EnrolmentRefused as refused:
        return await _page(request, 400, _why(request, refused), values, "youth")
    invitation = enrolled.invitation
    warning = "" if enrolled.unit_linked else enrolled.unit
    return _invite_page(request, invitation, "youth", warning)


@requires(Role.COORDINATOR)
async def enrol_therapist(request: Request) -> Response:
    services, staff = _services(request), _staff(request)
    form = await request.form()
    values = {k: _text(form, k) for k in ("code", "language")}
    try:
        code = _checked_code(values["code"], "therapist code")
        invitation = await use_cases.enroll_therapist(services, staff.actor, code,
                                                   _language(values["language"]))
    except EnrolmentRefused as refused:
        return await _page(request, 400, _why(request, refused), values, "therapist")
    return _invite_page(request, invitation, "therapist")


@requires(Role.COORDINATOR)
async def enrol_unit(request: Request) -> Response:
    """A unit and the invite its 24/7 on-call phone opens (the crisis contact)."""
    services, staff = _services(request), _staff(request)
    form = await request.form()
    values = {k: _text(form, k) for k in ("code", "language")}
    try:
        code = _checked_unit(values["code"])
        if code is None:
            raise EnrolmentRefused("a unit code like W-1 is needed", "not_a_unit",
                                   text=values["code"])
        invitation = await use_cases.enroll_unit(services, staff.actor, code,
                                                 _language(values["language"]))
    except EnrolmentRefused as refused:
        return await _page(request, 400, _why(request, refused), values, "unit")
    return _invite_page(request, invitation, "unit")


@requires(Role.COORDINATOR)
async def reinvite(request: Request) -> Response:
    """A new link for someone who has not joined (older links stop working)."""
    services, staff = _services(request), _staff(request)
    kind, code = request.path_params["kind"], request.path_params["code"]
    if kind not in KINDS:
        return Response(status_code=404)
    try:
        if kind == "units":
            return _invite_page(request, await use_cases.invite_unit(services, staff.actor,
                                                                     code), "unit")
        invited = await use_cases.invite(services, staff.actor, code)
    except EnrolmentRefused as refused:
        return await _page(request, 400, _why(request, refused))
    return _invite_page(request, invited.invitation, invited.kind)


@requires(Role.COORDINATOR)
async def unbind(request: Request) -> Response:
    """A lost phone: the old account is cut off at once and a new invite made."""
    services, staff = _services(request), _staff(request)
    kind, code = request.path_params["kind"], request.path_params["code"]
    if kind not in KINDS:
        return Response(status_code=404)
    try:
        if kind == "therapists":
            invitation = await use_cases.unbind_therapist(services, staff.actor, code)
        elif kind == "units":
            invitation = await use_cases.unbind_unit(services, staff.actor, code)
        else:
            invitation = await use_cases.unbind_youth(services, staff.actor, code)
    except EnrolmentRefused as refused:
        return await _page(request, 400, _why(request, refused))
    return _invite_page(request, invitation, kind.rstrip("s"), unbound=True)


async def _row_answer(request: Request, code: str, notice: str = "",
                      problem: str = "") -> Response:
    """HTMX: the row again, with what happened. Without HTMX: back to the list."""
    services = _services(request)
    youth = await services.store.youth_by_code(code)
    if request.headers.get("hx-request") and youth is not None:
        units = [u.code for u in await services.store.all_units()]
        therapists = [t.code for t in await services.store.all_therapists()]
        return fragment(request, "people_youth_row.html", status=200 if not problem else 400,
                        row=await youth_row(services, youth, notice, problem),
                        units=units, therapist_codes=therapists,
                        default_unit=services.default_unit)
    if problem:
        return await _page(request, 400, problem)
    return RedirectResponse(f"/people#youth-{code}", status_code=303)


@requires(Role.COORDINATOR)
async def move(request: Request) -> Response:
    services, staff = _services(request), _staff(request)
    code = request.path_params["code"]
    to_code = _text(await request.form(), "therapist")
    try:
        await use_cases.move_youth(services, staff.actor, code, to_code)
    except EnrolmentRefused as refused:
        return await _row_answer(request, code, problem=_why(request, refused))
    return await _row_answer(request, code, "moved")


@requires(Role.COORDINATOR)
async def simple(request: Request) -> Response:
    services, staff = _services(request), _staff(request)
    code = request.path_params["code"]
    on = _text(await request.form(), "simple") == "on"
    try:
        await use_cases.set_simple(services, staff.actor, code, on)
    except EnrolmentRefused as refused:
        return await _row_answer(request, code, problem=_why(request, refused))
    return await _row_answer(request, code, "simple_on" if on else "simple_off")


@requires(Role.COORDINATOR)
async def set_unit(request: Request) -> Response:
    services, staff = _services(request), _staff(request)
    code = request.path_params["code"]
    try:
        unit = _checked_unit(_text(await request.form(), "unit"))
        if unit is None:
            raise EnrolmentRefused("choose a unit", "choose_unit")
        await use_cases.set_unit(services, staff.actor, code, unit)
    except EnrolmentRefused as refused:
        return await _row_answer(request, code, problem=_why(request, refused))
    return await _row_answer(request, code, "unit_set")


def qr_svg(link: str) -> str:
    """The invite as a QR code, drawn here (no service is asked), inline SVG."""
    return str(segno.make(link, error="m").svg_inline(scale=6, border=2, omitsize=True,
                                                       title="QR"))


def _invite_page(request: Request, invitation: Invitation, kind: str, warning: str = "",
                 *, unbound: bool = False) -> Response:
    web = cast(WebContext, request.app.state.web)
    link = invitation.link(web.bot_username)
    expires: datetime = invitation.expires_at
    return page(request, "invite.html", invitation=invitation, kind=kind, link=link,
                qr=qr_svg(link), expires=expires, warning=warning, unbound=unbound)


NAV = [NavItem("/people", "nav_people", COORDINATOR, order=10)]

ROUTES: list[BaseRoute] = [
    Route("/people", people, methods=["GET"], name="people"),
    Route("/people/youths", enrol_youth, methods=["POST"], name="enrol_youth"),
    Route("/people/therapists", enrol_therapist, methods=["POST"], name="enrol_therapist"),
    Route("/people/units", enrol_unit, methods=["POST"], name="enrol_unit"),
    Route("/people/{kind:str}/{code:str}/invite", reinvite, methods=["POST"],
          name="reinvite"),
    Route("/people/{kind:str}/{code:str}/unbind", unbind, methods=["POST"], name="unbind"),
    Route("/people/youths/{code:str}/therapist", move, methods=["POST"], name="move"),
    Route("/people/youths/{code:str}/simple", simple, methods=["POST"], name="simple"),
    Route("/people/youths/{code:str}/unit", set_unit, methods=["POST"], name="set_unit"),
]
