"""Acknowledging alerts and rating sessions, free of where the tap came from.

A Telegram button (conversations.staff, conversations.crisis) and the console
(web/routes_alerts.py, web/routes_caseload.py) call the same functions, so who may
acknowledge which alert, and which rating counts, is decided once. Each returns what
happened as data; the edges word it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conversations.services import Services
from core.analytics import DIMENSIONS, NOT_HELD_BY_THERAPIST
from core.crisis_route import Recipient, Role
from core.records import Alert, OutboxItem


class AckOutcome(StrEnum):
    DONE = "done"            # this acknowledgement was the first: escalation stops
    ALREADY = "already"      # someone acknowledged before (alert.acked_by says who)
    NOT_YOURS = "not_yours"  # unknown alert, or not one this person receives


@dataclass(frozen=True)
class Acked:
    outcome: AckOutcome
    alert: Alert | None      # as stored after the acknowledgement


async def acknowledge_own(services: Services, therapist_code: str, ref: str) -> Acked:
    """A therapist's "✓ Gezien" on one of their own (non-urgent) alerts."""
    alert = await services.store.alert_by_ref(ref)
    if alert is None or alert.therapist_code != therapist_code:
        return Acked(AckOutcome.NOT_YOURS, None)
    first = await services.store.ack_alert(alert.ref, services.clock())
    return Acked(AckOutcome.DONE if first else AckOutcome.ALREADY, alert)


async def acknowledge_urgent(services: Services, alert: Alert, role: Role, code: str,
                             actor: str) -> Acked:
    """Any recipient of an urgent alert acknowledges it: the first stops the escalation
    and is audited as `ack:urgent`; `code` is the recipient's code for its role (therapist
    code, unit code, or the coordinator's short pseudonym), `actor` the audit actor."""
    now = services.clock()
    first = await services.store.ack_alert(alert.ref, now, by=Recipient(role, code).key)
    current = await services.store.alert_by_ref(alert.ref) or alert
    if first:
        await services.audit(actor, "ack:urgent", alert.youth_code, alert.reason or "")
    return Acked(AckOutcome.DONE if first else AckOutcome.ALREADY, current)


def urgent_role(alert: Alert, *, therapist_code: str | None = None,
                unit_codes: frozenset[str] = frozenset(),
                coordinator: bool = False) -> Role | None:
    """The role in which someone receives this urgent alert, if any (therapist first)."""
    if therapist_code is not None and therapist_code == alert.therapist_code:
        return "therapist"
    if alert.unit_code is not None and alert.unit_code in unit_codes:
        return "unit"
    return "coordinator" if coordinator else None


def ack_role(alert: Alert, *, therapist_code: str | None = None,
             unit_codes: frozenset[str] = frozenset(),
             coordinator: bool = False) -> Role | None:
    """Who may acknowledge: an urgent alert, any of its recipients (urgent_role); any
    other alert (rupture, missed, an older crisis alert), its therapist only."""
    if alert.reason is None:
        return ("therapist" if therapist_code is not None
                and therapist_code == alert.therapist_code else None)
    return urgent_role(alert, therapist_code=therapist_code, unit_codes=unit_codes,
                       coordinator=coordinator)


class RatingOutcome(StrEnum):
    RATED = "rated"
    NOT_HELD = "not_held"    # "ging niet door": the session is never counted as missed
    REFUSED = "refused"      # not this therapist's request, or not a rating it can take


@dataclass(frozen=True)
class Rated:
    outcome: RatingOutcome
    item: OutboxItem | None  # the rating request the answer belongs to


RATING_VALUES = frozenset({"1", "2", "3", "4", "5"})


async def rate_session(services: Services, therapist_code: str, request_ref: str,
                       item_name: str, value: str) -> Rated:
    """Store one of the therapist's ratings of a session (bond, goal or task, 1-5), or
    mark it as not held (item 'held', value 'no'); only on their own rating request, and
    only once the session has ended."""
    item = await services.store.outbox_by_ref(request_ref)
    now = services.clock()
    if (item is None or item.therapist_code != therapist_code or item.youth_code is None
            or (item_name == "held") != (value == "no")
            or (item.session_end is not None and item.session_end > now)):
        return Rated(RatingOutcome.REFUSED, None)
    if item_name == "held":
        await services.store.mark_not_held(item.youth_code, item.occurrence_key,
                                           NOT_HELD_BY_THERAPIST, now)
        return Rated(RatingOutcome.NOT_HELD, item)
    if item_name not in DIMENSIONS or value not in RATING_VALUES:
        return Rated(RatingOutcome.REFUSED, None)
    await services.store.rate(item.occurrence_key, item.youth_code, therapist_code,
                              item_name, value, now)
    return Rated(RatingOutcome.RATED, item)
