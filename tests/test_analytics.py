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
    occurrence_state,
    own_variation,
    persistent_discrepancy,
    response_rate,
)
from core.flags import flags

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


def bond_series(*values: int | str, points: int = 5, others: int | None = None
                ) -> list[SessionPoint]:
    """Bond answers on a `points` scale (1..points); goal and task steady at `others`
    (default: the top answer but one). 'm' = missed, 'c' = cancelled, 'n' = not held."""
    def norm(v: int) -> float:
        return (v - 1) / (points - 1)
    rest = norm(others if others is not None else points - 1)
    out = []
    for n, v in enumerate(values):
        when = T0 + timedelta(weeks=n)
        if isinstance(v, str):
            out.append(SessionPoint(when, {"m": State.MISSED, "c": State.CANCELLED,
                                           "n": State.NOT_HELD}[v]))
        else:
            out.append(SessionPoint(when, State.ANSWERED,
                                    {"bond": norm(v), "goal": rest, "task": rest}, {}, points))
    return out


@pytest.mark.parametrize(("values", "points", "expected"), [
    # steady: nothing
    ((4, 4, 4, 4, 4), 5, set()),
    # wobbling by one step each time: this youth's normal, nothing
    ((3, 4, 3, 4, 3, 4), 5, set()),
    # one step down from a steady 4 on the 5-point scale: a dip, never a breuk; repaired
    ((4, 4, 4, 3, 4), 5, {(3, Rule.DIP, "bond", 4)}),
    # two steps down from a steady 4: a breuk (the mean moves a third of that: nothing)
    ((4, 4, 4, 4, 2, 4), 5, {(4, Rule.RUPTURE, "bond", 5)}),
    # bond to the lowest answer while goal and task stay: breuk AND floor (alerting)
    # (the mean falls one step: a dip there)
    ((4, 4, 4, 1), 5, {(3, Rule.RUPTURE, "bond", None), (3, Rule.FLOOR, "bond", None),
                       (3, Rule.DIP, "mean", None)}),
    # a wide swinger: a fall to 3 is within their own variation (Gumz): nothing
    ((5, 2, 5, 2, 5, 3), 5, set()),
    # the floor is called even without history
    ((1, 4), 5, {(0, Rule.FLOOR, "bond", 1)}),
    # 3-point scale: one step down from the top is a dip, top to bottom a breuk + floor
    ((3, 3, 3, 2, 3), 3, {(3, Rule.DIP, "bond", 4)}),
    ((3, 3, 3, 1), 3, {(3, Rule.RUPTURE, "bond", None), (3, Rule.FLOOR, "bond", None)}),
    # a slow slide, one step at a time over four sessions: drift (and the first dip)
    ((5, 5, 5, 4, 4, 3), 5, {(3, Rule.DIP, "bond", None), (5, Rule.DRIFT, "bond", None)}),
    # too little history for a dip: nothing
    ((4, 3), 5, set()),
    # missed, cancelled, not-held sessions are skipped, not zeros
    ((4, "m", 4, "c", 4, "n", 4), 5, set()),
    # starting imperfect and improving: nothing
    ((2, 3, 3, 4, 4, 5), 5, set()),
])
def test_ruptures_per_dimension(values: tuple[int | str, ...], points: int,
                                expected: set[tuple[int, Rule, str, int | None]]) -> None:
    found = detect_ruptures(bond_series(*values, points=points))
    assert {(r.index, r.rule, r.dimension, r.repaired_at) for r in found} == expected


def test_excellent_early_then_any_drop() -> None:
    found = detect_ruptures(series(1.0, 1.0, 1.0, 0.75, 1.0))
    assert (3, 4) in {(r.index, r.repaired_at) for r in found
                      if r.rule is Rule.EXCELLENT_EARLY}


