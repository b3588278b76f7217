"""Alerts: open, escalated and acknowledged, with who was reached and when
(alert_deliveries, by role, never a Telegram id). Acknowledging goes through
conversations.alert_actions, the same use case as the "✓ Gezien" button in Telegram:
a therapist acknowledges their own alerts, the unit's contact and the coordinators the
urgent ones they receive. Only the therapist sees which crisis rule fired."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations import crisis
from conversations import staff as staff_texts
from conversations.alert_actions import (
    Acked,
    AckOutcome,
    ack_role,
    acknowledge_own,
    acknowledge_urgent,
)
from conversations.services import Services
from core.console_pages import AlertState, alert_state
from core.crisis_route import Role as RouteRole
from core.records import Alert, AlertDelivery
from core.texts import say
from web.auth import requires
from web.nav import NavItem
from web.page_support import form_of, see_other, services_of, staff_of
from web.render import page
from web.staff import Role, Staff

log = logging.getLogger(__name__)
PATH = "/alerts"
SHOWN_DAYS = 30
STATES = tuple(s.value for s in AlertState)


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    state: AlertState
    text: str
    deliveries: list[AlertDelivery]
    acked_by: str                # by role ("de groepsleiding"), never a person
    can_ack: bool


def role_for(staff: Staff, alert: Alert) -> RouteRole | None:
    """The role in which this staff member may acknowledge this alert, if any."""
    return ack_role(
        alert,
        therapist_code=staff.therapist_code if Role.THERAPIST in staff.roles else None,
        unit_codes=frozenset({staff.unit}) if Role.UNIT in staff.roles and staff.unit
        else frozenset(),
        coordinator=Role.COORDINATOR in staff.roles)


def visible(staff: Staff, alert: Alert) -> bool:
    """Coordinators see every alert; a therapist their own; a unit its urgent ones."""
    return (Role.COORDINATOR in staff.roles or role_for(staff, alert) is not None
            or (Role.THERAPIST in staff.roles
                and staff.therapist_code == alert.therapist_code))


def text_for(services: Services, staff: Staff, alert: Alert) -> str:
    """The alert as this viewer may read it (the rule only for the therapist). A sealed
    detail that no configured key opens does not take the page down: the rest shows."""
    try:
        return _text_for(services, staff, alert)
    except Exception:
        log.exception("alert %s: its text could not be shown", alert.id)
        return say(staff.lang, "web.al.unreadable", code=alert.youth_code)


def _text_for(services: Services, staff: Staff, alert: Alert) -> str:
    role = role_for(staff, alert)
    if alert.reason is not None:
        return crisis.urgent_text(services, alert, role or "coordinator", staff.lang)
    if role == "therapist":
        return staff_texts.alert_text(services, alert, staff.lang)
    return say(staff.lang, "web.al.other_therapist", code=alert.youth_code,
               kind=say(staff.lang, f"web.al.kind.{alert.kind}"),
               therapist=alert.therapist_code)


async def alert_rows(services: Services, staff: Staff, now: datetime,
                     youth: str = "") -> list[AlertRow]:
    code = (staff.therapist_code if Role.COORDINATOR not in staff.roles
            and Role.UNIT not in staff.roles else None)
    out = []
    for alert in await services.store.alerts_since(now - timedelta(days=SHOWN_DAYS), code):
        if not visible(staff, alert) or (youth and alert.youth_code != youth):
            continue
        deliveries = (await services.store.deliveries(alert.id)
                      if alert.reason is not None else [])
        out.append(AlertRow(
            alert, alert_state(alert.acked_at, alert.escalate_at, now),
            text_for(services, staff, alert), deliveries,
            crisis.role_label(alert.acked_by or "therapist", staff.lang)
            if alert.acked_at else "",
            alert.acked_at is None and role_for(staff, alert) is not None))
    return out


@requires(Role.COORDINATOR, Role.THERAPIST, Role.UNIT)
async def alerts(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    wanted = request.query_params.get("state", "")
    rows = await alert_rows(services, staff, services.clock())
    if wanted in STATES:
        rows = [r for r in rows if r.state.value == wanted]
    await services.audit(staff.actor, "read:alerts", "", f"console; {wanted or 'all'}")
    done = request.query_params.get("done", "")
    return page(request, "alerts.html", rows=rows, wanted=wanted, states=STATES,
                done=done if done in ("acked", "already", "not_yours") else "",
                back=PATH + (f"?state={wanted}" if wanted else ""))


async def acknowledge(services: Services, staff: Staff, ref: str) -> Acked:
    """The staff member's "✓ Gezien": the Telegram button's use case, by role."""
    alert = await services.store.alert_by_ref(ref)
    role = role_for(staff, alert) if alert is not None else None
    if alert is None or role is None:
        return Acked(AckOutcome.NOT_YOURS, None)
    if alert.reason is None:
        return await acknowledge_own(services, staff.therapist_code or "", ref)
    code = {"therapist": alert.therapist_code, "unit": alert.unit_code or ""}.get(
        role) or await _coordinator_key(services, alert, staff.actor.partition(":")[2])
    return await acknowledge_urgent(services, alert, role, code, staff.actor)


async def _coordinator_key(services: Services, alert: Alert, short: str) -> str:
    """The coordinator's recipient key on this alert's rows, so acknowledging here counts
    as their own "✓ Gezien" (they are not told in Telegram who took it up). Both are
    prefixes of the same pseudonym; a coordinator not on the rows keeps the short one."""
    rows = await services.store.deliveries(alert.id)
    keys = [r.recipient.partition(":")[2] for r in rows
            if r.recipient.startswith("coordinator:")]
    return next((key for key in keys if short and key.startswith(short)), short)


def safe_next(target: str, default: str) -> str:
    """Only a path on this console (never another site) to go back to."""
    return target if target.startswith("/") and not target.startswith("//") else default


@requires(Role.COORDINATOR, Role.THERAPIST, Role.UNIT)
async def ack(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    form = await form_of(request)
    acked = await acknowledge(services, staff, form.get("ref", ""))
    back = safe_next(form.get("next", ""), PATH)
    path, _, query = back.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    params["done"] = {AckOutcome.DONE: "acked", AckOutcome.ALREADY: "already"}.get(
        acked.outcome, "not_yours")
    return see_other(path, **params)


NAV = [NavItem(PATH, "nav_alerts", frozenset({Role.COORDINATOR, Role.THERAPIST, Role.UNIT}),
               order=25)]

ROUTES: list[BaseRoute] = [
    Route(PATH, alerts, methods=["GET"]),
    Route(f"{PATH}/ack", ack, methods=["POST"]),
]
