"""Alliance analytics on hand-made series, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.analytics import (
    Rule,
    SessionPoint,
    State,
    composite,
    detect_ruptures,
    discrepancy,
    flat_ceiling,
    missed_in_a_row,
    response_rate,
)

T0 = datetime(2026, 9, 1, 14, tzinfo=UTC)


def series(*values: float | str | None) -> list[SessionPoint]:
    """Composite values; 'm' is a missed session, 'w' one with everything withheld."""
    points = []
    for n, v in enumerate(values):
        when = T0 + timedelta(weeks=n)
        if v == "m":
            points.append(SessionPoint(when, State.MISSED))
        elif v == "w" or v is None:
            points.append(SessionPoint(when, State.WITHHELD,
                                       {"bond": None, "goal": None, "task": None}))
        else:
            assert isinstance(v, float)
            points.append(SessionPoint(when, State.ANSWERED,
                                       {"bond": v, "goal": v, "task": v}))
    return points


@pytest.mark.parametrize(("values", "expected"), [
    # steady: nothing
    ((0.75, 0.75, 0.75, 0.75, 0.75), []),
    # wobbling by one point each time: that is this youth's normal, nothing
    ((0.5, 0.75, 0.5, 0.75, 0.5, 0.75), []),
    # a one-point dip from a flat baseline: lenient, repaired
    ((0.75, 0.75, 0.75, 0.5, 0.75), [(3, Rule.LENIENT, 4)]),
    # V shape from a steady baseline: strict, repaired the session after
    ((0.75, 0.75, 0.75, 0.75, 0.25, 0.75), [(4, Rule.STRICT, 5)]),
    # a smaller drop against a wobbly baseline: lenient, not repaired
    ((0.5, 0.75, 0.5, 0.75, 0.5, 0.25, 0.25, 0.25), [(5, Rule.LENIENT, None)]),
    # too little history: no call yet
    ((0.75, 0.25), []),
    # rated excellent early, then any drop
    ((1.0, 1.0, 1.0, 0.9375, 1.0), [(3, Rule.EXCELLENT_EARLY, 4)]),
    # starting imperfect and improving: nothing
    ((0.25, 0.5, 0.5, 0.75, 0.75, 1.0), []),
    # missed and withheld sessions are skipped, not zeros
    ((0.75, "m", 0.75, "w", 0.75, 0.75), []),
])
def test_ruptures(values: tuple[float | str, ...],
                  expected: list[tuple[int, Rule, int | None]]) -> None:
    found = detect_ruptures(series(*values))
    assert [(r.index, r.rule, r.repaired_at) for r in found] == expected


@pytest.mark.parametrize(("scores", "expected"), [
    ({"bond": 1.0, "goal": 0.5, "task": 0.0}, 0.5),
    ({"bond": 1.0, "goal": None, "task": 0.5}, 0.75),
    ({"bond": None, "goal": None, "task": None}, None),
    ({"medium": 1.0}, None),
])
def test_composite(scores: dict[str, float | None], expected: float | None) -> None:
    assert composite(scores) == expected


def test_flat_ceiling_is_flagged() -> None:
    assert flat_ceiling(series(1.0, 1.0, 1.0, 1.0))
    assert not flat_ceiling(series(1.0, 1.0, 1.0))
    assert not flat_ceiling(series(1.0, 1.0, 0.75, 1.0))


@pytest.mark.parametrize(("values", "rate", "streak"), [
    ((0.5, "m", 0.5, "m", "m"), 0.4, 2),
    ((0.5, 0.5), 1.0, 0),
    (("m", "m", "m"), 0.0, 3),
    (("w", "m"), 0.5, 1),
])
def test_response_rate_and_missed_in_a_row(values: tuple[float | str, ...], rate: float,
                                           streak: int) -> None:
    points = series(*values)
    assert response_rate(points) == rate
    assert missed_in_a_row(points) == streak


def test_open_sessions_do_not_count_yet() -> None:
    points = [*series(0.5, "m"), SessionPoint(T0 + timedelta(weeks=9), State.OPEN)]
    assert response_rate(points) == 0.5 and missed_in_a_row(points) == 1


def test_discrepancy_per_dimension() -> None:
    points = [SessionPoint(T0, State.ANSWERED, {"bond": 1.0, "goal": 0.5, "task": None},
                           {"bond": 0.5, "goal": 0.75, "task": 0.5})]
    assert discrepancy(points) == {"bond": 0.5, "goal": -0.25, "task": None}
