"""Who gets an urgent (crisis) alert, when, and whether anyone has been reached.

A crisis text must reach a person who can act, every time. The first line is the youth's
therapist and the 24/7 contact of the youth's unit (group staff or the on-call phone),
both at once; when nobody acknowledges within the escalation delay, every coordinator
too. When neither first-line contact is linked, the coordinators get it at once. These
rules are pure: the delivery loop (scheduler/crisis_delivery.py) carries them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

Role = Literal["therapist", "unit", "coordinator"]
ROLES: tuple[Role, ...] = ("therapist", "unit", "coordinator")


@dataclass(frozen=True)
class Recipient:
    """One person an alert goes to. `code` is a therapist code, a unit code, or a short
    pseudonym of a coordinator: never a Telegram id."""

    role: Role
    code: str

    @property
    def key(self) -> str:
        return f"{self.role}:{self.code}"

    @staticmethod
    def parse(key: str) -> Recipient:
        role, _, code = key.partition(":")
        if role not in ROLES or not code:
            raise ValueError(f"not a recipient key: {key!r}")
        return Recipient(role, code)


@dataclass(frozen=True)
class Route:
    """What is linked for one youth right now."""

    therapist_code: str
    therapist_linked: bool
    unit_code: str | None
    unit_linked: bool
    coordinators: tuple[str, ...] = ()   # short pseudonyms of the configured coordinators

    def first_line(self) -> tuple[Recipient, ...]:
        out = []
        if self.therapist_linked:
            out.append(Recipient("therapist", self.therapist_code))
        if self.unit_linked and self.unit_code:
            out.append(Recipient("unit", self.unit_code))
        return tuple(out)


class Reach(StrEnum):
    REACHED = "reached"     # at least one recipient confirmed by Telegram
    TRYING = "trying"       # someone has not been tried yet
    NOBODY = "nobody"       # no recipient at all, or every one tried and none reached


@dataclass(frozen=True)
class DeliveryFact:
    recipient: str
    state: str      # pending, sent, blocked, failed
    attempts: int


def reach(deliveries: Sequence[DeliveryFact]) -> Reach:
    """Whether an alert has reached a person. "Nobody" is a loud state, never silent."""
    if any(d.state == "sent" for d in deliveries):
        return Reach.REACHED
    if not deliveries or all(d.attempts > 0 for d in deliveries):
        return Reach.NOBODY
    return Reach.TRYING


def recipients(route: Route, *, escalate_at: datetime, now: datetime, acked: bool,
               tried: Sequence[DeliveryFact] = ()) -> tuple[Recipient, ...]:
    """Everyone who should have the alert by `now` (nobody new once it is acknowledged).

    Therapist and unit contact at once. Every coordinator too once `escalate_at` has
    passed, at once when no first-line contact is linked (waiting would be waiting for
    nobody), and at once when every first-line contact was tried and none was reached."""
    if acked:
        return ()
    first = route.first_line()
    keys = {r.key for r in first}
    first_tried = [d for d in tried if d.recipient in keys]
    first_failed = (bool(first) and len(first_tried) == len(first)
                    and reach(first_tried) is Reach.NOBODY)
    if now >= escalate_at or not first or first_failed:
        return (*first, *(Recipient("coordinator", c) for c in route.coordinators))
    return first


def retry_delay(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min, 4 min, then every 5 minutes: an urgent alert keeps trying."""
    return min(timedelta(seconds=15 * (1 << min(max(attempts - 1, 0), 8))),
               timedelta(minutes=5))


class ReplyRoute(StrEnum):
    """What the reply to the youth may say about who hears of it: only what is true."""

    UNIT_AND_THERAPIST = "unit_and_therapist"
    UNIT = "unit"
    THERAPIST = "therapist"
    STAFF_LATER = "staff_later"    # nobody linked yet: "staff will be told as soon as possible"


def reply_route(route: Route) -> ReplyRoute:
    unit = route.unit_linked and route.unit_code is not None
    if unit and route.therapist_linked:
        return ReplyRoute.UNIT_AND_THERAPIST
    if unit:
        return ReplyRoute.UNIT
    if route.therapist_linked:
        return ReplyRoute.THERAPIST
    return ReplyRoute.STAFF_LATER


@dataclass(frozen=True)
class YouthRoute:
    """One enrolled youth as the configuration check sees them."""

    code: str
    therapist_code: str
    therapist_linked: bool
    unit: str | None


@dataclass(frozen=True)
class RouteCheck:
    problems: tuple[str, ...]   # check-config refuses; `run` logs them at ERROR
    warnings: tuple[str, ...]   # worth knowing, not a missing route


def unit_of(youth_unit: str | None, default_unit: str | None) -> str | None:
    return youth_unit or default_unit


def check_routes(youths: Sequence[YouthRoute], linked_units: frozenset[str],
                 coordinators: int, default_unit: str | None) -> RouteCheck:
    """Refuse a set-up in which a crisis alert could reach nobody.

    Every youth needs a unit with a linked 24/7 contact (the person physically there),
    and there must be coordinators to escalate to. A therapist who has not linked yet is
    a warning: the unit contact and the coordinators still make a route."""
    problems: list[str] = []
    warnings: list[str] = []
    if coordinators == 0:
        # Before the first youth joins nobody lacks a route yet: say it, refuse later.
        (problems if youths else warnings).append(
            "coordinators.telegram_ids: empty; an urgent alert that nobody acknowledges "
            "would escalate to no one")
    no_unit = [y.code for y in youths if unit_of(y.unit, default_unit) is None]
    if no_unit:
        problems.append(f"youths without a unit: {', '.join(no_unit)}; give them one with "
                        "`set-unit --code CODE --unit UNIT` or set units.default_unit")
    unlinked: dict[str, list[str]] = {}
    for y in youths:
        unit = unit_of(y.unit, default_unit)
        if unit is not None and unit not in linked_units:
            unlinked.setdefault(unit, []).append(y.code)
        if not y.therapist_linked:
            warnings.append(f"{y.code}: therapist {y.therapist_code} has not linked Telegram;"
                            " crisis alerts reach the unit contact and coordinators only")
    for unit, codes in sorted(unlinked.items()):
        problems.append(f"unit {unit} (youths {', '.join(codes)}): no linked 24/7 crisis "
                        f"contact; run `enroll-unit --unit {unit}` and open the link on "
                        "the unit's on-call phone")
    return RouteCheck(tuple(problems), tuple(warnings))