@pytest.mark.parametrize(("history", "points", "expected"), [
    ([0.75, 0.75, 0.75], 5, 0.125),            # steady: the floor, half a step
    ([0.75, 0.75, 0.75], 3, 0.25),             # half a step on the 3-point scale
    ([0.25, 1.0, 0.25, 1.0], 5, 0.75),         # SD of +0.75, -0.75, +0.75 = 0.707..
    ([0.5, 0.75], 5, 0.125),                   # one difference: no SD yet, the floor
])
def test_own_variation(history: list[float], points: int, expected: float) -> None:
    assert own_variation(history, points) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(("kw", "state"), [
    ({"delivery": "sent"}, State.MISSED),
    ({"delivery": "sent", "answers": {"task": "3"}}, State.PARTIAL),
    ({"delivery": "sent", "answers": {"task": "3", "bond": "4"}, "complete": True},
     State.ANSWERED),
    ({"delivery": "sent", "answers": {"task": "x", "bond": "x"}}, State.WITHHELD),
    ({"delivery": "cancelled", "reason": "session cancelled"}, State.CANCELLED),
    ({"delivery": "cancelled", "reason": "series paused"}, State.PAUSED),
    ({"delivery": "expired", "reason": "no phone window before expiry"}, State.UNDELIVERED),
    ({"delivery": "blocked"}, State.UNDELIVERED),
    ({"delivery": "failed"}, State.UNDELIVERED),
    ({"delivery": "sent", "not_held": True}, State.NOT_HELD),
    ({"delivery": "sent", "not_held": True, "answers": {"task": "3"}}, State.NOT_HELD),
    ({"delivery": None}, State.MISSED),            # a manual check-in, left unanswered
    ({"delivery": "sent", "open": True}, State.OPEN),
    ({"delivery": "pending", "open": True}, State.OPEN),
    ({"delivery": "cancelled", "open": True}, State.CANCELLED),
])
def test_one_state_rule(kw: dict[str, object], state: State) -> None:
    now = T0 + timedelta(days=2)
    expires = now + timedelta(hours=1) if kw.pop("open", False) else now
    args: dict[str, object] = {"reason": None, "not_held": False, "answers": {},
                               "complete": False, **kw}
    assert occurrence_state(expires_at=expires, now=now, **args) is state  # type: ignore[arg-type]


def test_partial_counts_as_answered_and_uncounted_states_never_break_a_streak() -> None:
    points = [SessionPoint(T0, State.PARTIAL, {"task": 0.5}), *bond_series("m", "c", "m")]
    assert response_rate(points) == pytest.approx(1 / 3) and missed_in_a_row(points) == 2
    assert response_rate(bond_series("c", "n")) is None


def test_persistent_discrepancy_needs_three_sessions_the_same_way() -> None:
    def pt(y: float, t: float) -> SessionPoint:
        return SessionPoint(T0, State.ANSWERED, {"bond": y}, {"bond": t})
    assert persistent_discrepancy([pt(1.0, 0.5)] * 3) == {"bond": 0.5}
    assert persistent_discrepancy([pt(1.0, 0.5)] * 2) == {}
    assert persistent_discrepancy([pt(1.0, 0.5), pt(0.5, 1.0), pt(1.0, 0.5)]) == {}
    assert persistent_discrepancy([pt(1.0, 0.75)] * 3) == {}


@pytest.mark.parametrize(("values", "lines"), [
    ((4, 4, 4, 1), ["Band: het laagste antwoord. Bespreek het in de volgende sessie.",
                    "Band: breuk, veel lager dan gewoonlijk. Bespreek het in de volgende "
                    "sessie.", "Alles samen: dip, iets lager dan gewoonlijk. Vraag er kort naar."]),
    ((4, 4, 4, 3, 4), ["Band: hersteld na dip. Benoem samen wat hielp."]),
    ((4, 4, "m", "m", "m"), ["3 check-ins op rij gemist. Vraag hoe het gaat."]),
])
def test_every_flag_is_one_plain_line(values: tuple[int | str, ...], lines: list[str]) -> None:
    points = bond_series(*values)
    found = flags(detect_ruptures(points), missed_in_a_row(points), False, {}, "nl", 3)
    assert [f"{f.what} {f.todo}" for f in found] == lines


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
    assert discrepancy(points) == {"bond": 0.5, "goal": -0.25, "task": None, "medium": None}
