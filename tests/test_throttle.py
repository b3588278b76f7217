"""Inbound limits: pure rules on an explicit clock, table-driven."""

from __future__ import annotations

import pytest

from core.throttle import InboundGate, InboundLimits, Verdict

H, D, S = Verdict.HANDLE, Verdict.DROP, Verdict.SLOW_DOWN
LIMITS = InboundLimits(burst=3, per_second=1.0, slow_down_every=60.0, stranger_every=300.0)


@pytest.mark.parametrize(("moments", "expected"), [
    ([0, 0, 0], [H, H, H]),                          # a burst
    ([0, 0, 0, 0, 0, 0], [H, H, H, S, D, D]),        # then one "slow down", then silence
    ([0, 0, 0, 0, 1, 1], [H, H, H, S, H, D]),        # one a second after the burst
    ([0, 0, 0, 0, 10, 10, 10, 10, 10], [H, H, H, S, H, H, H, D, D]),  # refilled; no 2nd
    ([0, 0, 0, 0, 61, 61, 61, 61], [H, H, H, S, H, H, H, S]),  # warned again after a minute
    ([0, 1, 2, 3, 4, 5, 6], [H, H, H, H, H, H, H]),  # a tap a second goes on forever
    ([0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], [H, H, H, H, H, S, H]),  # two a second: a while
])
def test_token_bucket(moments: list[float], expected: list[Verdict]) -> None:
    gate = InboundGate(LIMITS)
    assert [gate.admit(1, t) for t in moments] == expected


def test_people_are_limited_apart() -> None:
    gate = InboundGate(LIMITS)
    assert [gate.admit(1, 0) for _ in range(4)] == [H, H, H, S]
    assert gate.admit(2, 0) is H


@pytest.mark.parametrize(("moments", "expected"), [
    ([0, 1, 299], [True, False, False]),
    ([0, 300, 301], [True, True, False]),
])
def test_a_stranger_is_answered_once_per_few_minutes(moments: list[float],
                                                     expected: list[bool]) -> None:
    gate = InboundGate(LIMITS)
    assert [gate.answer_stranger(7, t) for t in moments] == expected


def test_an_answered_stranger_gets_no_slow_down_either() -> None:
    gate = InboundGate(LIMITS)
    assert gate.answer_stranger(7, 0)
    assert [gate.admit(7, 0) for _ in range(5)] == [H, H, H, D, D]


def test_idle_people_are_forgotten() -> None:
    gate = InboundGate(InboundLimits(max_tracked=10, forget_after=60.0))
    for person in range(20):
        gate.admit(person, 0)
    gate.admit(99, 100)
    assert gate.tracked == 1
