"""The crisis route's rules, table-driven: who gets an urgent alert, when, and whether
anyone was reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.callbacks import TalkTap, parse, talk_data
from core.crisis_route import (
    DeliveryFact,
    Reach,
    Recipient,
    ReplyRoute,
    Route,
    YouthRoute,
    check_routes,
    reach,
    recipients,
    reply_route,
    retry_delay,
)

T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
ESCALATE = T0 + timedelta(minutes=20)
COORDS = ("c1", "c2")
THERAPIST, UNIT = "therapist:T-02", "unit:W-1"
C1, C2 = "coordinator:c1", "coordinator:c2"


def route(therapist: bool, unit: bool, coordinators: tuple[str, ...] = COORDS) -> Route:
    return Route("T-02", therapist, "W-1", unit, coordinators)


def sent(key: str) -> DeliveryFact:
    return DeliveryFact(key, "sent", 1)


def failed(key: str, state: str = "blocked") -> DeliveryFact:
    return DeliveryFact(key, state, 1)


@pytest.mark.parametrize(("case", "the_route", "minutes", "acked", "tried", "expected"), [
    ("both linked: both at once", route(therapist=True, unit=True), 0, False, (),
     [THERAPIST, UNIT]),
    ("therapist unlinked: unit only", route(therapist=False, unit=True), 0, False, (), [UNIT]),
    ("unit unlinked: therapist only", route(therapist=True, unit=False), 0, False, (), [THERAPIST]),
    ("nobody first-line: coordinators at once", route(therapist=False, unit=False), 0, False, (),
     [C1, C2]),
    ("just before the delay", route(therapist=True, unit=True), 19, False, (), [THERAPIST, UNIT]),
    ("after the delay: everyone", route(therapist=True, unit=True), 20, False, (),
     [THERAPIST, UNIT, C1, C2]),
    ("acknowledged: nobody new", route(therapist=True, unit=True), 30, True, (), []),
    ("first line all failed: coordinators early", route(therapist=True, unit=True), 1, False,
     (failed(THERAPIST), failed(UNIT, "failed")), [THERAPIST, UNIT, C1, C2]),
    ("one first-line reached: wait", route(therapist=True, unit=True), 1, False,
     (failed(THERAPIST), sent(UNIT)), [THERAPIST, UNIT]),
    ("one first-line not tried yet: wait", route(therapist=True, unit=True), 1, False,
     (failed(THERAPIST),), [THERAPIST, UNIT]),
    ("no coordinators, nobody linked: nobody",
     route(therapist=False, unit=False, coordinators=()), 30, False, (), []),
])
def test_recipients(case: str, the_route: Route, minutes: int, acked: bool,
                    tried: tuple[DeliveryFact, ...], expected: list[str]) -> None:
    got = recipients(the_route, escalate_at=ESCALATE, now=T0 + timedelta(minutes=minutes),
                     acked=acked, tried=tried)
    assert [r.key for r in got] == expected, case


@pytest.mark.parametrize(("facts", "expected"), [
    ((), Reach.NOBODY),
    ((DeliveryFact(UNIT, "pending", 0),), Reach.TRYING),
    ((failed(UNIT), DeliveryFact(C1, "pending", 0)), Reach.TRYING),
    ((failed(UNIT), failed(C1, "failed")), Reach.NOBODY),
    ((failed(UNIT), sent(C1)), Reach.REACHED),
    ((DeliveryFact(UNIT, "failed", 3),), Reach.NOBODY),
])
def test_reach(facts: tuple[DeliveryFact, ...], expected: Reach) -> None:
    assert reach(facts) is expected


@pytest.mark.parametrize(("therapist", "unit", "expected"), [
    (True, True, ReplyRoute.UNIT_AND_THERAPIST),
    (False, True, ReplyRoute.UNIT),
    (True, False, ReplyRoute.THERAPIST),
    (False, False, ReplyRoute.STAFF_LATER),
])
def test_the_reply_names_only_who_is_linked(therapist: bool, unit: bool,
                                            expected: ReplyRoute) -> None:
    assert reply_route(route(therapist, unit)) is expected


@pytest.mark.parametrize(("attempts", "seconds"), [
    (1, 15), (2, 30), (3, 60), (4, 120), (5, 240), (6, 300), (40, 300)])
def test_retry_delay_keeps_trying_every_five_minutes(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def y(code: str, unit: str | None, linked: bool = True) -> YouthRoute:
    return YouthRoute(code, "T-02", linked, unit)


@pytest.mark.parametrize(("youths", "linked", "coordinators", "default", "problems"), [
    ([y("J-1", "W-1")], {"W-1"}, 1, None, []),
    ([y("J-1", None)], {"W-1"}, 1, "W-1", []),
    ([y("J-1", "W-1")], {"W-1"}, 0, None, ["coordinators.telegram_ids: empty"]),
    ([y("J-1", None), y("J-2", None)], set(), 2, None,
     ["youths without a unit: J-1, J-2"]),
    ([y("J-1", "W-1"), y("J-2", "W-1"), y("J-3", "W-2")], {"W-2"}, 1, None,
     ["unit W-1 (youths J-1, J-2): no linked 24/7 crisis contact"]),
    ([], set(), 0, None, []),   # nobody enrolled yet: a warning, not a refusal
])
def test_check_routes(youths: list[YouthRoute], linked: set[str], coordinators: int,
                      default: str | None, problems: list[str]) -> None:
    result = check_routes(youths, frozenset(linked), coordinators, default)
    assert len(result.problems) == len(problems)
    for got, want in zip(result.problems, problems, strict=True):
        assert got.startswith(want)


def test_an_unlinked_therapist_is_a_warning_not_a_refusal() -> None:
    result = check_routes([y("J-1", "W-1", linked=False)], frozenset({"W-1"}), 1, None)
    assert result.problems == ()
    assert result.warnings == ("J-1: therapist T-02 has not linked Telegram; crisis alerts "
                               "reach the unit contact and coordinators only",)


def test_recipient_keys_round_trip_and_refuse_junk() -> None:
    assert Recipient.parse("unit:W-1") == Recipient("unit", "W-1")
    for junk in ("W-1", "nurse:x", "unit:"):
        with pytest.raises(ValueError, match="not a recipient key"):
            Recipient.parse(junk)


def test_talk_button_data_parses_strictly() -> None:
    ref = "A" * 16
    assert parse(talk_data(ref)) == TalkTap(ref)
    assert parse(f"w:{ref}x") is None and parse("w:short") is None
