"""Repaired after discussion (core.repair): a table of when a drop counts as recovered
after its alert was marked "Besproken", and the flag line it becomes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.analytics import detect_ruptures
from core.flags import flags
from core.repair import (
    DiscussedAlert,
    alert_repaired_after_discussion,
    repaired_after_discussion,
)
from tests.test_analytics import T0, bond_series

H = timedelta(hours=1)
WEEK = timedelta(weeks=1)
# bond 4, 4, 4, 1 (floor + breuk at session 3), then 4 again at session 4: repaired
DROP, BACK = T0 + 3 * WEEK, T0 + 4 * WEEK


def at(raised: datetime, discussed: datetime | None) -> DiscussedAlert:
    return DiscussedAlert(raised, discussed)


@pytest.mark.parametrize(("values", "alerts", "expected"), [
    # raised after the drop, discussed before the next session: repaired after discussion
    ((4, 4, 4, 1, 4), [at(DROP + H, DROP + 2 * H)], {3}),
    # discussed during or just after the repairing session (within a day): still counts
    ((4, 4, 4, 1, 4), [at(DROP + H, BACK + 3 * H)], {3}),
    # discussed long after the recovery: a plain repair, not one after discussion
    ((4, 4, 4, 1, 4), [at(DROP + H, BACK + 2 * WEEK)], set()),
    # seen but never discussed
    ((4, 4, 4, 1, 4), [at(DROP + H, None)], set()),
    # no alert at all
    ((4, 4, 4, 1, 4), [], set()),
    # an older alert (raised before this drop) is about something else
    ((4, 4, 4, 1, 4), [at(DROP - WEEK, DROP + H)], set()),
    # discussed, but no recovery (yet): not repaired
    ((4, 4, 4, 1, 1), [at(DROP + H, DROP + 2 * H)], set()),
    # a dip (one step) that recovered after its discussion counts too
    ((4, 4, 4, 3, 4), [at(DROP + H, DROP + 2 * H)], {3}),
])
def test_repaired_after_discussion(values: tuple[int, ...], alerts: list[DiscussedAlert],
                                   expected: set[int]) -> None:
    points = bond_series(*values)
    assert repaired_after_discussion(points, detect_ruptures(points), alerts) == expected


@pytest.mark.parametrize(("values", "alert", "expected"), [
    ((4, 4, 4, 1, 4), at(DROP + H, DROP + 2 * H), True),
    ((4, 4, 4, 1, 1), at(DROP + H, DROP + 2 * H), False),
    ((4, 4, 4, 1, 4), at(DROP + H, None), None),
])
def test_alert_outcome_for_the_export(values: tuple[int, ...], alert: DiscussedAlert,
                                      expected: bool | None) -> None:
    points = bond_series(*values)
    assert alert_repaired_after_discussion(points, detect_ruptures(points), alert) is expected


def test_the_flag_line_says_repaired_after_discussion() -> None:
    points = bond_series(4, 4, 4, 3, 4)
    ruptures = detect_ruptures(points)
    plain = flags(ruptures, 0, False, {}, "nl", 3)
    talked = flags(ruptures, 0, False, {}, "nl", 3, frozenset({3}))
    assert [f"{f.what} {f.todo}" for f in plain] == [
        "Band: hersteld na dip. Benoem samen wat hielp."]
    assert [f"{f.what} {f.todo}" for f in talked] == [
        "Band: hersteld na bespreking (dip). Het gesprek hielp; benoem samen wat werkte."]
    assert talked[0].kind == "repaired_discussed"
